"""A small incident world in the test city: incidents in every state in the west district D1,
and some in the east district D2 that the west's staff must never see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.alerts.models import Alert, AlertKind, AlertSeverity
from grids.models import Region
from incidents import services
from incidents.models import Incident
from tests.factories import point
from tests.incidents.conftest import categories, fire_exit, noise, road  # noqa: F401  (fixtures)


@dataclass
class World:
    d1: list[Incident]
    d2: list[Incident]
    reported: Incident  # D1, waiting for acceptance
    overdue: Incident  # D1, filed three days ago and never accepted
    dispatched: Incident
    closed_on_spot: Incident
    closed_late: Incident
    east: Incident  # D2
    alert_d1: Alert
    alert_d2: Alert


def _file(reporter, category, at, *, title="路面塌陷", now=None, **kwargs) -> Incident:
    lat, lng = point(*at)
    return services.incident_file(reporter=reporter, category=category, title=title, lat=lat, lng=lng, now=now,
                                  **kwargs).incident


def _alert(incident: Incident, severity=AlertSeverity.RED) -> Alert:
    return Alert.objects.create(subject_type="incident", subject_id=incident.pk, subject_label=incident.number,
                                kind=AlertKind.OVERDUE, severity=severity, region=incident.grid,
                                owner_region=incident.responsible_region, title=f"{incident.number} overdue",
                                raised_at=timezone.now())


@pytest.fixture
def world(city, people, road, noise, fire_exit) -> World:  # noqa: F811
    admin = people.city_admin
    now = timezone.now()
    reported = _file(people.worker_g1111, road, (1, 2), reporter_name="张三", reporter_phone="13812345678")
    overdue = _file(people.worker_g1111, fire_exit, (1.5, 1), now=now - timedelta(days=3), title="消防通道堵塞")
    dispatched = _file(admin, road, (3, 2))
    services.incident_accept(incident=dispatched, actor=people.d1_command)
    services.incident_dispatch(incident=dispatched, actor=people.d1_command, unit=city.unit_d1_police)
    closed_on_spot = _file(people.worker_g1111, noise, (0.5, 3), title="噪音扰民")
    services.incident_close_on_spot(incident=closed_on_spot, actor=people.worker_g1111)
    # filed 20 days ago, closed yesterday: long past its handling deadline
    late_at = now - timedelta(days=20)
    closed_late = _file(admin, road, (2, 6), now=late_at, title="井盖缺失")
    services.incident_accept(incident=closed_late, actor=people.d1_command, now=late_at + timedelta(hours=1))
    services.incident_dispatch(incident=closed_late, actor=people.d1_command, unit=city.unit_d1_police,
                               now=late_at + timedelta(hours=2))
    services.incident_report_back(incident=closed_late, actor=people.d1_police_handler, note="已修复",
                                  now=now - timedelta(days=1, hours=2))
    services.incident_verify(incident=closed_late, actor=people.d1_command, passed=True,
                             now=now - timedelta(days=1))
    east = _file(admin, road, (6, 4), title="东区路面", reporter_phone="13900001111")
    east2 = _file(admin, fire_exit, (7, 1), now=now - timedelta(days=3), title="东区消防")
    d1 = [reported, overdue, dispatched, closed_on_spot, closed_late]
    return World(
        d1=[Incident.objects.get(pk=i.pk) for i in d1], d2=[east, east2], reported=reported, overdue=overdue,
        dispatched=dispatched, closed_on_spot=closed_on_spot, closed_late=closed_late, east=east,
        alert_d1=_alert(overdue), alert_d2=_alert(east2),
    )


def in_region(region: Region):
    return Incident.objects.filter(grid__path__startswith=region.path)
