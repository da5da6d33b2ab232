from django.contrib import admin

from governance.core.admin import ReadOnlyAdminMixin
from governance.exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, for superusers (Django's model permissions): who exported what and when, and why a job failed.

    The files themselves are their owners' alone: the admin shows no link to them.
    """

    list_display = ["created_at", "owner", "kind", "fmt", "status", "total", "attempts", "finished_at", "expires_at"]
    list_filter = ["status", "kind", "fmt"]
    search_fields = ["owner__username", "kind"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    exclude = ["file"]
