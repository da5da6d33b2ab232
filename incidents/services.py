"""Every write to an incident: one function per user action.

Each function is atomic, checks the actor's scope and the incident's state
against the transition table (``incidents.workflow``), bumps the version, and
writes its timeline event in the same transaction. Views, the API and Celery
tasks call these; none of them saves an incident itself.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access.models import Unit
from governance.core import files
from governance.core.authority import actor_or_none, may
from governance.core.errors import (
    ConflictError,
    DomainError,
    InvalidInput,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowed,
)
from governance.core.files import atomic_with_files
from governance.core.scoping import Action, Principal, get_scope
from governance.core.text import clean_text
from grids.geometry import EARTH_RADIUS_M
from grids.locate import locate_home
from grids.models import Level, Region, parent_path
from incidents import deadlines
from incidents.attachments import clean_images
from incidents.models import (
    OPEN_STATUSES,
    Attachment,
    Category,
    DailyCounter,
    Event,
    Incident,
    Severity,
    Source,
    Status,
    UnitTask,
    escalation_target_path,
)
from incidents.workflow import TRANSITIONS, Clock, Transition

MAX_PHOTOS = 9


@dataclass(frozen=True)
class Filing:
    incident: Incident
    created: bool  # False when the same submission was retried (idempotency key)
    # What this filing wrote besides the incident (None and empty for a retry).
    event: Event | None = None
    attachments: tuple[Attachment, ...] = ()


# --- Filing -----------------------------------------------------------------

def next_number(day: date) -> str:
    """The next human-readable number of the day, e.g. ``SJ20261123-000042``.

    One counter row per day, created or bumped by a single upsert
    (``INSERT … ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last``,
    on PostgreSQL and SQLite alike). ``incident_file`` takes the number before
    its own transaction, in a short transaction of its own, so the row lock every
    filing of the day needs lasts one statement, not a whole filing (at a few
    hundred filings a second that lock was the queue): numbers never repeat, and a filing that fails
    afterwards leaves a gap, which is harmless. Inside a caller's transaction the
    lock lasts until that commits.
    """
    table = connection.ops.quote_name(DailyCounter._meta.db_table)
    upsert = (f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
              f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last")
    if not connection.in_atomic_block and connection.vendor == "postgresql":
        # One round trip, in autocommit: the two statements of one query string are one implicit
        # transaction. No WAL flush for its commit: the filing's commit that uses the number comes
        # later in the WAL and flushes it too. A crash in between loses only a number nobody used.
        upsert = "SET LOCAL synchronous_commit TO OFF; " + upsert
    with connection.cursor() as cursor:  # autocommit outside a transaction: one statement, its own
        cursor.execute(upsert, [day])
        (last,) = cursor.fetchone()
    return f"SJ{day:%Y%m%d}-{last:06d}"


def incident_file(
    *,
    reporter,
    category: Category,
    title: str,
    lat: float,
    lng: float,
    description: str = "",
    address: str = "",
    severity: str | None = None,
    source: str = Source.GRID_WORKER,
    photos: Sequence = (),
    idempotency_key: str | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    grid: Region | None = None,
    now: datetime | None = None,
) -> Filing:
    """File an incident. The same idempotency key from the same reporter files it once.

    ``reporter`` is a user, or a ``Principal`` that is not one (a grid's QR sign, an Open311
    key): the door asks it for its scope, the incident records no user (``reporter=None``)
    and its timeline names the principal. A principal files without an idempotency key.
    ``grid``, when given, is the grid the incident is filed in whatever grid holds the point
    (a QR sign's grid: a resident standing across the street still reports to that grid);
    the reporter must still be allowed to report there.

    A retry is not looked up first: filing is the hottest write there is and retries are
    rare. The unique index on (reporter, key) refuses the second row; the retry, or any
    retry that no longer passes the checks (a grid handed to someone else since), then
    answers with the incident the first submission filed.
    """
    if idempotency_key and isinstance(reporter, Principal):
        raise TypeError("a principal that is not a user files without an idempotency key")
    title, description, address = (clean_text(title), clean_text(description, multiline=True),
                                   clean_text(address))
    reporter_name, reporter_phone = clean_text(reporter_name), clean_text(reporter_phone)
    fingerprint = filing_fingerprint(category=category, title=title, description=description, address=address,
                                     lat=lat, lng=lng, severity=severity, source=source, reporter_name=reporter_name,
                                     reporter_phone=reporter_phone, photos=photos) if idempotency_key else ""
    try:
        return _file(reporter=reporter, category=category, title=title, lat=lat, lng=lng, description=description,
                     address=address, severity=severity, source=source, photos=photos,
                     idempotency_key=idempotency_key, idempotency_hash=fingerprint, reporter_name=reporter_name,
                     reporter_phone=reporter_phone, grid=grid, now=now)
    except (DomainError, IntegrityError):
        if idempotency_key:
            existing = Incident.objects.filter(reporter=reporter, idempotency_key=idempotency_key).first()
            if existing is not None:
                if existing.idempotency_hash and existing.idempotency_hash != fingerprint:
                    raise IdempotencyKeyReused(existing.number) from None
                return Filing(existing, created=False)
        raise


class IdempotencyKeyReused(DomainError):
    """The same idempotency key came with a different report: the new one is not silently dropped."""

    status_code = 422
    code = "idempotency_key_reused"

    def __init__(self, number: str):
        super().__init__(
            _("This idempotency key already filed incident %(number)s with different content. Nothing was filed: "
              "send a new report with a new key.") % {"number": number},
            field_errors={"idempotency_key": [_("Already used for a different report.")]})


def filing_fingerprint(*, category: Category, title: str, description: str, address: str, lat: float, lng: float,
                       severity: str | None, source: str, reporter_name: str, reporter_phone: str,
                       photos: Sequence) -> str:
    """A hash of what a filing says (its text after cleaning, its place, its photos' bytes), stored with the
    idempotency key so that a retry is told from a different report sent with the same key."""
    digest = hashlib.sha256()
    for part in (category.pk, title, description, address, repr(float(lat)), repr(float(lng)), severity or "",
                 source or "", reporter_name, reporter_phone):
        digest.update(str(part).encode("utf-8", "surrogatepass") + b"\x1f")
    for photo in photos:
        photo_digest = hashlib.sha256()
        for chunk in photo.chunks() if hasattr(photo, "chunks") else [photo.read()]:
            photo_digest.update(chunk)
        if hasattr(photo, "seek"):
            photo.seek(0)
        digest.update(photo_digest.digest())
    return digest.hexdigest()


def _file(*, reporter, category: Category, title: str, lat: float, lng: float, description: str, address: str,
          severity: str | None, source: str, photos: Sequence, idempotency_key: str | None, idempotency_hash: str,
          reporter_name: str, reporter_phone: str, grid: Region | None, now: datetime | None) -> Filing:
    if category.pk is None or not category.is_minor or not category.is_active:
        raise InvalidInput(_("Choose an active minor category."),
                           field_errors={"category": [_("Not a minor category.")]})
    if not title.strip():
        raise InvalidInput(_("The title is required."), field_errors={"title": [_("This field is required.")]})
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(_("At most %(n)d photos.") % {"n": MAX_PHOTOS}, field_errors={"photos": [_("Too many.")]})
    if severity is not None and severity not in Severity.values:
        raise InvalidInput(_("Unknown severity."), field_errors={"severity": [_("Unknown severity.")]})
    if grid is None:
        grid, responsible, gap = locate_home(lat, lng)  # OutsideCity says so clearly; in a gap, the nearest grid
    else:
        if grid.level != Level.GRID:
            raise InvalidInput(_("Incidents are filed in grids."), field_errors={"grid": [_("Not a grid.")]})
        responsible, gap = Region.objects.defer("boundary").get(path=parent_path(grid.path)), None
    # The scope that Region.objects.restrict(reporter, "report") filters by (Region's scope is
    # its path), asked without the extra query: filing is the hottest write there is.
    scope = get_scope(reporter)
    if not scope.covers_path(Action.REPORT, grid.path):
        # Never name a place the reporter may not see (``locate`` answers 404 for it too).
        if scope.covers_path(Action.VIEW, grid.path):
            message = _("You may only file incidents in your own grids; this point lies in %(grid)s.") % {
                "grid": grid.name}
        else:
            message = _("You may only file incidents in your own grids; this point lies outside them.")
        raise PermissionDeniedError(message, code="not_your_grid")
    cleaned = clean_images(photos)  # every photo checked before anything is written

    now = now or timezone.now()
    number = next_number(timezone.localdate(now))  # before the transaction: see next_number
    with atomic_with_files():
        deadline = deadlines.accept_deadline(now, category)
        incident = Incident.objects.create(
            number=number,
            title=title.strip()[:200],
            description=description.strip(),
            category=category,
            severity=severity or category.default_severity,
            source=source,
            lat=lat,
            lng=lng,
            address=address.strip()[:300],
            grid=grid,
            responsible_region=responsible,
            responsible_level=responsible.level,
            reporter=actor_or_none(reporter),
            reporter_name=reporter_name[:50],
            reporter_phone=reporter_phone[:20],
            idempotency_key=idempotency_key or None,
            idempotency_hash=idempotency_hash,
            reported_at=now,
            **deadline.fields(),
        )
        # A point in a gap of the territory is filed in the nearest grid of the region that holds it; the
        # report says so, for the command centre to see (docs/decisions.md).
        extra = {} if gap is None else {"gap_region": str(gap.region),
                                         "gap_grid_distance_m": round(gap.grid_distance_m)}
        if isinstance(reporter, Principal):
            extra["principal"] = reporter.label  # who filed it, when no user did: the sign, the API key
        event = _record(incident, "report", "", Status.REPORTED, actor_or_none(reporter), now, description.strip(),
                        deadline=deadline.record(Clock.RESTART), **extra)
        stored = _store_photos(incident, event, cleaned, actor_or_none(reporter), now)
    return Filing(incident, created=True, event=event, attachments=tuple(stored))


def _store_photos(incident: Incident, event: Event, cleaned, uploader, now: datetime) -> list[Attachment]:
    stored = []
    for image in cleaned:
        attachment = Attachment(
            incident=incident, event=event, content_type=image.content_type, extension=image.extension,
            size=len(image.content), width=image.width, height=image.height, sha256=image.sha256,
            original_name=image.original_name, uploaded_by=uploader, uploaded_at=now,
        )
        # The photo and its thumbnail are deleted again if the filing rolls back; a store that is down: 503.
        files.store(attachment.file, f"photo.{image.extension}", image.content)
        files.store(attachment.thumbnail, "thumb.jpg", image.thumbnail)
        attachment.thumbnail_size = len(image.thumbnail)
        attachment.save()
        stored.append(attachment)
    return stored


# --- Transitions ------------------------------------------------------------

def _record(incident: Incident, action: str, from_status: str, to_status: str, actor, at: datetime, note: str = "",
            **data) -> Event:
    return Event.objects.create(incident=incident, action=action, from_status=from_status, to_status=to_status,
                                actor=actor, at=at, note=note, data=data)


def _lock(incident: Incident | int, expected_version: int | None) -> Incident:
    pk = incident.pk if isinstance(incident, Incident) else incident
    # of=self: lock the incident only, not the category and regions joined to it (every
    # transition of the same category would queue behind one another); no boundaries read.
    query = (Incident.objects.select_for_update(of=("self",))
             .select_related("category", "grid", "responsible_region")
             .defer("grid__boundary", "responsible_region__boundary").filter(pk=pk))
    locked = query.first()
    if locked is None and Incident.objects.filter(pk=pk).exists():
        # Changed while we waited for its lock (an escalation moved it up): PostgreSQL rechecked the
        # new row against the regions it had joined before the wait, and dropped it. The lock is ours
        # now; read it again, with a fresh view of its regions.
        locked = query.first()
    if locked is None:
        raise NotFoundError()
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("Incident %(number)s was changed by someone else a moment ago (it is now %(status)s). "
              "Nothing was changed; reload to see its state.")
            % {"number": locked.number, "status": locked.get_status_display()}
        )
    return locked


def _check(incident: Incident, transition: Transition, actor, note: str) -> None:
    """Scope, then state, then the reason: the first that fails says why."""
    if not may(incident, actor, Action.VIEW):
        raise NotFoundError()
    if not may(incident, actor, transition.action):
        raise PermissionDeniedError(
            _("You may not %(action)s incident %(number)s.") % {"action": transition.label, "number": incident.number}
        )
    if incident.status not in transition.sources:
        raise TransitionNotAllowed(
            _("Incident %(number)s is %(status)s; it cannot be given “%(action)s” now.")
            % {"number": incident.number, "status": incident.get_status_display(), "action": transition.label}
        )
    if transition.needs_note and not clean_text(note, multiline=True):
        raise InvalidInput(_("Please give a reason."), field_errors={"note": [_("A reason is required.")]})


def _holds_active_task(incident: Incident, actor) -> bool:
    """Whether one of the actor's units still holds an active task on the incident.

    ``Incident.scope_q`` now asks the same for every action but viewing, so
    ``may(incident, actor, Action.HANDLE)`` answers it too; kept for callers.
    """
    scope = get_scope(actor)
    if scope.everything:
        return True
    return UnitTask.objects.filter(incident=incident, withdrawn_at__isnull=True,
                                   unit_id__in=sorted(scope.units(Action.HANDLE))).exists()


def _apply(incident: Incident, transition: Transition, actor, now: datetime, note: str = "",
           to_status: str | None = None, photos: Iterable = (), **data) -> Event:
    """The new status, the deadline as the transition's clock says, the version, and the timeline event."""
    from_status = incident.status
    target = to_status or transition.target or from_status
    incident.status = target
    deadline = deadlines.apply_clock(incident, transition.clock, now)
    if deadline is not None:
        data["deadline"] = deadline
    incident.version += 1
    incident.save()
    event = _record(incident, transition.name, from_status, target, actor, now, clean_text(note, multiline=True),
                    **data)
    if photos:
        _store_photos(incident, event, list(photos), actor, now)
    return event


def _begin(incident, name: str, actor, note: str, expected_version: int | None) -> tuple[Incident, Transition]:
    transition = TRANSITIONS[name]
    locked = _lock(incident, expected_version)
    _check(locked, transition, actor, note)
    return locked, transition


@transaction.atomic
def incident_accept(*, incident, actor, note: str = "", expected_version: int | None = None,
                    now: datetime | None = None) -> Incident:
    now = now or timezone.now()
    incident, t = _begin(incident, "accept", actor, note, expected_version)
    incident.accepted_at = now
    _apply(incident, t, actor, now, note)  # the handling clock starts (workflow: accept restarts)
    return incident


def _units_in_scope(actor, unit_ids: Sequence[int]) -> list[Unit]:
    units = list(Unit.objects.restrict(actor, Action.VIEW).filter(pk__in=unit_ids, is_active=True))
    if len(units) != len(set(unit_ids)):
        raise InvalidInput(_("Choose units you may dispatch to."), field_errors={"unit": [_("Unknown unit.")]})
    return units


@transaction.atomic
def incident_dispatch(*, incident, actor, unit: Unit, assisting_units: Sequence[Unit] = (), note: str = "",
                      expected_version: int | None = None, now: datetime | None = None) -> Incident:
    """Dispatch to a lead unit, with assisting units for co-handling."""
    now = now or timezone.now()
    incident, t = _begin(incident, "dispatch", actor, note, expected_version)
    units = _units_in_scope(actor, [unit.pk, *[u.pk for u in assisting_units if u.pk != unit.pk]])
    lead = next(u for u in units if u.pk == unit.pk)
    assist = [u for u in units if u.pk != unit.pk]
    _assign_units(incident, lead, assist, now)
    incident.dispatched_at = now
    _apply(incident, t, actor, now, note, unit=lead.pk, unit_name=lead.name,
           assisting=[u.pk for u in assist], assisting_names=[u.name for u in assist])
    return incident


def _assign_units(incident: Incident, lead: Unit, assist: Sequence[Unit], now: datetime) -> None:
    UnitTask.objects.filter(incident=incident, withdrawn_at__isnull=True).update(withdrawn_at=now)
    incident.lead_unit = lead
    UnitTask.objects.bulk_create(
        [UnitTask(incident=incident, unit=lead, role=UnitTask.Role.LEAD, assigned_at=now)]
        + [UnitTask(incident=incident, unit=u, role=UnitTask.Role.ASSIST, assigned_at=now) for u in assist]
    )


@transaction.atomic
def incident_reassign(*, incident, actor, unit: Unit, assisting_units: Sequence[Unit] = (), note: str = "",
                      expected_version: int | None = None, now: datetime | None = None) -> Incident:
    now = now or timezone.now()
    incident, t = _begin(incident, "reassign", actor, note, expected_version)
    units = _units_in_scope(actor, [unit.pk, *[u.pk for u in assisting_units if u.pk != unit.pk]])
    lead = next(u for u in units if u.pk == unit.pk)
    assist = [u for u in units if u.pk != unit.pk]
    previous = incident.lead_unit
    _assign_units(incident, lead, assist, now)
    incident.dispatched_at = now
    _apply(incident, t, actor, now, note, unit=lead.pk, unit_name=lead.name,
           previous_unit=previous.pk if previous else None, assisting=[u.pk for u in assist])
    return incident


@atomic_with_files()
def incident_report_back(*, incident, actor, unit: Unit | None = None, note: str = "", photos: Sequence = (),
                         expected_version: int | None = None, now: datetime | None = None) -> Incident:
    """A unit reports back. The incident is handled once the lead and every assisting unit have reported."""
    now = now or timezone.now()
    cleaned = clean_images(photos)
    if not clean_text(note, multiline=True):
        raise InvalidInput(_("Describe how the incident was handled."), field_errors={"note": [_("Required.")]})
    incident, t = _begin(incident, "report_back", actor, note, expected_version)
    tasks = UnitTask.objects.select_for_update().filter(incident=incident, withdrawn_at__isnull=True,
                                                        reported_back_at__isnull=True)
    scope = get_scope(actor)
    mine = [task for task in tasks if scope.everything or task.unit_id in scope.units(Action.HANDLE)]
    if unit is not None:
        mine = [task for task in mine if task.unit_id == unit.pk]
    if not mine:
        raise TransitionNotAllowed(_("Your unit has already reported back on incident %(number)s.")
                                   % {"number": incident.number})
    task = mine[0]
    task.reported_back_at = now
    task.report = clean_text(note, multiline=True)
    task.save(update_fields=["reported_back_at", "report"])
    remaining = UnitTask.objects.filter(incident=incident, withdrawn_at__isnull=True,
                                        reported_back_at__isnull=True).exists()
    to_status = Status.DISPATCHED if remaining else Status.HANDLED
    if not remaining:
        incident.handled_at = now
    _apply(incident, t, actor, now, note, to_status=to_status, photos=cleaned, unit=task.unit_id,
           unit_name=task.unit.name, role=task.role)
    return incident


@transaction.atomic
def incident_unit_return(*, incident, actor, note: str, expected_version: int | None = None,
                         now: datetime | None = None) -> Incident:
    """The unit says it is not theirs: back to the command centre to dispatch again."""
    now = now or timezone.now()
    incident, t = _begin(incident, "unit_return", actor, note, expected_version)
    UnitTask.objects.filter(incident=incident, withdrawn_at__isnull=True).update(withdrawn_at=now)
    incident.lead_unit = None
    _apply(incident, t, actor, now, note)
    return incident


def _check_satisfaction(satisfaction: int | None) -> None:
    if satisfaction is not None and not (1 <= int(satisfaction) <= 5):
        raise InvalidInput(_("Satisfaction is rated from 1 to 5."), field_errors={"satisfaction": [_("1 to 5.")]})


@transaction.atomic
def incident_verify(*, incident, actor, passed: bool, note: str = "", satisfaction: int | None = None,
                    expected_version: int | None = None, now: datetime | None = None) -> Incident:
    """Verify a unit's report: pass closes the incident; fail sends it back to the units."""
    now = now or timezone.now()
    _check_satisfaction(satisfaction)
    incident, t = _begin(incident, "verify_pass" if passed else "verify_fail", actor, note, expected_version)
    if passed:
        incident.closed_at = now
        incident.satisfaction = satisfaction
    else:
        UnitTask.objects.filter(incident=incident, withdrawn_at__isnull=True).update(reported_back_at=None)
        incident.handled_at = None
    _apply(incident, t, actor, now, note, satisfaction=satisfaction)
    return incident


@atomic_with_files()
def incident_close_on_spot(*, incident, actor, note: str = "", satisfaction: int | None = None,
                           photos: Sequence = (), expected_version: int | None = None,
                           now: datetime | None = None) -> Incident:
    now = now or timezone.now()
    _check_satisfaction(satisfaction)
    cleaned = clean_images(photos)
    incident, t = _begin(incident, "close_on_spot", actor, note, expected_version)
    if not incident.category.on_spot_closable:
        raise TransitionNotAllowed(_("Incidents of category %(category)s cannot be closed on the spot.")
                                   % {"category": incident.category})
    incident.closed_at = now
    incident.satisfaction = satisfaction
    _apply(incident, t, actor, now, note, photos=cleaned, satisfaction=satisfaction)
    return incident


def _simple(name: str):
    """A transition that only changes the status and records the note."""

    @transaction.atomic
    def service(*, incident, actor, note: str = "", expected_version: int | None = None,
                now: datetime | None = None) -> Incident:
        now = now or timezone.now()
        locked, t = _begin(incident, name, actor, note, expected_version)
        _apply(locked, t, actor, now, note)
        return locked

    service.__name__ = f"incident_{name}"
    service.__doc__ = f"{TRANSITIONS[name].label} (status {sorted(TRANSITIONS[name].sources)} → "\
                      f"{TRANSITIONS[name].target})."
    return service


incident_return = _simple("return")
incident_resubmit = _simple("resubmit")
incident_void = _simple("void")
incident_unpark = _simple("unpark")


@transaction.atomic
def incident_park(*, incident, actor, note: str, review_on: date, expected_version: int | None = None,
                  now: datetime | None = None) -> Incident:
    """Park a problem that cannot be solved in time on the long-term list (挂账) until a review date."""
    now = now or timezone.now()
    if review_on is None or review_on <= timezone.localdate(now):
        raise InvalidInput(_("The review date must lie in the future."), field_errors={"review_on": [_("Too early.")]})
    incident, t = _begin(incident, "park", actor, note, expected_version)
    incident.parked_until = review_on
    _apply(incident, t, actor, now, note, review_on=review_on.isoformat())
    return incident


@transaction.atomic
def incident_escalate(*, incident, actor, note: str, expected_version: int | None = None,
                      now: datetime | None = None) -> Incident:
    """Hand the incident to the command centre one level up, with a fresh deadline there.

    The sweep's automatic escalation (``incidents.watcher.IncidentWatcher``) does the
    same in SQL, with the same deadlines (``incidents.deadlines``); a test holds them equal.
    """
    now = now or timezone.now()
    incident, t = _begin(incident, "escalate", actor, note, expected_version)
    _escalate(incident)
    _apply(incident, t, actor, now, note, to_level=incident.responsible_level,
           to_region=incident.responsible_region.name)
    return incident


def _escalate(incident: Incident) -> None:
    """One level up: the parent command centre holds it (the deadline is the clock's, in ``_apply``)."""
    if incident.responsible_level <= Level.CITY:
        raise TransitionNotAllowed(_("Incident %(number)s is already held by the city's command centre.")
                                   % {"number": incident.number})
    parent = Region.objects.get(path=escalation_target_path(incident.responsible_region.path))
    incident.responsible_region = parent
    incident.responsible_level = parent.level
    incident.escalation_count += 1


@transaction.atomic
def incident_merge(*, incident, actor, into: Incident, note: str = "", expected_version: int | None = None,
                   now: datetime | None = None) -> Incident:
    """Merge a duplicate report into the open incident it repeats."""
    now = now or timezone.now()
    if into.pk == (incident.pk if isinstance(incident, Incident) else incident):
        message = _("An incident cannot be merged into itself.")
        raise InvalidInput(message, field_errors={"into": [message]})
    incident, t = _begin(incident, "merge", actor, note, expected_version)
    target = Incident.objects.select_for_update().filter(pk=into.pk).first()
    if target is None or not may(target, actor, Action.VIEW):
        raise InvalidInput(_("The incident to merge into was not found."), field_errors={"into": [_("Not found.")]})
    if target.status not in OPEN_STATUSES or target.duplicate_of_id:
        message = _("Incident %(number)s is not open; merge into an open incident.") % {"number": target.number}
        raise InvalidInput(message, field_errors={"into": [message]})
    incident.duplicate_of = target
    incident.closed_at = now
    _apply(incident, t, actor, now, note, into=target.pk, into_number=target.number)
    _record(target, "merged_in", target.status, target.status, actor, now, clean_text(note, multiline=True),
            duplicate=incident.pk,
            duplicate_number=incident.number)
    return incident


# --- Duplicates -------------------------------------------------------------

DUPLICATE_RADIUS_M = 100
DUPLICATE_WINDOW = timedelta(hours=72)
DUPLICATE_LIMIT = 50  # the nearest this many are offered


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine) on the portal's sphere (``EARTH_RADIUS_M``)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearby_box(lat: float, lng: float, radius_m: float) -> dict:
    """Filters for the smallest lat/lng box that holds every point within ``radius_m`` of (lat, lng).

    Measured on the same sphere as ``distance_m``, so the box never cuts off a point the
    circle holds: the latitudes of the circle reach exactly ``radius_m / R`` radians north and
    south; its longitudes reach ``asin(sin(radius_m / R) / cos(lat))`` east and west.
    """
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    cos_lat = math.cos(math.radians(lat))
    dlng = 180.0 if math.sin(angle) >= cos_lat else math.degrees(math.asin(math.sin(angle) / cos_lat))
    return {"lat__gte": lat - dlat, "lat__lte": lat + dlat, "lng__gte": lng - dlng, "lng__lte": lng + dlng}
