"""What can be exported of the ledgers: a programme's progress report (xlsx, PDF, CSV) and the project library.

The progress report is the dashboard's figures for the owner as they are when the job runs
(``selectors.programme_report``: the owner's scope, so a supervisor's file holds only their territory's
units); the project library is the page's own scoped queryset and FilterSet.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.core.errors import InvalidInput
from governance.core.scoping import Action, get_scope
from governance.exports.kinds import Column, ExportKind, ExportRun, TableExport, register
from governance.ledgers import reports, selectors
from governance.ledgers.filters import ProjectFilter
from governance.ledgers.models import Programme


def _programme(user, params: QueryDict) -> Programme:
    value = (params.get("programme") or "").strip()
    programme = None
    if value.isdigit():
        programme = selectors.programme_list(user).filter(pk=int(value)).first()
    if programme is None:
        message = gettext("Choose a programme you may see.")
        raise InvalidInput(message, code="invalid_filters", field_errors={"programme": [message]})
    return programme


@register
class ProgressReportExport(ExportKind):
    """A programme's progress report: xlsx (a sheet per view), PDF (the key-task summary), CSV (the matrix)."""

    name = "ledger_progress"
    label = _("Pilot-task progress report")
    formats = ("xlsx", "pdf", "csv")
    sync_limit = 2000

    def allowed(self, user) -> bool:
        return not get_scope(user).is_empty(Action.VIEW)

    def clean(self, user, data: QueryDict) -> tuple[dict[str, list[str]], dict]:
        programme = _programme(user, data)
        return {"programme": [str(programme.pk)]}, {}

    def count(self, user, params: QueryDict, options: dict) -> int | None:
        return selectors.responsibility_list(user, _programme(user, params)).count()

    def write(self, run: ExportRun) -> None:
        programme = _programme(run.user, run.params)
        report = selectors.programme_report(run.user, programme, with_matrix=run.fmt != "pdf")
        sheets = [reports.task_sheet(report), reports.unit_sheet(report), reports.lagging_sheet(report),
                  reports.matrix_sheet(report)]
        run.progress.start(len(report.states) + len(report.rows))
        if run.fmt == "xlsx":
            reports.write_xlsx(run.out, sheets, on_row=lambda: run.progress.advance(1))
        elif run.fmt == "pdf":
            reports.write_pdf(run.out, report, on_row=lambda: run.progress.advance(1))
        else:
            reports.write_csv(run.out, report)


@register
class ProjectLibraryExport(TableExport):
    """The innovation project library as its page lists it."""

    name = "ledger_projects"
    label = _("Innovation projects")
    filterset_class = ProjectFilter
    columns = [
        Column("title", _("Title"), lambda p: p.title, width=30),
        Column("level", _("Level"), lambda p: str(p.get_level_display())),
        Column("region", _("Territory"), lambda p: p.region.name, width=16),
        Column("unit", _("Unit"), lambda p: p.unit.name if p.unit_id else "", width=24),
        Column("status", _("Status"), lambda p: str(p.get_status_display())),
        Column("description", _("Description"), lambda p: p.description, width=50),
        Column("created_at", _("Created at"), lambda p: p.created_at, width=17),
    ]
    default_columns = ["title", "level", "region", "unit", "status", "description"]

    def allowed(self, user) -> bool:
        return not get_scope(user).is_empty(Action.VIEW)

    def base_queryset(self, user):
        return selectors.project_list(user)
