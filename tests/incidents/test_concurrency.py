"""Two people acting on the same incident at the same moment, on PostgreSQL's real row locks.

SQLite serialises whole transactions, so the race is only meaningful on
PostgreSQL; ``.ci/run`` runs these with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from governance.access.models import Role
from governance.core.errors import ConflictError, TransitionNotAllowed
from incidents import services
from incidents.models import Event, Incident, Status, UnitTask
from tests.factories import make_user, point

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL; runs in .ci/run"),
]


def race(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run the calls at the same instant in threads of their own; ("ok", result) or ("error", exception) each."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, object] | None] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = ("ok", call())
        except Exception as exc:  # the loser's error is the point of the test
            outcomes[i] = ("error", exc)
        finally:
            connection.close()  # each thread has its own connection; leave none open on the test database

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not t.is_alive() for t in threads), "a racer hung: a lock was never released"
    return outcomes  # type: ignore[return-value]


@pytest.fixture
def accepted(transactional_db, city, people, road):
    lat, lng = point(1, 2)
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                      lng=lng).incident
    return services.incident_accept(incident=incident, actor=people.s11_command)


def test_two_simultaneous_dispatches_one_wins_and_the_other_is_told(city, people, accepted):
    colleague = make_user("s11_command_2", role=Role.COMMAND_STAFF, region=city.s11)
    version = accepted.version

    def dispatch(actor_pk: int, unit):
        from django.contrib.auth import get_user_model

        actor = get_user_model().objects.get(pk=actor_pk)  # a user object of the thread's own
        return services.incident_dispatch(incident=accepted.pk, actor=actor, unit=unit, expected_version=version)

    outcomes = race(lambda: dispatch(people.s11_command.pk, city.unit_d1_police),
                    lambda: dispatch(colleague.pk, city.unit_city_urban))

    winners = [i for i, (kind, _value) in enumerate(outcomes) if kind == "ok"]
    losers = [value for kind, value in outcomes if kind == "error"]
    assert len(winners) == 1, f"exactly one dispatch wins: {outcomes}"
    assert len(losers) == 1 and isinstance(losers[0], ConflictError | TransitionNotAllowed), outcomes
    assert losers[0].status_code == 409 and accepted.number in str(losers[0])

    incident = Incident.objects.get(pk=accepted.pk)
    winner_unit = [city.unit_d1_police, city.unit_city_urban][winners[0]]
    assert incident.status == Status.DISPATCHED and incident.version == version + 1
    assert incident.lead_unit == winner_unit
    assert Event.objects.filter(incident=incident, action="dispatch").count() == 1
    assert list(UnitTask.objects.filter(incident=incident).values_list("unit", flat=True)) == [winner_unit.pk]


def test_two_simultaneous_dispatches_without_a_version_still_dispatch_once(city, people, accepted):
    outcomes = race(
        lambda: services.incident_dispatch(incident=accepted.pk, actor=people.s11_command, unit=city.unit_d1_police),
        lambda: services.incident_dispatch(incident=accepted.pk, actor=people.d1_command, unit=city.unit_city_urban),
    )
    kinds = sorted(kind for kind, _value in outcomes)
    assert kinds == ["error", "ok"], outcomes
    assert isinstance(next(v for k, v in outcomes if k == "error"), TransitionNotAllowed)
    assert Event.objects.filter(incident_id=accepted.pk, action="dispatch").count() == 1


def test_the_same_filing_retried_at_the_same_moment_files_one_incident(transactional_db, people, road):
    lat, lng = point(1, 2)

    def file():
        return services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                      lng=lng, idempotency_key="retry-4711")

    outcomes = race(file, file, file)

    assert [kind for kind, _value in outcomes] == ["ok", "ok", "ok"], outcomes
    filings = [value for _kind, value in outcomes]
    assert len({f.incident.pk for f in filings}) == 1
    assert sorted(f.created for f in filings) == [False, False, True]
    assert Incident.objects.count() == 1
    assert Event.objects.filter(action="report").count() == 1


def test_simultaneous_filings_get_distinct_numbers(transactional_db, city, people, road):
    lat, lng = point(1, 2)

    def file():
        return services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat,
                                      lng=lng).incident.number

    outcomes = race(*[file] * 6)

    numbers = [value for kind, value in outcomes if kind == "ok"]
    assert len(numbers) == 6, outcomes
    assert len(set(numbers)) == 6


def test_an_accept_that_waited_for_an_escalation_of_the_same_incident_accepts_it(city, people, accepted):
    """The row lock's recheck met a new responsible region: the incident was answered "not found"."""
    reported = services.incident_file(reporter=people.worker_g1111, category=accepted.category, title="井盖缺失",
                                      lat=accepted.lat, lng=accepted.lng).incident
    escalated, release, outcome = threading.Event(), threading.Event(), {}

    def escalate_and_hold():
        from django.db import transaction

        try:
            with transaction.atomic():
                services.incident_escalate(incident=reported.pk, actor=people.s11_command, note="社区协调不了")
                escalated.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def accept():
        try:
            outcome["result"] = services.incident_accept(incident=reported.pk, actor=people.d1_command)
        except Exception as exc:  # the point of the test
            outcome["error"] = exc
        finally:
            connection.close()

    holder, acceptor = threading.Thread(target=escalate_and_hold), threading.Thread(target=accept)
    holder.start()
    assert escalated.wait(timeout=10)
    acceptor.start()
    with connection.cursor() as cursor:  # the accept waits for the escalation's row lock
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.1)
    release.set()
    holder.join(timeout=30)
    acceptor.join(timeout=30)
    assert "error" not in outcome, outcome
    fresh = Incident.objects.get(pk=reported.pk)
    assert (fresh.status, fresh.responsible_region, fresh.escalation_count) == (Status.ACCEPTED, city.s11, 1)
