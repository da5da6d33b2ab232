"""Ledger pages: the supervisor's dashboard, the unit's filing page, a responsibility's filings with their
review, evidence downloads, supervision notices and the public-notice list, the project library, the import.

Thin: reads through ``selectors`` (the scoping door: hidden answers 404), writes through ``services`` (which
check the right to act: refused answers 403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.core.authority import access_object, may
from governance.core.errors import DomainError, PermissionDeniedError
from governance.core.scoping import Action, get_scope
from governance.core.storage import STORAGE_ERRORS
from governance.exports.views import export_controls
from governance.ledgers import importer, periods, selectors, services
from governance.ledgers.filters import ProjectFilter
from governance.ledgers.forms import FilingForm, ImportForm, NoticeForm, ProjectForm, ResponseForm, ReviewForm
from governance.ledgers.models import (
    Evidence,
    Filing,
    InnovationProject,
    Programme,
    ProjectAttachment,
    Responsibility,
    SupervisionNotice,
    overdue_notice_q,
)

PAGE_SIZE = 25


def _nav(request) -> dict:
    scope = get_scope(request.user)
    return {"files": scope.everything or bool(scope.units(Action.HANDLE)),
            "supervises": scope.everything or bool(scope.paths(Action.SUPERVISE))}


def _render(request, template: str, context: dict, status: int = 200):
    context.setdefault("ledger_nav", _nav(request))
    return render(request, template, context, status=status)


def _refused(request, exc: DomainError) -> None:
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(str(exc.message))
    messages.error(request, str(exc.message))


@login_required
@require_GET
def index(request):
    programmes = list(selectors.programme_list(request.user))
    if not programmes and get_scope(request.user).is_empty(Action.VIEW):
        raise PermissionDenied
    return _render(request, "ledgers/index.html", {"programmes": programmes})


@login_required
@require_GET
def dashboard(request, pk: int):
    """The supervisor's dashboard: progress by task (a tree with bars), units ranked, lagging, recent filings."""
    programme = access_object(Programme.objects.select_related("region"), request.user, pk=pk)
    report = selectors.programme_report(request.user, programme)
    export = export_controls(request, "ledger_progress")
    if export is not None:
        export["filters"] = [("programme", str(programme.pk))]
    return _render(request, "ledgers/dashboard.html", {
        "programme": programme, "report": report, "recent": selectors.recent_filings(request.user, programme),
        "reviewable": selectors.reviewable_filings(request.user, programme).count(),
        "overdue_notices": selectors.notice_list(request.user).filter(programme=programme)
        .filter(overdue_notice_q(timezone.localdate())).count(),
        "export": export,
    })


@login_required
@require_GET
def my_filings(request, pk: int):
    """The unit's filing page: its responsibilities in the programme, their state, what waits for review."""
    programme = access_object(Programme.objects.all(), request.user, pk=pk)
    report = selectors.programme_report(request.user, programme)
    own = {r.pk: r for r in selectors.own_responsibilities(request.user, programme)}
    rows = [(own[s.responsibility_id], s) for s in report.states if s.responsibility_id in own]
    return _render(request, "ledgers/my_filings.html", {
        "programme": programme, "rows": rows,
        "to_review": selectors.reviewable_filings(request.user, programme)[:50],
    })


def _filing_periods(responsibility: Responsibility) -> list[str]:
    task, programme = responsibility.task, responsibility.task.programme
    today = timezone.localdate()
    return [p.key for p in periods.requirement_periods(task.cycle, programme.starts_on, programme.ends_on,
                                                       task.deadline) if p.start <= today][::-1]


@login_required
@require_http_methods(["GET", "POST"])
def responsibility(request, pk: int):
    """One requirement of one unit: every filing and version, the filing form, review and notice forms."""
    resp = access_object(Responsibility.objects.select_related("task__programme", "unit__home_region",
                                                               "task__lead_unit"), request.user, pk=pk)
    form = FilingForm(periods=_filing_periods(resp))
    if request.method == "POST":
        form = FilingForm(request.POST, request.FILES, periods=_filing_periods(resp))
        if not services.may_file(request.user, resp):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.filing_submit(responsibility=resp, period=form.cleaned_data["period"],
                                       status=form.cleaned_data["status"], percent=form.cleaned_data["percent"],
                                       narrative=form.cleaned_data["narrative"],
                                       files=form.cleaned_data["evidence"], acting_user=request.user)
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("Progress filed."))
                return redirect("ledgers:responsibility", pk=resp.pk)
    filings = list(Filing.objects.filter(responsibility=resp).select_related("filed_by", "reviewed_by")
                   .prefetch_related("evidence").order_by("-period", "-version"))
    task = resp.task
    state = next((s for s in selectors.programme_report(request.user, task.programme).states
                  if s.responsibility_id == resp.pk), None)
    return _render(request, "ledgers/responsibility.html", {
        "resp": resp, "task": task, "filings": filings, "form": form, "state": state,
        "may_file": services.may_file(request.user, resp), "may_review": services.may_review(request.user, resp),
        "may_notice": services.may_issue_notice(request.user, resp.unit), "review_form": ReviewForm(),
        "notice_form": NoticeForm(), "notices": selectors.notice_list(request.user).filter(task=task, unit=resp.unit),
    })


@login_required
@require_POST
def review(request, pk: int):
    filing = access_object(Filing.objects.select_related("responsibility"), request.user, pk=pk)
    form = ReviewForm(request.POST)
    if not services.may_review(request.user, filing.responsibility):
        raise PermissionDenied
    if form.is_valid():
        try:
            services.filing_review(filing=filing, accept=form.cleaned_data["decision"] == "accept",
                                   comment=form.cleaned_data["comment"], acting_user=request.user)
        except DomainError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Filing accepted.") if form.cleaned_data["decision"] == "accept"
                             else _("Filing returned to the unit."))
    else:
        messages.error(request, _("Choose accept or return."))
    return redirect("ledgers:responsibility", pk=filing.responsibility_id)


@login_required
@require_POST
def notice_issue(request, pk: int):
    """Issue a supervision notice to the responsibility's unit about its requirement."""
    resp = access_object(Responsibility.objects.select_related("task", "unit__home_region"), request.user, pk=pk)
    if not services.may_issue_notice(request.user, resp.unit):
        raise PermissionDenied
    form = NoticeForm(request.POST)
    if form.is_valid():
        try:
            notice = services.notice_issue(task=resp.task, unit=resp.unit, content=form.cleaned_data["content"],
                                           due_on=form.cleaned_data["due_on"], acting_user=request.user)
        except DomainError as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Supervision notice %(number)s issued.") % {"number": notice.number})
            return redirect("ledgers:notice", pk=notice.pk)
    else:
        messages.error(request, _("Write the notice and its response date."))
    return redirect("ledgers:responsibility", pk=resp.pk)


@login_required
@require_GET
def evidence_download(request, pk: int):
    """An evidence file, only to those who may see its filing: no storage URL ever reaches a browser."""
    evidence = access_object(Evidence.objects.select_related("filing"), request.user, pk=pk)
    return _serve(evidence, f"{evidence.filing.period}-{evidence.pk}.{evidence.extension}")


@login_required
@require_GET
def project_attachment(request, pk: int):
    attachment = access_object(ProjectAttachment.objects.all(), request.user, pk=pk)
    return _serve(attachment, f"project-{attachment.project_id}-{attachment.pk}.{attachment.extension}")


def _serve(stored, name: str):
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    except STORAGE_ERRORS:
        from governance.core.errors import StorageUnavailable

        raise StorageUnavailable() from None
    response = FileResponse(handle, content_type=stored.content_type, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_GET
def notices(request):
    if get_scope(request.user).is_empty(Action.VIEW):
        raise PermissionDenied
    page = Paginator(selectors.notice_list(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "ledgers/notices.html", {"page": page, "today": timezone.localdate(), "public": False})


@login_required
@require_GET
def public_notices(request):
    """通报: the notices not answered by their due date."""
    if get_scope(request.user).is_empty(Action.VIEW):
        raise PermissionDenied
    page = Paginator(selectors.public_notice_list(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "ledgers/notices.html", {"page": page, "today": timezone.localdate(), "public": True})


@login_required
@require_http_methods(["GET", "POST"])
def notice(request, pk: int):
    item = access_object(SupervisionNotice.objects.select_related("task", "unit", "programme"), request.user, pk=pk)
    may_respond = services.handles_unit(request.user, item.unit_id)
    form = ResponseForm()
    if request.method == "POST":
        if not may_respond:
            raise PermissionDenied
        form = ResponseForm(request.POST)
        if form.is_valid():
            try:
                services.notice_respond(notice=item, response=form.cleaned_data["response"], acting_user=request.user)
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("Response recorded."))
                return redirect("ledgers:notice", pk=item.pk)
    resp = Responsibility.objects.filter(task=item.task, unit=item.unit).first()
    return _render(request, "ledgers/notice.html", {
        "notice": item, "form": form, "may_respond": may_respond and item.status == "issued",
        "overdue": SupervisionNotice.objects.filter(pk=item.pk).filter(overdue_notice_q(timezone.localdate())).exists(),
        "resp": resp,
    })


def _project_regions(user):
    from grids.models import Level, Region

    scope = get_scope(user)
    regions = Region.objects.filter(level__lte=Level.DISTRICT)
    if scope.everything:
        return list(regions)
    paths = set(scope.paths(Action.SUPERVISE)) | set(scope.paths(Action.ADMINISTER))
    if not paths:
        return []
    from django.db.models import Q

    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return list(regions.filter(q))


@login_required
@require_http_methods(["GET", "POST"])
def projects(request):
    """The innovation project library: searchable, exportable; supervisors add projects."""
    if get_scope(request.user).is_empty(Action.VIEW):
        raise PermissionDenied
    regions = _project_regions(request.user)
    form = ProjectForm(regions=regions) if regions else None
    if request.method == "POST":
        if not regions:
            raise PermissionDenied
        form = ProjectForm(request.POST, request.FILES, regions=regions)
        if form.is_valid():
            region = next(r for r in regions if str(r.pk) == form.cleaned_data["region"])
            try:
                project = services.project_create(
                    title=form.cleaned_data["title"], level=form.cleaned_data["level"], region=region,
                    status=form.cleaned_data["status"], description=form.cleaned_data["description"],
                    files=form.cleaned_data["attachments"], acting_user=request.user)
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("Project added to the library."))
                return redirect("ledgers:project", pk=project.pk)
    filterset = ProjectFilter(request.GET, queryset=selectors.project_list(request.user))
    rows = filterset.qs if filterset.is_valid() else selectors.project_list(request.user).none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "ledgers/projects.html", {"filter": filterset, "page": page, "form": form,
                                                      "export": export_controls(request, "ledger_projects")})


@login_required
@require_GET
def project(request, pk: int):
    item = access_object(InnovationProject.objects.select_related("region", "unit"), request.user, pk=pk)
    return _render(request, "ledgers/project.html", {"project": item, "attachments": item.attachments.all()})


@login_required
@require_http_methods(["GET", "POST"])
def import_tasks(request, pk: int):
    """Load a programme's task breakdown from xlsx (administrators of its territory)."""
    programme = access_object(Programme.objects.select_related("region"), request.user, pk=pk)
    if not may(programme, request.user, Action.ADMINISTER):
        raise PermissionDenied
    form = ImportForm()
    problems = []
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                made = importer.import_tasks(programme=programme, file=form.cleaned_data["file"],
                                             acting_user=request.user)
            except importer.ImportRefused as exc:
                problems = exc.problems
                messages.error(request, _("Nothing was imported: %(n)d problems.") % {"n": len(problems)})
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("%(n)d tasks imported.") % {"n": made})
                return redirect(reverse("ledgers:dashboard", args=[programme.pk]))
    return _render(request, "ledgers/import.html", {"programme": programme, "form": form, "problems": problems,
                                                    "columns": importer.COLUMNS})
