"""Export of the map's filtered incident list: xlsx or CSV, the columns the user picked.

The rows are exactly the map's list: ``incident_list(user)`` (the scoping door)
filtered by the shared ``IncidentFilter`` with the page's filters. Small exports
are answered at once; larger ones run as a Celery task that writes the file to
the storage backend and reports progress on an ``IncidentExport`` row.

Personal data (reporter name and phone) is masked with ``governance.core.masking``
unless the column was explicitly chosen *and* the personal-data policy lets the user see it
(``incidents.personal_data``); an export that shows any is recorded in the audit trail.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dashboards.map.stats import filtered_incidents
from dashboards.models import ExportStatus, IncidentExport
from governance.access.personal_data import record_bulk_reveal
from governance.core import spreadsheets
from governance.core.masking import mask_name, mask_phone
from grids.models import Level
from incidents import personal_data
from incidents.models import Incident, overdue_q

# Up to this many rows the export is written while the user waits; more go to the worker.
SYNC_LIMIT = 2000
PROGRESS_EVERY = 500
FORMATS = ("xlsx", "csv")


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: Callable[[Incident], object]
    personal: bool = False


COLUMNS: dict[str, Column] = {c.key: c for c in [
    Column("number", _("Number"), lambda i: i.number),
    Column("title", _("Title"), lambda i: i.title),
    Column("category", _("Category"), lambda i: str(i.category)),
    Column("severity", _("Severity"), lambda i: str(i.get_severity_display())),
    Column("status", _("Status"), lambda i: str(i.get_status_display())),
    Column("overdue", _("Overdue"), lambda i: str(_("yes")) if i.is_overdue_now else ""),
    Column("grid", _("Grid"), lambda i: i.grid.name),
    Column("responsible", _("Responsible command centre"), lambda i: i.responsible_region.name),
    Column("level", _("Responsible level"), lambda i: str(Level(i.responsible_level).label)),
    Column("lead_unit", _("Lead unit"), lambda i: i.lead_unit.name if i.lead_unit_id else ""),
    Column("source", _("Source"), lambda i: str(i.get_source_display())),
    Column("address", _("Address"), lambda i: i.address),
    Column("lat", _("Latitude"), lambda i: i.lat),
    Column("lng", _("Longitude"), lambda i: i.lng),
    Column("reported_at", _("Reported at"), lambda i: _local(i.reported_at)),
    Column("accept_due_at", _("Accept by"), lambda i: _local(i.accept_due_at)),
    Column("handle_due_at", _("Handle by"), lambda i: _local(i.handle_due_at)),
    Column("closed_at", _("Closed at"), lambda i: _local(i.closed_at)),
    Column("description", _("Description"), lambda i: i.description),
    Column("reporter_name", _("Reporter name"),
           lambda i: i.reporter_name if i.reveal_personal else mask_name(i.reporter_name), personal=True),
    Column("reporter_phone", _("Reporter phone"),
           lambda i: i.reporter_phone if i.reveal_personal else mask_phone(i.reporter_phone), personal=True),
]}
DEFAULT_COLUMNS = ["number", "title", "category", "severity", "status", "overdue", "grid", "reported_at",
                   "handle_due_at"]


def chosen_columns(keys: list[str]) -> list[str]:
    """The known columns among ``keys``, in the order given; the defaults when none is known."""
    picked = [k for k in dict.fromkeys(keys) if k in COLUMNS]
    return picked or list(DEFAULT_COLUMNS)


def export_rows(user, params, columns: list[str]) -> QuerySet[Incident]:
    """The map's list for this user and these filters, with what the columns need annotated."""
    incidents, _filterset = filtered_incidents(user, params)
    now = timezone.now()
    incidents = incidents.annotate(is_overdue_now=Case(When(overdue_q(now), then=Value(True)), default=Value(False),
                                                       output_field=BooleanField()))
    if any(COLUMNS[c].personal for c in columns):
        # Unmasked only where the personal-data policy lets this user see them (incidents.personal_data);
        # each export that shows any is recorded (record_export_reveal).
        reveal = Case(When(personal_data.revealable(user), then=Value(True)), default=Value(False),
                      output_field=BooleanField())
        incidents = incidents.annotate(reveal_personal=reveal)
    else:
        incidents = incidents.annotate(reveal_personal=Value(False, output_field=BooleanField()))
    return incidents


def record_export_reveal(user, incidents: QuerySet[Incident], columns: list[str]) -> None:
    """Record, in the audit trail, the incidents whose personal columns this export shows whole."""
    personal = [c for c in columns if COLUMNS[c].personal]
    if not personal:
        return
    ids = list(incidents.filter(reveal_personal=True).values_list("pk", flat=True))
    record_bulk_reveal(user=user, subject_type=personal_data.SUBJECT_TYPE, ids=ids, fields=personal,
                       reason=str(_("Export of the incident list with personal columns")))


def _values(incidents: Iterator[Incident], columns: list[str]) -> Iterator[list]:
    getters = [COLUMNS[c].value for c in columns]
    for incident in incidents:
        yield [getter(incident) for getter in getters]


def write_csv(out: io.TextIOBase, rows: Iterator[list], header: list[str]) -> None:
    spreadsheets.write_csv(out, rows, header)


def write_xlsx(out, rows: Iterator[list], header: list[str]) -> None:
    spreadsheets.write_xlsx(out, rows, header, title=str(_("Incidents")))


def headers(columns: list[str]) -> list[str]:
    return [str(COLUMNS[c].label) for c in columns]


def file_name(fmt: str) -> str:
    return f"incidents-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


def render_now(user, params, columns: list[str], fmt: str) -> bytes:
    """A small export, written in memory while the user waits."""
    incidents = export_rows(user, params, columns)
    record_export_reveal(user, incidents, columns)
    rows = _values(incidents.iterator(chunk_size=PROGRESS_EVERY), columns)
    if fmt == "csv":
        text = io.StringIO()
        write_csv(text, rows, headers(columns))
        return ("\ufeff" + text.getvalue()).encode("utf-8")  # a BOM so that Excel reads Chinese as UTF-8
    binary = io.BytesIO()
    write_xlsx(binary, rows, headers(columns))
    return binary.getvalue()


def params_to_json(params: QueryDict) -> dict[str, list[str]]:
    return {key: params.getlist(key) for key in params}


def params_from_json(data: dict[str, list[str]]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in data.items():
        query.setlist(key, values)
    return query


def run_export(export_id: int) -> str:
    """The background half: write the file, counting progress on the row. Running it again rewrites it."""
    export = IncidentExport.objects.select_related("owner").get(pk=export_id)
    user = get_user_model().objects.get(pk=export.owner_id)  # a fresh user: scope as of now, not as of queueing
    params = params_from_json(export.params)
    incidents = export_rows(user, params, export.columns)
    record_export_reveal(user, incidents, export.columns)
    total = incidents.count()
    IncidentExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, total=total, done=0, error="")

    def counted(rows: Iterator[list]) -> Iterator[list]:
        for n, row in enumerate(rows, start=1):
            if n % PROGRESS_EVERY == 0:
                IncidentExport.objects.filter(pk=export.pk).update(done=n)
            yield row

    try:
        rows = counted(_values(incidents.iterator(chunk_size=PROGRESS_EVERY), export.columns))
        suffix = f".{export.fmt}"
        with tempfile.TemporaryFile(suffix=suffix) as handle:
            if export.fmt == "csv":
                text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
                write_csv(text, rows, headers(export.columns))
                text.flush()
                text.detach()
            else:
                write_xlsx(handle, rows, headers(export.columns))
            handle.seek(0)
            if export.file:
                export.file.delete(save=False)
            export.file.save(file_name(export.fmt), File(handle), save=False)
    except Exception as exc:
        IncidentExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=str(exc)[:500],
                                                           finished_at=timezone.now())
        raise
    IncidentExport.objects.filter(pk=export.pk).update(status=ExportStatus.DONE, done=total, file=export.file.name,
                                                       finished_at=timezone.now())
    return export.file.name


def queue_export(export: IncidentExport) -> bool:
    """Hand the export to a worker; when the broker cannot take it, mark it failed, saying why."""
    from dashboards.map.tasks import run_incident_export
    from governance.core.tasks import enqueue

    if enqueue(run_incident_export, export.pk):
        return True
    IncidentExport.objects.filter(pk=export.pk, status=ExportStatus.QUEUED).update(
        status=ExportStatus.FAILED, finished_at=timezone.now(),
        error=gettext("The export could not be queued: the background task service does not answer. "
                      "Try again in a few minutes."))
    return False
