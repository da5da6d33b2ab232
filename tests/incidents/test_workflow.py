"""The transition table, exhaustively: every status × every transition × every role.

The expected answer of each case is worked out here from the table
(``incidents.workflow.TRANSITIONS``) and from what each persona holds over the
incident, written down independently of the scoping code:

* not seen at all → ``NotFoundError`` (404, exactly like a missing incident);
* seen, but the transition needs an action the persona does not hold →
  ``PermissionDeniedError`` (403);
* held, but the incident's status is not a source of the transition →
  ``TransitionNotAllowed`` (409);
* allowed, but a required reason is missing → ``InvalidInput`` (400);
* allowed → the status the table names, the version bumped, and exactly one
  timeline event with the actor and the note.

The city, the personas and one incident per status are built once for the
module (by the services themselves, so each incident is exactly as a real
history leaves it); every case runs in its own savepoint and is rolled back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.access.models import Role
from governance.core.errors import InvalidInput, NotFoundError, PermissionDeniedError, TransitionNotAllowed
from governance.core.scoping import Action
from grids.models import Level
from incidents import services
from incidents.management.commands.load_categories import load_categories
from incidents.models import Category, Incident, Status, waiting_deadline
from incidents.workflow import TRANSITIONS, Clock
from tests.factories import build_city, build_personas, make_user, point

NOTE = "现场核实情况属实"

# What each persona holds over the incident (filed in grid G1111, held by community C111).
# "unit_handler" holds its actions only once the incident was dispatched to its unit.
ROLES = [
    "grid_worker",  # the worker of grid G1111
    "command_staff",  # command centre of community C111, which holds the incident
    "outsider",  # command centre of the neighbour street S12
    "supervisor",  # district D1, read-only
    "unit_handler",  # the district police bureau the incident is dispatched to
    "other_unit_handler",  # the neighbour district's police bureau
    "nobody",  # logged in, no role
]
HOLDS: dict[str, frozenset[str]] = {
    "grid_worker": frozenset({Action.VIEW, Action.REPORT}),
    "command_staff": frozenset({Action.VIEW, Action.REPORT, Action.TRIAGE}),
    "outsider": frozenset(),
    "supervisor": frozenset({Action.VIEW}),
    "unit_handler": frozenset({Action.VIEW, Action.HANDLE}),
    "other_unit_handler": frozenset(),
    "nobody": frozenset(),
}
# The statuses whose incident (as built below) was dispatched to the district police bureau.
WITH_UNIT = frozenset({Status.DISPATCHED, Status.HANDLED, Status.CLOSED, Status.PARKED})


def holds(role: str, status: str) -> frozenset[str]:
    if role == "unit_handler" and status not in WITH_UNIT:
        return frozenset()
    return HOLDS[role]


@dataclass(frozen=True)
class Expected:
    error: type[Exception] | None  # None: allowed
    status: str | None = None  # the status after an allowed transition


def expected(status: str, name: str, role: str) -> Expected:
    transition = TRANSITIONS[name]
    held = holds(role, status)
    if Action.VIEW not in held:
        return Expected(NotFoundError)
    if transition.action not in held:
        return Expected(PermissionDeniedError)
    if status not in transition.sources:
        return Expected(TransitionNotAllowed)
    if transition.target is not None:
        return Expected(None, transition.target)
    if name == "report_back":
        return Expected(None, Status.HANDLED)  # the lead unit is the only unit: its report completes the handling
    return Expected(None, status)  # escalate: same status, one level up


@dataclass
class World:
    city: object
    people: object
    roles: dict[str, object]
    incident_pk: dict[str, int]
    merge_target_pk: int


def _build_world() -> World:
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
    load_categories(rows["categories"])
    noise = Category.objects.get(name="噪音扰民")  # closable on the spot, so the table alone decides
    c = build_city()
    p = build_personas(c)
    roles = {
        "grid_worker": p.worker_g1111,
        "command_staff": make_user("c111_command", role=Role.COMMAND_STAFF, region=c.c111),
        "outsider": p.s12_command,
        "supervisor": p.d1_supervisor,
        "unit_handler": p.d1_police_handler,
        "other_unit_handler": make_user("d2_police_handler", role=Role.UNIT_HANDLER, unit=c.unit_d2_police),
        "nobody": p.nobody,
    }
    worker, command, handler = roles["grid_worker"], roles["command_staff"], roles["unit_handler"]
    lat, lng = point(1, 2)

    def filed(title: str) -> Incident:
        return services.incident_file(reporter=worker, category=noise, title=title, lat=lat, lng=lng).incident

    def accepted(title: str) -> Incident:
        return services.incident_accept(incident=filed(title), actor=command)

    def dispatched(title: str) -> Incident:
        return services.incident_dispatch(incident=accepted(title), actor=command, unit=c.unit_d1_police)

    def handled(title: str) -> Incident:
        return services.incident_report_back(incident=dispatched(title), actor=handler, note="已处置")

    merge_target = filed("合并目标")
    built = {
        Status.REPORTED: filed("待受理"),
        Status.ACCEPTED: accepted("已受理"),
        Status.DISPATCHED: dispatched("已分拨"),
        Status.HANDLED: handled("已反馈"),
        Status.CLOSED: services.incident_verify(incident=handled("已办结"), actor=command, passed=True),
        Status.RETURNED: services.incident_return(incident=filed("已退回"), actor=command, note="信息不全"),
        Status.PARKED: services.incident_park(incident=dispatched("已挂账"), actor=command, note="需协调",
                                              review_on=timezone.localdate() + timedelta(days=60)),
        Status.VOIDED: services.incident_void(incident=filed("已作废"), actor=command, note="非事件"),
        Status.MERGED: services.incident_merge(incident=filed("已合并"), actor=command, into=merge_target),
    }
    assert {i.status for i in built.values()} == set(Status.values), "every status has its incident"
    return World(c, p, roles, {status: i.pk for status, i in built.items()}, merge_target.pk)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once per module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _call(name: str, world: World, incident: Incident, actor, note: str):
    c = world.city
    if name == "accept":
        return services.incident_accept(incident=incident, actor=actor, note=note)
    if name == "dispatch":
        return services.incident_dispatch(incident=incident, actor=actor, unit=c.unit_city_urban, note=note)
    if name == "reassign":
        return services.incident_reassign(incident=incident, actor=actor, unit=c.unit_city_urban, note=note)
    if name == "report_back":
        return services.incident_report_back(incident=incident, actor=actor, note=note)
    if name == "unit_return":
        return services.incident_unit_return(incident=incident, actor=actor, note=note)
    if name in {"verify_pass", "verify_fail"}:
        return services.incident_verify(incident=incident, actor=actor, passed=name == "verify_pass", note=note,
                                        satisfaction=5 if name == "verify_pass" else None)
    if name == "close_on_spot":
        return services.incident_close_on_spot(incident=incident, actor=actor, note=note, satisfaction=4)
    if name == "park":
        return services.incident_park(incident=incident, actor=actor, note=note,
                                      review_on=timezone.localdate() + timedelta(days=30))
    if name == "escalate":
        return services.incident_escalate(incident=incident, actor=actor, note=note)
    if name == "merge":
        return services.incident_merge(incident=incident, actor=actor, note=note,
                                       into=Incident.objects.get(pk=world.merge_target_pk))
    simple = {"return": services.incident_return, "resubmit": services.incident_resubmit,
              "void": services.incident_void, "unpark": services.incident_unpark}
    return simple[name](incident=incident, actor=actor, note=note)


def test_every_transition_has_a_case_and_every_status_an_incident():
    assert set(TRANSITIONS) == {
        "accept", "dispatch", "report_back", "unit_return", "verify_pass", "verify_fail", "close_on_spot", "return",
        "resubmit", "escalate", "reassign", "void", "park", "unpark", "merge",
    }, "a new transition needs its call in _call() and its expectations here"


CASES = [(status, name, role) for status in Status.values for name in TRANSITIONS for role in ROLES]


@pytest.mark.parametrize(("status", "name", "role"), CASES, ids=["-".join(case) for case in CASES])
def test_transition_is_allowed_or_refused_as_the_table_says(world, db, status, name, role):
    incident = Incident.objects.get(pk=world.incident_pk[status])
    actor = world.roles[role]
    transition = TRANSITIONS[name]
    want = expected(status, name, role)
    before_version, before_events = incident.version, incident.events.count()
    last_event_pk = incident.events.order_by("-pk").values_list("pk", flat=True).first()

    def assert_unchanged():
        fresh = Incident.objects.get(pk=incident.pk)
        assert (fresh.status, fresh.version, fresh.events.count()) == (status, before_version, before_events)

    if want.error is not None:
        with pytest.raises(want.error) as caught:
            _call(name, world, incident, actor, NOTE)
        message = str(caught.value)
        if want.error is NotFoundError:
            assert caught.value.status_code == 404
            assert incident.number not in message, "a hidden incident must not be named"
        elif want.error is PermissionDeniedError:
            assert caught.value.status_code == 403
            assert incident.number in message and str(transition.label) in message
        else:
            assert caught.value.status_code == 409
            assert incident.number in message and incident.get_status_display() in message
        assert_unchanged()
        return

    if transition.needs_note:
        with pytest.raises(InvalidInput) as caught:
            _call(name, world, incident, actor, "  ")
        assert caught.value.status_code == 400 and "note" in caught.value.field_errors
        assert_unchanged()

    result = _call(name, world, incident, actor, NOTE)

    fresh = Incident.objects.get(pk=incident.pk)
    assert result.pk == incident.pk
    assert fresh.status == want.status
    assert fresh.version == before_version + 1
    new_events = list(fresh.events.filter(pk__gt=last_event_pk))
    assert len(new_events) == 1, f"one timeline event per transition, got {[e.action for e in new_events]}"
    event = new_events[0]
    assert (event.action, event.actor, event.note) == (name, actor, NOTE)
    assert (event.from_status, event.to_status) == (status, want.status)
    _assert_effects(name, world, fresh, before_level=incident.responsible_level)
    _assert_clock(transition.clock, incident, fresh, event)


DEADLINE_FIELDS = ("accept_due_at", "accept_warn_at", "handle_due_at", "handle_warn_at", "handle_days_left")


def _assert_clock(clock: str, before: Incident, after: Incident, event) -> None:
    """The deadline moved exactly as the transition's clock says, and the timeline records it."""
    record = event.data.get("deadline")
    unchanged = {f: getattr(before, f) for f in DEADLINE_FIELDS} == {f: getattr(after, f) for f in DEADLINE_FIELDS}
    if clock in {Clock.RUN, Clock.STOP}:
        assert record is None and unchanged
        if clock == Clock.STOP:
            assert waiting_deadline(after.status, after.accept_due_at, after.handle_due_at) is None
        return
    assert record["clock"] == clock
    if clock == Clock.PAUSE:
        assert (after.handle_due_at, after.handle_warn_at) == (None, None)
        assert after.handle_days_left == record["days_left"] is not None
        return
    step = "accept" if after.status == Status.REPORTED else "handle"
    due, warn = getattr(after, f"{step}_due_at"), getattr(after, f"{step}_warn_at")
    assert record["step"] == step and after.handle_days_left is None
    assert (due, warn) == (datetime.fromisoformat(record["due_at"]), datetime.fromisoformat(record["warn_at"]))
    assert event.at <= warn < due


def _assert_effects(name: str, world: World, incident: Incident, *, before_level: int) -> None:
    """What each transition leaves on the incident besides its status."""
    c = world.city
    if name in {"dispatch", "reassign"}:
        assert incident.lead_unit == c.unit_city_urban
        active = incident.unit_tasks.filter(withdrawn_at__isnull=True)
        assert [t.unit for t in active] == [c.unit_city_urban]
    elif name == "unit_return":
        assert incident.lead_unit is None
        assert not incident.unit_tasks.filter(withdrawn_at__isnull=True).exists()
    elif name == "escalate":
        assert incident.responsible_level == before_level - 1 == Level.STREET
        assert incident.responsible_region == c.s11 and incident.escalation_count == 1
    elif name in {"verify_pass", "close_on_spot"}:
        assert incident.closed_at is not None and incident.satisfaction in {4, 5}
    elif name == "report_back":
        assert incident.handled_at is not None
    elif name == "park":
        assert incident.parked_until is not None
    elif name == "merge":
        target = Incident.objects.get(pk=world.merge_target_pk)
        assert incident.duplicate_of == target
        merged_in = [e for e in target.events.filter(action="merged_in") if e.data["duplicate"] == incident.pk]
        assert [e.data["duplicate_number"] for e in merged_in] == [incident.number], "the target records it too"


def test_the_table_refuses_most_cases_and_allows_each_transition_from_each_source(world, db):
    """A guard on the oracle itself: every (source, transition) pair has someone who may do it."""
    allowed = {(s, n) for s, n, r in CASES if expected(s, n, r).error is None}
    assert allowed == {(s, t.name) for t in TRANSITIONS.values() for s in t.sources}


# --- Rules beyond the table ---------------------------------------------------


def test_category_not_closable_on_the_spot_refuses_close_on_spot(world, db):
    road = Category.objects.get(name="道路破损")
    lat, lng = point(1, 2)
    incident = services.incident_file(reporter=world.roles["grid_worker"], category=road, title="路面坑洼",
                                      lat=lat, lng=lng).incident
    with pytest.raises(TransitionNotAllowed, match="道路破损"):
        services.incident_close_on_spot(incident=incident, actor=world.roles["grid_worker"])
    assert Incident.objects.get(pk=incident.pk).status == Status.REPORTED


def test_report_back_needs_a_description_of_the_handling(world, db):
    incident = Incident.objects.get(pk=world.incident_pk[Status.DISPATCHED])
    with pytest.raises(InvalidInput) as caught:
        services.incident_report_back(incident=incident, actor=world.roles["unit_handler"], note="")
    assert "note" in caught.value.field_errors
    assert Incident.objects.get(pk=incident.pk).status == Status.DISPATCHED


def test_unit_reassigned_away_can_no_longer_handle_or_send_back(world, db):
    incident = Incident.objects.get(pk=world.incident_pk[Status.DISPATCHED])
    services.incident_reassign(incident=incident, actor=world.roles["command_staff"], unit=world.city.unit_city_urban)
    former = world.roles["unit_handler"]
    for call in (lambda: services.incident_unit_return(incident=incident, actor=former, note="不属于我单位"),
                 lambda: services.incident_report_back(incident=incident, actor=former, note="已处理")):
        with pytest.raises(PermissionDeniedError, match=incident.number):
            call()
    assert Incident.objects.restrict(former).filter(pk=incident.pk).exists(), "it still sees what it worked on"
    fresh = Incident.objects.get(pk=incident.pk)
    assert (fresh.status, fresh.lead_unit) == (Status.DISPATCHED, world.city.unit_city_urban)


def test_co_handled_incident_is_handled_once_every_unit_reported_back(world, db):
    c = world.city
    command = world.roles["command_staff"]
    urban_handler = make_user("urban_handler", role=Role.UNIT_HANDLER, unit=c.unit_city_urban)
    incident = Incident.objects.get(pk=world.incident_pk[Status.ACCEPTED])
    services.incident_dispatch(incident=incident, actor=command, unit=c.unit_d1_police,
                               assisting_units=[c.unit_city_urban])
    services.incident_report_back(incident=incident, actor=world.roles["unit_handler"], note="主办已处置")
    assert Incident.objects.get(pk=incident.pk).status == Status.DISPATCHED, "the assisting unit has not reported"
    with pytest.raises(TransitionNotAllowed, match=incident.number):
        services.incident_report_back(incident=incident, actor=world.roles["unit_handler"], note="再次反馈")
    services.incident_report_back(incident=incident, actor=urban_handler, note="协办已处置")
    fresh = Incident.objects.get(pk=incident.pk)
    assert fresh.status == Status.HANDLED and fresh.handled_at is not None
    assert list(fresh.events.filter(action="report_back").values_list("to_status", flat=True)) == [
        Status.DISPATCHED, Status.HANDLED]


def test_escalated_incident_is_triaged_by_the_level_above_not_the_community(world, db):
    command = world.roles["command_staff"]
    incident = Incident.objects.get(pk=world.incident_pk[Status.REPORTED])
    services.incident_escalate(incident=incident, actor=command, note="社区无法处置")
    with pytest.raises(PermissionDeniedError):
        services.incident_accept(incident=incident, actor=command)
    accepted = services.incident_accept(incident=incident, actor=world.people.s11_command)
    assert (accepted.status, accepted.responsible_region) == (Status.ACCEPTED, world.city.s11)


def test_city_held_incident_cannot_be_escalated_further(world, db):
    incident = Incident.objects.get(pk=world.incident_pk[Status.REPORTED])
    admin = world.people.city_admin
    for _level in (Level.STREET, Level.DISTRICT, Level.CITY):
        services.incident_escalate(incident=incident, actor=admin, note="升级")
    with pytest.raises(TransitionNotAllowed, match=incident.number):
        services.incident_escalate(incident=incident, actor=admin, note="再升级")
    assert Incident.objects.get(pk=incident.pk).responsible_level == Level.CITY


def test_stale_version_is_a_conflict_and_changes_nothing(world, db):
    from governance.core.errors import ConflictError

    incident = Incident.objects.get(pk=world.incident_pk[Status.REPORTED])
    with pytest.raises(ConflictError, match=incident.number):
        services.incident_accept(incident=incident, actor=world.roles["command_staff"],
                                 expected_version=incident.version + 1)
    assert Incident.objects.get(pk=incident.pk).status == Status.REPORTED
