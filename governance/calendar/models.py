"""The days an administrator states: public holidays and make-up working days (a table of the ``governance`` app)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (no work)")
    WORKING_DAY = "working_day", _("Make-up working day (work)")


class CalendarDay(models.Model):
    """One day whose working status an administrator states: a public holiday or a make-up working day (调休).

    A row overrides the chinesecalendar library for its date (to correct a year)
    and is the only source of make-up working days for years the library does not
    know. Days without a row follow the library, else the public holidays the law
    fixes (``governance.calendar.statutory_holidays``), else Monday to Friday.
    See ``governance.calendar.workcalendar`` and docs/workcalendar.md.
    """

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("The festival, e.g. 春节 or 国庆节."))
    note = models.TextField(_("note"), blank=True, help_text=_("Source, e.g. the State Council notice."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} · {self.get_kind_display()}" + (f" · {self.name}" if self.name else "")
