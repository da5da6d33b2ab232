"""Export pages: start an export from a list page, its progress page, its download, and "My exports".

Thin: the services ask, run and refuse; the selectors fetch through the job's door (its owner
alone: anyone else gets 404). A page offers an export with ``export_controls`` and the
``exports/_controls.html`` include (see ``governance.exports``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.core.errors import InvalidInput, NotFoundError, PermissionDeniedError
from governance.core.storage import STORAGE_ERRORS
from governance.exports import selectors, services
from governance.exports.kinds import FORMATS, TableExport
from governance.exports.models import ExportJob, ExportStatus

# Fields of the controls' form that are not the page's filters.
RESERVED_FIELDS = ("csrfmiddlewaretoken", "format", "next")
PAGE_SIZE = 25


def _local_path(request, candidate: str | None) -> str:
    """``candidate`` if it is a path on this site (the page the export was asked from), else ""."""
    if candidate and candidate.startswith("/") and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return ""


def export_controls(request, kind: str) -> dict | None:
    """What ``exports/_controls.html`` offers on a list page: the page's filters as they are applied (every page
    of the list, not only the one shown), the kind's columns and formats; ``None`` when the user may not export."""
    try:
        export_kind = services.export_kind_for(request.user, kind)
    except (NotFoundError, PermissionDeniedError):
        return None
    return {
        "action": reverse("exports:start", args=[kind]),
        "filters": [(key, value) for key in request.GET if key != "page" for value in request.GET.getlist(key)],
        "next": request.get_full_path(),
        "columns": export_kind.column_choices() if isinstance(export_kind, TableExport) else [],
        "formats": [(fmt, FORMATS[fmt][1]) for fmt in export_kind.formats],
    }


def start_export(request, kind: str) -> HttpResponse:
    """Ask for an export with the page's POST: the file at once when small, else the job's progress page.

    For the views that offer an export under their own URL (the map's), after their own checks.
    """
    data = request.POST.copy()
    for name in RESERVED_FIELDS:
        data.pop(name, None)
    return_to = _local_path(request, request.POST.get("next"))
    try:
        job = services.export_start(owner=request.user, kind=kind, fmt=request.POST.get("format", "xlsx"), data=data,
                                    return_to=return_to)
    except NotFoundError:
        raise Http404 from None
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except InvalidInput as exc:
        return _refused(request, str(exc.message), return_to=return_to, status=400)
    if job.status == ExportStatus.DONE:
        return _file_response(request, job)
    return redirect("exports:progress", pk=job.pk)


@login_required
@require_POST
def start(request, kind: str):
    return start_export(request, kind)


@login_required
@require_GET
def progress(request, pk: int):
    job = selectors.export_job(request.user, pk)
    return render(request, "exports/progress.html", {
        "job": job, "status": selectors.job_status(job), "status_url": reverse("api-export-job", args=[job.pk]),
        "back": job.return_to or reverse("home"),
    })


@login_required
@require_GET
def download(request, pk: int):
    job = selectors.export_job(request.user, pk)
    if job.status != ExportStatus.DONE or not job.file:
        return redirect("exports:progress", pk=job.pk)  # not ready, failed or expired: the page says which
    return _file_response(request, job)


@login_required
@require_GET
def job_list(request):
    page = Paginator(selectors.export_jobs(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    jobs = [(job, selectors.job_status(job)) for job in page.object_list]
    return render(request, "exports/list.html", {"page": page, "jobs": jobs,
                                                 "retention_hours": settings.EXPORT_RETENTION_HOURS})


def _file_response(request, job: ExportJob) -> HttpResponse:
    """The job's file, streamed from the storage through this view (never a URL of the storage itself)."""
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None  # deleted by the expiry task a moment ago
    except STORAGE_ERRORS:
        return _refused(request, _("The file store does not answer just now. Try again in a minute."),
                        return_to=reverse("exports:progress", args=[job.pk]), status=503)
    response = FileResponse(handle, as_attachment=True, filename=job.file_name, content_type=FORMATS[job.fmt][0])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"  # personal data may be in it: no cache keeps a copy
    return response


def _refused(request, message: str, *, return_to: str, status: int) -> HttpResponse:
    return render(request, "exports/refused.html", {"message": message, "back": return_to or reverse("home")},
                  status=status)
