"""Every write to a mediation case: one function per user action.

Each function is atomic, checks the actor's right over the case (``mediate``) and the case's
state against the one action table (``mediation.actions.ACTIONS``), bumps the version, and writes
its timeline event (and, for the risk level, its ``RiskChange`` row) in the same transaction.
Pages, the API, the admin and the demo call these; none of them saves a case itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access.models import Role, RoleAssignment, Unit, UnitKind
from governance.core.authority import SYSTEM, actor_or_none, may
from governance.core.errors import (
    ConflictError,
    InvalidInput,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowed,
)
from governance.core.files import atomic_with_files
from governance.core.files import store as store_file
from governance.core.scoping import Action, get_scope
from governance.core.text import clean_text
from grids.models import Level, Region
from mediation.actions import ACTIONS, CaseAction
from mediation.models import (
    Agreement,
    Case,
    CaseCounter,
    CaseEvent,
    DisputeType,
    FollowUp,
    Obligation,
    Party,
    PartyRole,
    ReferredTo,
    RiskChange,
    RiskLevel,
    Session,
    Source,
    Status,
    clock_start,
    deadline_days,
    deadline_of,
)

HANDOVER_KEY = "mediation"
MAX_AGREEMENT_BYTES = 10 * 1024 * 1024
# A scanned agreement: a PDF or a photo, told by its first bytes, never by its name.
AGREEMENT_FORMATS = {b"%PDF-": ("pdf", "application/pdf"), b"\xff\xd8\xff": ("jpg", "image/jpeg"),
                     b"\x89PNG\r\n\x1a\n": ("png", "image/png")}


# --- Numbers ------------------------------------------------------------------

def next_number(year: int) -> str:
    """``TJ2026-000042``: one counter row per year, bumped by one upsert (as incidents' numbers)."""
    table = connection.ops.quote_name(CaseCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (year, last) VALUES (%s, 1) "
                       f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last", [year])
        (last,) = cursor.fetchone()
    return f"TJ{year}-{last:06d}"


# --- Registering ----------------------------------------------------------------

def district_of(region: Region) -> Region:
    """The district a region lies in (itself at district level; the city has none: itself)."""
    if region.level <= Level.DISTRICT:
        return region
    return Region.objects.get(path=region.path[: Region.steplen * Level.DISTRICT])


def may_register(user, region: Region, organisation: Unit) -> bool:
    """Who may register a case for an organisation in a territory: the organisation's mediators, or the
    command centre (``triage``) or administrators (``mediate``) over the territory."""
    scope = get_scope(user)
    if scope.everything:
        return True
    return (organisation.pk in scope.units(Action.MEDIATE) or scope.covers_path(Action.MEDIATE, region.path)
            or scope.covers_path(Action.TRIAGE, region.path))


def regions_for(user):
    """The territories a user may register cases in: those they see, and those their organisations mediate in."""
    scope = get_scope(user)
    if scope.everything:
        return Region.objects.all()
    q = Q(pk__in=Region.objects.restrict(user, Action.VIEW).values("pk"))
    homes = Unit.objects.filter(pk__in=sorted(scope.units(Action.MEDIATE))).values_list("home_region__path", flat=True)
    for path in homes:
        q |= Q(path__startswith=path)
    return Region.objects.filter(q)


def _check_placement(region: Region, organisation: Unit) -> None:
    if organisation.kind != UnitKind.MEDIATION_ORG or not organisation.is_active:
        raise InvalidInput(_("Choose an active mediation organisation."),
                           field_errors={"organisation": [_("Not a mediation organisation.")]})
    if not region.path.startswith(organisation.home_region.path):
        raise InvalidInput(_("%(organisation)s does not mediate in %(region)s.")
                           % {"organisation": organisation.name, "region": region.name},
                           field_errors={"organisation": [_("Outside the organisation's territory.")]})


def _clean_party(data: dict) -> dict:
    name = clean_text(data.get("name"))
    if not name:
        raise InvalidInput(_("A party needs a name."), field_errors={"parties": [_("A name is required.")]})
    role = data.get("role")
    if role not in PartyRole.values:
        raise InvalidInput(_("Unknown party role."), field_errors={"parties": [_("Unknown role.")]})
    id_number = clean_text(data.get("id_number")).upper()
    if id_number and not (len(id_number) in (15, 18) and id_number[:-1].isdigit()
                          and (id_number[-1].isdigit() or id_number[-1] == "X")):
        raise InvalidInput(_("An ID number has 15 or 18 characters: digits, the last may be X."),
                           field_errors={"id_number": [_("Not an ID number.")]})
    phone = clean_text(data.get("phone"))
    if phone and not (7 <= len(phone) <= 20 and all(c.isdigit() or c in "+- " for c in phone)):
        raise InvalidInput(_("A phone number holds digits only."), field_errors={"phone": [_("Not a phone number.")]})
    return {"role": role, "name": name[:100], "id_number": id_number, "phone": phone,
            "address": clean_text(data.get("address"))[:200]}


@transaction.atomic
def case_register(*, acting_user, title: str, dispute_type: DisputeType, region: Region, organisation: Unit,
                  source: str = Source.WALK_IN, summary: str = "", amount: Decimal | None = None,
                  parties: Sequence[dict] = (), risk_level: str = RiskLevel.GREEN, risk_reason: str = "",
                  court_name: str = "", court_case_number: str = "", court_referral_date: date | None = None,
                  incident=None, now: datetime | None = None) -> Case:
    """Register a case. Its deadline follows its source and type (``DeadlineRule``); a court referral's clock
    starts at the referral date."""
    now = now or timezone.now()
    title, summary = clean_text(title), clean_text(summary, multiline=True)
    if not title:
        raise InvalidInput(_("The title is required."), field_errors={"title": [_("This field is required.")]})
    if source not in Source.values:
        raise InvalidInput(_("Unknown source."), field_errors={"source": [_("Unknown source.")]})
    if not dispute_type.is_active:
        raise InvalidInput(_("Choose an active dispute type."), field_errors={"dispute_type": [_("Not active.")]})
    if amount is not None and amount < 0:
        raise InvalidInput(_("The amount cannot be negative."), field_errors={"amount": [_("Negative.")]})
    if risk_level not in RiskLevel.values:
        raise InvalidInput(_("Unknown risk level."), field_errors={"risk_level": [_("Unknown risk level.")]})
    if acting_user is not SYSTEM:
        if not regions_for(acting_user).filter(pk=region.pk).exists():
            raise InvalidInput(_("Choose a territory of yours."), field_errors={"region": [_("Unknown region.")]})
        if not may_register(acting_user, region, organisation):
            raise PermissionDeniedError(_("You may not register cases for %(organisation)s in %(region)s.")
                                        % {"organisation": organisation.name, "region": region.name})
    _check_placement(region, organisation)
    court = {"court_name": clean_text(court_name)[:100], "court_case_number": clean_text(court_case_number)[:60],
             "court_referral_date": court_referral_date}
    if source == Source.COURT:
        missing = [name for name, value in court.items() if not value]
        if missing:
            raise InvalidInput(_("A court referral needs the court, its case number and the referral date."),
                               field_errors={name: [_("This field is required.")] for name in missing})
        if court_referral_date > timezone.localdate(now):
            raise InvalidInput(_("The referral date cannot lie in the future."),
                               field_errors={"court_referral_date": [_("In the future.")]})
    cleaned_parties = [_clean_party(p) for p in parties]
    if risk_level != RiskLevel.GREEN and not clean_text(risk_reason):
        raise InvalidInput(_("Say why the risk is %(level)s.") % {"level": RiskLevel(risk_level).label},
                           field_errors={"risk_reason": [_("A reason is required.")]})

    start = clock_start(source, now, court_referral_date)
    days = deadline_days(source, dispute_type.pk)
    due, warn = deadline_of(start, days)
    case = Case.objects.create(
        number=next_number(timezone.localdate(now).year), title=title[:200], summary=summary, source=source,
        dispute_type=dispute_type, amount=amount, region=region, district=district_of(region),
        organisation=organisation, risk_level=risk_level, risk_reason=clean_text(risk_reason)[:300],
        risk_changed_at=now, incident=incident, registered_at=now, registered_by=actor_or_none(acting_user),
        clock_started_at=start, deadline_days=days, due_at=due, warn_at=warn, last_activity_at=now, **court)
    for party in cleaned_parties:
        Party.objects.create(case=case, added_at=now, **party)
    RiskChange.objects.create(case=case, from_level="", to_level=risk_level, reason=case.risk_reason or _("Registered"),
                              actor=actor_or_none(acting_user), at=now)
    _record(case, "register", "", Status.REGISTERED, acting_user, now, summary, due_at=due.isoformat(), days=days,
            source=source)
    return case


@transaction.atomic
def case_transfer_from_incident(*, acting_user, incident, dispute_type: DisputeType, organisation: Unit,
                                note: str = "", parties: Sequence[dict] = (), risk_level: str = RiskLevel.GREEN,
                                risk_reason: str = "", now: datetime | None = None) -> Case:
    """A dispute incident becomes a mediation case in one action: the case points at the incident, the
    incident is handed over (parked until the case's deadline) and points back at the case."""
    from incidents.handovers import incident_hand_over
    from incidents.models import Incident

    now = now or timezone.now()
    incident = Incident.objects.select_related("grid").get(pk=incident.pk if hasattr(incident, "pk") else incident)
    if not may(incident, acting_user, Action.VIEW):
        raise NotFoundError()
    if not may(incident, acting_user, Action.TRIAGE):
        raise PermissionDeniedError(_("Only the command centre that holds the incident may transfer it."))
    if Case.objects.filter(incident=incident).exists():
        raise TransitionNotAllowed(_("Incident %(number)s was already transferred to mediation.")
                                   % {"number": incident.number})
    parties = list(parties)
    if not parties and incident.reporter_name:
        parties = [{"role": PartyRole.APPLICANT, "name": incident.reporter_name, "phone": incident.reporter_phone}]
    case = case_register(acting_user=acting_user, title=incident.title, summary=incident.description or note,
                         dispute_type=dispute_type, region=incident.grid, organisation=organisation,
                         source=Source.INCIDENT, parties=parties, risk_level=risk_level, risk_reason=risk_reason,
                         incident=incident, now=now)
    review_on = timezone.localdate(case.due_at)
    incident_hand_over(incident=incident, actor=acting_user, key=HANDOVER_KEY, reference=case.number,
                       review_on=review_on, note=note or _("Transferred to mediation case %(number)s.")
                       % {"number": case.number}, now=now)
    return case


# --- The status machine ------------------------------------------------------------

def _record(case: Case, action: str, from_status: str, to_status: str, actor, at: datetime, note: str = "",
            **data) -> CaseEvent:
    return CaseEvent.objects.create(case=case, action=action, from_status=from_status, to_status=to_status,
                                    actor=actor_or_none(actor), at=at, note=note, data=data)


def _lock(case: Case | int, expected_version: int | None) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    locked = (Case.objects.select_for_update(of=("self",)).select_related("organisation", "region")
              .filter(pk=pk).first())
    if locked is None:
        raise NotFoundError()
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _("Case %(number)s was changed by someone else a moment ago (it is now %(status)s). Nothing was "
              "changed; reload to see its state.") % {"number": locked.number, "status": locked.get_status_display()})
    return locked


def _begin(case, name: str, actor, note: str, expected_version: int | None) -> tuple[Case, CaseAction]:
    """Lock, then scope, then state, then the reason: the first that fails says why."""
    action = ACTIONS[name]
    locked = _lock(case, expected_version)
    if actor is not SYSTEM:
        if not may(locked, actor, Action.VIEW):
            raise NotFoundError()
        if not may(locked, actor, action.right):
            raise PermissionDeniedError(_("You may not %(action)s on case %(number)s.")
                                        % {"action": action.label, "number": locked.number})
    if locked.status not in action.sources:
        raise TransitionNotAllowed(
            _("Case %(number)s is %(status)s; “%(action)s” cannot be done now.")
            % {"number": locked.number, "status": locked.get_status_display(), "action": action.label})
    if action.needs_note and not clean_text(note, multiline=True):
        raise InvalidInput(_("Please give a reason."), field_errors={"note": [_("A reason is required.")]})
    return locked, action


def _apply(case: Case, action: CaseAction, actor, now: datetime, note: str = "", **data) -> CaseEvent:
    from_status = case.status
    case.status = action.target_from(from_status)
    case.last_activity_at = now
    case.version += 1
    case.save()
    return _record(case, action.name, from_status, case.status, actor, now, clean_text(note, multiline=True), **data)


def _mediators(case: Case, users: Sequence) -> list:
    """Users who hold the mediator role over the case's organisation; anyone else is refused."""
    ids = {u.pk if hasattr(u, "pk") else int(u) for u in users}
    held = set(RoleAssignment.objects.active().filter(
        role=Role.MEDIATOR, unit=case.organisation_id, user_id__in=ids).values_list("user_id", flat=True))
    if held != ids:
        raise InvalidInput(_("Mediators must be mediators of %(organisation)s.")
                           % {"organisation": case.organisation.name},
                           field_errors={"mediators": [_("Not a mediator of this organisation.")]})
    return list(get_user_model().objects.filter(pk__in=ids))


@transaction.atomic
def case_accept(*, case, actor, mediators: Sequence = (), note: str = "", expected_version: int | None = None,
                now: datetime | None = None) -> Case:
    """Accept the case; its mediators are those named, or the one who accepts it."""
    now = now or timezone.now()
    case, action = _begin(case, "accept", actor, note, expected_version)
    if mediators:
        chosen = _mediators(case, mediators)
    elif actor is not SYSTEM and actor.pk in _org_mediator_ids(case):
        chosen = [actor]
    else:
        chosen = []
    case.accepted_at = now
    if chosen:
        case.mediators.set(chosen)
    _apply(case, action, actor, now, note, mediators=[u.get_full_name() or u.username for u in chosen])
    return case


def _org_mediator_ids(case: Case) -> set[int]:
    return set(RoleAssignment.objects.active().filter(role=Role.MEDIATOR, unit=case.organisation_id)
               .values_list("user_id", flat=True))


@transaction.atomic
def case_record_session(*, case, actor, held_at: datetime, place: str, attendees: str = "", notes: str = "",
                        note: str = "", expected_version: int | None = None, now: datetime | None = None) -> Case:
    now = now or timezone.now()
    case, action = _begin(case, "record_session", actor, note, expected_version)
    place = clean_text(place)
    if not place:
        raise InvalidInput(_("Where was the session held?"), field_errors={"place": [_("This field is required.")]})
    if held_at > now + timedelta(days=60):
        raise InvalidInput(_("A session is recorded when it was held or is planned within 60 days."),
                           field_errors={"held_at": [_("Too far ahead.")]})
    session = Session.objects.create(case=case, held_at=held_at, place=place[:200],
                                     attendees=clean_text(attendees)[:500], notes=clean_text(notes, multiline=True),
                                     recorded_by=actor_or_none(actor), recorded_at=now)
    _apply(case, action, actor, now, note, session_id=session.pk, held_at=held_at.isoformat(), place=session.place)
    return case


def _clean_file(upload) -> tuple[bytes, str, str] | None:
    if upload is None:
        return None
    content = upload.read(MAX_AGREEMENT_BYTES + 1)
    if len(content) > MAX_AGREEMENT_BYTES:
        raise InvalidInput(_("The scanned agreement may be at most 10 MB."), field_errors={"file": [_("Too large.")]})
    for magic, (extension, content_type) in AGREEMENT_FORMATS.items():
        if content.startswith(magic):
            return content, extension, content_type
    raise InvalidInput(_("The scanned agreement must be a PDF, JPEG or PNG file."),
                       field_errors={"file": [_("Not a PDF or an image.")]})


@atomic_with_files()  # the scanned agreement is deleted again if recording it rolls back
def case_record_agreement(*, case, actor, terms: str, signed_on: date, obligations: Sequence[dict] = (), file=None,
                          note: str = "", expected_version: int | None = None, now: datetime | None = None) -> Case:
    """The signed agreement, with what each party must do by when; the case reaches its outcome."""
    now = now or timezone.now()
    case, action = _begin(case, "record_agreement", actor, note, expected_version)
    terms = clean_text(terms, multiline=True)
    if not terms:
        raise InvalidInput(_("The terms are required."), field_errors={"terms": [_("This field is required.")]})
    if signed_on > timezone.localdate(now):
        raise InvalidInput(_("The signing date cannot lie in the future."),
                           field_errors={"signed_on": [_("In the future.")]})
    party_ids = set(case.parties.values_list("pk", flat=True))
    cleaned = []
    for item in obligations:
        description = clean_text(item.get("description"))
        due_on = item.get("due_on")
        party = item.get("party")
        party_id = party.pk if hasattr(party, "pk") else party
        if not description or due_on is None:
            raise InvalidInput(_("Each obligation needs what must be done and by when."),
                               field_errors={"obligations": [_("Incomplete obligation.")]})
        if party_id is not None and party_id not in party_ids:
            raise InvalidInput(_("An obligation's party must be a party of this case."),
                               field_errors={"obligations": [_("Unknown party.")]})
        cleaned.append(Obligation(party_id=party_id, description=description[:300], due_on=due_on))
    scanned = _clean_file(file)
    agreement = Agreement(case=case, terms=terms, signed_on=signed_on, recorded_by=actor_or_none(actor),
                          recorded_at=now)
    if scanned is not None:
        content, agreement.file_extension, agreement.file_content_type = scanned
        store_file(agreement.file, f"agreement.{agreement.file_extension}", content)
    agreement.save()
    for obligation in cleaned:
        obligation.agreement = agreement
        obligation.save()
    case.outcome, case.outcome_at = Status.AGREEMENT, now
    _apply(case, action, actor, now, note, obligations=len(cleaned), signed_on=signed_on.isoformat())
    return case


def _outcome(case: Case, status: str, now: datetime) -> None:
    case.outcome, case.outcome_at = status, now


@transaction.atomic
def case_fail(*, case, actor, note: str, expected_version: int | None = None, now: datetime | None = None) -> Case:
    now = now or timezone.now()
    case, action = _begin(case, "fail", actor, note, expected_version)
    _outcome(case, Status.FAILED, now)
    _apply(case, action, actor, now, note)
    return case


@transaction.atomic
def case_withdraw(*, case, actor, note: str, expected_version: int | None = None,
                  now: datetime | None = None) -> Case:
    now = now or timezone.now()
    case, action = _begin(case, "withdraw", actor, note, expected_version)
    _outcome(case, Status.WITHDRAWN, now)
    _apply(case, action, actor, now, note)
    return case


@transaction.atomic
def case_refer(*, case, actor, referred_to: str, note: str, expected_version: int | None = None,
               now: datetime | None = None) -> Case:
    now = now or timezone.now()
    if referred_to not in ReferredTo.values:
        raise InvalidInput(_("Refer to a court, arbitration or the petition office."),
                           field_errors={"referred_to": [_("Unknown.")]})
    case, action = _begin(case, "refer", actor, note, expected_version)
    case.referred_to = referred_to
    _outcome(case, Status.REFERRED, now)
    _apply(case, action, actor, now, note, referred_to=referred_to)
    return case


@transaction.atomic
def case_record_follow_up(*, case, actor, visited_on: date, notes: str, method: str = "",
                          satisfied: bool | None = None, note: str = "", expected_version: int | None = None,
                          now: datetime | None = None) -> Case:
    now = now or timezone.now()
    case, action = _begin(case, "record_follow_up", actor, note, expected_version)
    notes = clean_text(notes, multiline=True)
    if not notes:
        raise InvalidInput(_("Say what the visit found."), field_errors={"notes": [_("This field is required.")]})
    if visited_on > timezone.localdate(now):
        raise InvalidInput(_("A visit is recorded once it took place."),
                           field_errors={"visited_on": [_("In the future.")]})
    visit = FollowUp.objects.create(case=case, visited_on=visited_on, method=clean_text(method)[:60], notes=notes,
                                    satisfied=satisfied, recorded_by=actor_or_none(actor), recorded_at=now)
    _apply(case, action, actor, now, note, follow_up_id=visit.pk, visited_on=visited_on.isoformat())
    return case


@transaction.atomic
def case_obligation_done(*, case, actor, obligation: Obligation | int, note: str = "",
                         expected_version: int | None = None, now: datetime | None = None) -> Case:
    now = now or timezone.now()
    case, action = _begin(case, "obligation_done", actor, note, expected_version)
    pk = obligation.pk if hasattr(obligation, "pk") else obligation
    found = Obligation.objects.filter(pk=pk, agreement__case=case).first()
    if found is None:
        raise InvalidInput(_("Not an obligation of this case."), field_errors={"obligation": [_("Unknown.")]})
    if found.done_at is not None:
        raise TransitionNotAllowed(_("This obligation was already marked done."))
    found.done_at, found.done_note = now, clean_text(note)[:300]
    found.save()
    _apply(case, action, actor, now, note, obligation_id=found.pk, description=found.description)
    return case


@transaction.atomic
def case_close(*, case, actor, note: str = "", expected_version: int | None = None,
               now: datetime | None = None) -> Case:
    """Close the case; a transferred incident is closed with it, its timeline saying how the case ended."""
    now = now or timezone.now()
    case, action = _begin(case, "close", actor, note, expected_version)
    if case.outcome == "":
        _outcome(case, case.status, now)
    case.closed_at = now
    _apply(case, action, actor, now, note)
    if case.incident_id is not None:
        from incidents.handovers import incident_conclude_handover

        incident_conclude_handover(
            incident=case.incident_id, actor=actor_or_none(actor), key=HANDOVER_KEY, reference=case.number,
            note=_("Mediation case %(number)s closed: %(outcome)s.")
            % {"number": case.number, "outcome": Status(case.outcome).label}, now=now)
    return case


@transaction.atomic
def case_set_risk(*, case, actor, level: str, note: str, expected_version: int | None = None,
                  now: datetime | None = None) -> Case:
    """A new risk level with its reason; the change is kept (``RiskChange``) and red is the command centre's."""
    now = now or timezone.now()
    if level not in RiskLevel.values:
        raise InvalidInput(_("Unknown risk level."), field_errors={"level": [_("Unknown risk level.")]})
    case, action = _begin(case, "set_risk", actor, note, expected_version)
    if level == case.risk_level:
        raise InvalidInput(_("The case is already %(level)s.") % {"level": RiskLevel(level).label},
                           field_errors={"level": [_("Unchanged.")]})
    reason = clean_text(note)[:300]
    RiskChange.objects.create(case=case, from_level=case.risk_level, to_level=level, reason=reason,
                              actor=actor_or_none(actor), at=now)
    from_level = case.risk_level
    case.risk_level, case.risk_reason, case.risk_changed_at = level, reason, now
    _apply(case, action, actor, now, note, from_level=from_level, to_level=level)
    return case


@transaction.atomic
def case_add_party(*, case, actor, role: str, name: str, id_number: str = "", phone: str = "", address: str = "",
                   note: str = "", expected_version: int | None = None, now: datetime | None = None) -> Case:
    now = now or timezone.now()
    case, action = _begin(case, "add_party", actor, note, expected_version)
    party = Party.objects.create(case=case, added_at=now, **_clean_party(
        {"role": role, "name": name, "id_number": id_number, "phone": phone, "address": address}))
    _apply(case, action, actor, now, note, party_id=party.pk, role=role)
    return case


def available_actions(user, case: Case) -> list[CaseAction]:
    """The actions this user may take on this case now (the page's buttons, the API's ``available_actions``)."""
    rights: dict[str, bool] = {}
    offered = []
    for action in ACTIONS.values():
        if case.status not in action.sources:
            continue
        if action.right not in rights:
            rights[action.right] = may(case, user, action.right)
        if rights[action.right]:
            offered.append(action)
    return offered


def organisations_for(user):
    """The mediation organisations a user may register cases for."""
    scope = get_scope(user)
    queryset = Unit.objects.filter(kind=UnitKind.MEDIATION_ORG, is_active=True).select_related("home_region")
    if scope.everything:
        return queryset
    q = Q(pk__in=sorted(scope.units(Action.MEDIATE)))
    for path in scope.paths(Action.TRIAGE) + scope.paths(Action.MEDIATE):
        # the organisations of the territory, and those above it that mediate in it
        q |= Q(home_region__path__startswith=path)
        q |= Q(home_region__path__in=[path[:i] for i in range(Region.steplen, len(path), Region.steplen)])
    return queryset.filter(q)


def reclaim_orphan_scans(*, now: datetime | None = None, grace: timedelta | None = None) -> list[str]:
    """Scans of the last two months' folders that no agreement refers to (``governance.core.orphans``): what a
    process killed between storing a scan and committing its agreement, or an enclosing block that rolled back
    after the recording succeeded, left behind."""
    from governance.core import orphans

    now = now or timezone.now()
    return orphans.reclaim(
        storage=Agreement._meta.get_field("file").storage, folders=orphans.month_folders("mediation", now),
        referenced=lambda names: set(Agreement.objects.filter(file__in=names).values_list("file", flat=True)),
        now=now, grace=orphans.GRACE if grace is None else grace)
