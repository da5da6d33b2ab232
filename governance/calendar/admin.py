"""The admin of the national holiday calendar (model permissions: it is one for the whole country)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from governance.calendar.models import CalendarDay
from governance.calendar.workcalendar import calendar_warnings


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    """Public holidays and make-up working days: corrections to chinesecalendar, and years it does not know.

    The calendar is one for the whole country, not territory-scoped: who may edit it
    is decided by the ordinary model permissions (governance.change_calendarday).
    """

    list_display = ["date", "weekday", "kind", "name", "note", "updated_at"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name", "note"]
    ordering = ["-date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return date_format(obj.date, "l")

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied  # history is a record, never written back
        return super().history_form_view(request, object_id, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for warning in calendar_warnings():
                self.message_user(request, warning, messages.WARNING)
        return super().changelist_view(request, extra_context)
