"""Admin for the ledgers: read-only and scoped. Programmes, tasks, filings, notices and projects change
through the services (the pages, the API, the import) alone, so every change is checked and recorded."""

from __future__ import annotations

from django.contrib import admin

from governance.core.admin import ReadOnlyAdminMixin, ScopedHistoryAdmin
from governance.ledgers.models import Filing, InnovationProject, Programme, SupervisionNotice, Task


class ReadOnlyScopedAdmin(ReadOnlyAdminMixin, ScopedHistoryAdmin):
    pass


@admin.register(Programme)
class ProgrammeAdmin(ReadOnlyScopedAdmin):
    list_display = ["code", "title", "region", "starts_on", "ends_on"]
    search_fields = ["code", "title"]


@admin.register(Task)
class TaskAdmin(ReadOnlyScopedAdmin):
    list_display = ["code", "title", "programme", "lead_unit", "deadline", "cycle", "weight"]
    list_filter = ["cycle", "depth"]
    search_fields = ["code", "title"]
    list_select_related = ["programme", "lead_unit"]


@admin.register(Filing)
class FilingAdmin(ReadOnlyScopedAdmin):
    list_display = ["responsibility", "period", "version", "is_current", "status", "percent", "review", "filed_at"]
    list_filter = ["status", "review", "is_current"]
    list_select_related = ["responsibility__task", "responsibility__unit"]


@admin.register(SupervisionNotice)
class SupervisionNoticeAdmin(ReadOnlyScopedAdmin):
    list_display = ["number", "unit", "task", "due_on", "status", "issued_at"]
    list_filter = ["status"]
    search_fields = ["number", "unit__name"]


@admin.register(InnovationProject)
class InnovationProjectAdmin(ReadOnlyScopedAdmin):
    list_display = ["title", "level", "region", "unit", "status"]
    list_filter = ["level", "status"]
    search_fields = ["title"]
