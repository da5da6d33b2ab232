from django.contrib import admin

from governance.admin import ReadOnlyAdminMixin
from governance.alerts.models import Alert
from governance.scoping import Action


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the sweep raises and resolves alerts, people acknowledge them in the feed."""

    list_display = ["raised_at", "kind", "severity", "step", "subject_type", "subject_label", "region",
                    "acknowledged_at", "resolved_at"]
    list_filter = ["kind", "severity", "step", "subject_type"]
    search_fields = ["subject_label", "title"]
    date_hierarchy = "raised_at"
    list_select_related = ["region"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.restrict(request.user, Action.ADMINISTER)

