from django.contrib import admin

from governance.alerts.models import Alert
from governance.core.admin import ReadOnlyAdminMixin, ScopedAdminMixin


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: the sweep raises and resolves alerts, people acknowledge them in the feed."""

    list_display = ["raised_at", "kind", "severity", "step", "subject_type", "subject_label", "region",
                    "acknowledged_at", "resolved_at"]
    list_filter = ["kind", "severity", "step", "subject_type"]
    search_fields = ["subject_label", "title"]
    date_hierarchy = "raised_at"
    list_select_related = ["region"]

