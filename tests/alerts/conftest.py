from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.alerts.models import Alert
from governance.alerts.sweep import run_sweep
from incidents.models import Event
from tests.incidents.conftest import categories, file_incident, road  # noqa: F401  (shared fixtures)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday in an ordinary week (no holiday near): 10:00 Beijing time.
T0 = datetime(2025, 3, 12, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.ALERT_ESCALATION_GRACE_MINUTES = 120


@pytest.fixture
def sweep():
    def run(at: datetime):
        return run_sweep(now=at)

    return run


@pytest.fixture
def reported(file_incident):  # noqa: F811
    """An incident of 道路破损 (accept within 4 hours) filed at T0 in grid G1111."""
    return file_incident(now=T0)


def open_alerts(incident) -> set[tuple[str, str]]:
    return set(Alert.objects.open().filter(subject_type="incident", subject_id=incident.pk)
               .values_list("kind", "step"))


def snapshot() -> dict:
    """Everything a sweep writes, in a comparable form."""
    from incidents.models import Incident

    return {
        "alerts": sorted(Alert.objects.values_list("subject_id", "kind", "step", "severity", "due_at", "raised_at",
                                                   "resolved_at")),
        "events": sorted(Event.objects.values_list("incident_id", "action", "at", "note")),
        "incidents": sorted(Incident.objects.values_list("pk", "responsible_region_id", "responsible_level",
                                                         "escalation_count", "accept_due_at", "handle_due_at",
                                                         "version")),
    }


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# A red alert: 道路破损 may wait 4 hours for acceptance; this is one minute past.
OVERDUE = T0 + minutes(4 * 60 + 1)


@pytest.fixture
def alert(reported, sweep):
    """A red alert on an incident of grid G1111 (district D1), addressed to community C111's command centre."""
    sweep(OVERDUE)
    return Alert.objects.get(subject_id=reported.pk, kind="overdue")
