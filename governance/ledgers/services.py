"""Every write of the ledgers: one function per user action, atomic, checking the actor's right in here.

* ``filing_submit``: a unit handler files for their own unit's responsibility (``handle`` over the unit).
  A new filing for a period that has one is a new version; the old one stays, no longer current.
* ``filing_review``: the requirement's lead unit (``handle`` over it) or a supervisor of the responsible
  unit's territory (``supervise``) accepts the current filing or returns it with a comment.
* ``notice_issue`` / ``notice_respond``: a supervisor of the unit's territory issues a supervision notice;
  the unit answers it in writing.
* ``project_create``: a supervisor or administrator of the territory adds an innovation project.
* ``programme_create``: an administrator of the territory opens a programme (its tasks come by import).
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access.models import Unit
from governance.core.authority import SYSTEM, actor_or_none, require_administer
from governance.core.errors import (
    ConflictError,
    InvalidInput,
    PermissionDeniedError,
    TransitionNotAllowed,
)
from governance.core.files import atomic_with_files
from governance.core.files import store as store_file
from governance.core.scoping import Action, get_scope
from governance.core.text import clean_text
from governance.ledgers import periods
from governance.ledgers.files import clean_files
from governance.ledgers.models import (
    Evidence,
    Filing,
    InnovationProject,
    NoticeStatus,
    Programme,
    ProgressStatus,
    ProjectAttachment,
    ProjectLevel,
    ProjectStatus,
    Responsibility,
    Review,
    SupervisionNotice,
    Task,
)
from grids.models import Region


def _history(obj, acting_user, reason: str = "") -> None:
    actor = actor_or_none(acting_user)
    if actor is not None:
        obj._history_user = actor
    if reason:
        obj._change_reason = reason


# --- Who may act ------------------------------------------------------------------------------------

def handles_unit(acting_user, unit_id: int | None) -> bool:
    if acting_user is SYSTEM:
        return True
    scope = get_scope(acting_user)
    return unit_id is not None and (scope.everything or unit_id in scope.units(Action.HANDLE))


def supervises_path(acting_user, path: str) -> bool:
    if acting_user is SYSTEM:
        return True
    return get_scope(acting_user).covers_path(Action.SUPERVISE, path)


def may_file(acting_user, responsibility: Responsibility) -> bool:
    return handles_unit(acting_user, responsibility.unit_id)


def may_review(acting_user, responsibility: Responsibility) -> bool:
    return (handles_unit(acting_user, responsibility.task.lead_unit_id)
            or supervises_path(acting_user, responsibility.unit.home_region.path))


def may_issue_notice(acting_user, unit: Unit) -> bool:
    return supervises_path(acting_user, unit.home_region.path)


# --- Filings ----------------------------------------------------------------------------------------

def filing_submit(*, responsibility: Responsibility, period: str, status: str, percent: int, narrative: str,
                  files: list | None = None, acting_user, today: date | None = None) -> Filing:
    """File progress for one requirement, one unit, one period, with evidence files."""
    with atomic_with_files():  # the evidence written is deleted again if the filing rolls back
        return _filing_submit(responsibility=responsibility, period=period, status=status, percent=percent,
                              narrative=narrative, files=files or [], acting_user=acting_user, today=today)


def _filing_submit(*, responsibility, period, status, percent, narrative, files, acting_user, today):
    responsibility = Responsibility.objects.select_related("task__programme", "unit__home_region").get(
        pk=responsibility.pk)
    if not may_file(acting_user, responsibility):
        raise PermissionDeniedError(_("Only the responsible unit files progress on this requirement."))
    task, programme = responsibility.task, responsibility.task.programme
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    allowed = {p.key: p for p in periods.requirement_periods(task.cycle, programme.starts_on, programme.ends_on,
                                                             task.deadline)}
    chosen = allowed.get(period or "")
    if chosen is None:
        errors["period"] = [_("Not a filing period of this requirement.")]
    elif chosen.start > today:
        errors["period"] = [_("This period has not begun yet.")]
    if status not in ProgressStatus.values:
        errors["status"] = [_("Unknown status.")]
    try:
        percent = int(percent)
    except (TypeError, ValueError):
        percent = -1
    if not 0 <= percent <= 100:
        errors["percent"] = [_("The percentage is a whole number from 0 to 100.")]
    elif status == ProgressStatus.COMPLETED and percent != 100:
        errors["percent"] = [_("A completed requirement is done in full (100 per cent).")]
    elif status == ProgressStatus.NOT_STARTED and percent != 0:
        errors["percent"] = [_("A requirement not started is at zero per cent.")]
    narrative = clean_text(narrative, multiline=True)
    if not narrative:
        errors["narrative"] = [_("Say what was done in this period.")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    cleaned = clean_files(list(files))

    now = timezone.now()
    actor = actor_or_none(acting_user)
    previous = (Filing.objects.select_for_update().filter(responsibility=responsibility, period=period,
                                                          is_current=True).first())
    version = (Filing.objects.filter(responsibility=responsibility, period=period)
               .aggregate(v=Max("version"))["v"] or 0) + 1
    if previous is not None:
        previous.is_current = False
        _history(previous, acting_user, "superseded")
        previous.save(update_fields=["is_current"])
    filing = Filing(responsibility=responsibility, period=period, version=version, status=status, percent=percent,
                    narrative=narrative, filed_by=actor, filed_at=now)
    _history(filing, acting_user, "filed")
    try:
        with transaction.atomic():
            filing.save()
    except IntegrityError as exc:
        raise ConflictError(_("Someone else filed this period at the same time. Reload and try again.")) from exc
    if previous is not None:  # the evidence filed before stays with the new version, unless replaced
        for old in previous.evidence.all():
            Evidence.objects.create(filing=filing, file=old.file.name, content_type=old.content_type,
                                    extension=old.extension, size=old.size, sha256=old.sha256,
                                    original_name=old.original_name, uploaded_by=old.uploaded_by,
                                    uploaded_at=old.uploaded_at)
    for item in cleaned:
        evidence = Evidence(filing=filing, content_type=item.content_type, extension=item.extension,
                            size=len(item.content), sha256=item.sha256, original_name=item.original_name,
                            uploaded_by=actor, uploaded_at=now)
        store_file(evidence.file, f"file.{item.extension}", item.content)
        evidence.save()
    return filing


@transaction.atomic
def filing_review(*, filing: Filing, accept: bool, comment: str = "", acting_user) -> Filing:
    """Accept the current filing, or return it with a comment (the unit files a new version)."""
    filing = Filing.objects.select_for_update(of=("self",)).select_related(
        "responsibility__task", "responsibility__unit__home_region").get(pk=filing.pk)
    if not may_review(acting_user, filing.responsibility):
        raise PermissionDeniedError(_("Only the lead unit or a supervisor reviews this filing."))
    if not filing.is_current:
        raise TransitionNotAllowed(_("A newer version of this filing exists: review that one."))
    if filing.review != Review.SUBMITTED:
        raise TransitionNotAllowed(_("This filing was already reviewed."))
    comment = clean_text(comment, multiline=True)
    if not accept and not comment:
        raise InvalidInput(_("Say why the filing is returned."), field_errors={"comment": [_("Required.")]})
    filing.review = Review.ACCEPTED if accept else Review.RETURNED
    filing.review_comment = comment
    filing.reviewed_by = actor_or_none(acting_user)
    filing.reviewed_at = timezone.now()
    _history(filing, acting_user, "accepted" if accept else "returned")
    filing.save(update_fields=["review", "review_comment", "reviewed_by", "reviewed_at"])
    return filing


# --- Supervision notices ----------------------------------------------------------------------------

def _next_notice_number(year: int) -> str:
    prefix = f"DB{year}-"
    last = (SupervisionNotice.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    seq = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{seq:04d}"


@transaction.atomic
def notice_issue(*, task: Task, unit: Unit, content: str, due_on: date, acting_user) -> SupervisionNotice:
    """A supervision notice (督办函) to ``unit`` about ``task``, to be answered by ``due_on``."""
    unit = Unit.objects.select_related("home_region").get(pk=unit.pk)
    if not may_issue_notice(acting_user, unit):
        raise PermissionDeniedError(_("You may issue supervision notices only to the units of your territory."))
    involved = (task.lead_unit_id == unit.pk or Responsibility.objects.filter(
        unit=unit, task__programme_id=task.programme_id, task__path__startswith=task.path).exists())
    errors: dict[str, list[str]] = {}
    if not involved:
        errors["unit"] = [_("This unit is neither lead nor responsible for this task.")]
    content = clean_text(content, multiline=True)
    if not content:
        errors["content"] = [_("Say what the unit must do.")]
    today = timezone.localdate()
    if due_on is None or due_on < today:
        errors["due_on"] = [_("The response date cannot be in the past.")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    now = timezone.now()
    notice = SupervisionNotice(number=_next_notice_number(timezone.localdate(now).year), programme_id=task.programme_id,
                               task=task, unit=unit, content=content, due_on=due_on,
                               issued_by=actor_or_none(acting_user), issued_at=now)
    _history(notice, acting_user, "issued")
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError as exc:
        raise ConflictError() from exc
    return notice


@transaction.atomic
def notice_respond(*, notice: SupervisionNotice, response: str, acting_user) -> SupervisionNotice:
    notice = SupervisionNotice.objects.select_for_update().get(pk=notice.pk)
    if not handles_unit(acting_user, notice.unit_id):
        raise PermissionDeniedError(_("Only the unit the notice was sent to answers it."))
    if notice.status != NoticeStatus.ISSUED:
        raise TransitionNotAllowed(_("This notice was already answered."))
    response = clean_text(response, multiline=True)
    if not response:
        raise InvalidInput(_("Write the unit's response."), field_errors={"response": [_("Required.")]})
    notice.status = NoticeStatus.RESPONDED
    notice.response = response
    notice.responded_by = actor_or_none(acting_user)
    notice.responded_at = timezone.now()
    _history(notice, acting_user, "responded")
    notice.save(update_fields=["status", "response", "responded_by", "responded_at"])
    return notice


# --- Programmes and projects ------------------------------------------------------------------------

@transaction.atomic
def programme_create(*, code: str, title: str, region: Region, starts_on: date, ends_on: date,
                     description: str = "", acting_user) -> Programme:
    require_administer(acting_user, region.path, region)
    code, title = clean_text(code), clean_text(title)
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = [_("The code is required.")]
    if not title:
        errors["title"] = [_("The title is required.")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("The programme ends before it starts.")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    programme = Programme(code=code, title=title, region=region, starts_on=starts_on, ends_on=ends_on,
                          description=clean_text(description, multiline=True))
    _history(programme, acting_user, "created")
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError as exc:
        raise InvalidInput(_("A programme with this code exists."),
                           field_errors={"code": [_("Already taken.")]}) from exc
    return programme


def project_create(*, title: str, level: str, region: Region, unit: Unit | None = None,
                   status: str = ProjectStatus.CANDIDATE, description: str = "", files: list | None = None,
                   acting_user) -> InnovationProject:
    with atomic_with_files():  # the attachments written are deleted again if the creation rolls back
        return _project_create(title=title, level=level, region=region, unit=unit, status=status,
                               description=description, files=files or [], acting_user=acting_user)


def _project_create(*, title, level, region, unit, status, description, files, acting_user):
    scope_ok = (acting_user is SYSTEM or supervises_path(acting_user, region.path)
                or get_scope(acting_user).covers_path(Action.ADMINISTER, region.path))
    if not scope_ok:
        raise PermissionDeniedError(_("You may add projects only in your own territory."))
    title = clean_text(title)
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("The title is required.")]
    if level not in ProjectLevel.values:
        errors["level"] = [_("Unknown level.")]
    if status not in ProjectStatus.values:
        errors["status"] = [_("Unknown status.")]
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], field_errors=errors)
    cleaned = clean_files(list(files), field="attachments")
    now = timezone.now()
    project = InnovationProject(title=title, level=level, region=region, unit=unit, status=status,
                                description=clean_text(description, multiline=True),
                                created_by=actor_or_none(acting_user))
    _history(project, acting_user, "created")
    project.save()
    for item in cleaned:
        attachment = ProjectAttachment(project=project, content_type=item.content_type, extension=item.extension,
                                       size=len(item.content), sha256=item.sha256, original_name=item.original_name,
                                       uploaded_by=actor_or_none(acting_user), uploaded_at=now)
        store_file(attachment.file, f"file.{item.extension}", item.content)
        attachment.save()
    return project
