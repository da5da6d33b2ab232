"""Figures kept up to date for the command-centre map.

The tallies are a cache of counts over ``incidents.Incident``, never a source of
truth: ``dashboards.map.stats`` rebuilds them from the incidents (every minute
by beat, after ``seed_demo``) and recomputes the touched rows when an incident
is filed or moves on (on commit). See docs/map.md, "How fresh the numbers are".
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from governance.core.scoping import RestrictedQuerySet


class GridCategoryTally(models.Model):
    """All-time figures of one grid and one minor category.

    ``overdue`` is as of ``refreshed_at`` (time passing makes incidents overdue
    without any write); every other column is exact after each commit.
    """

    grid = models.ForeignKey("grids.Region", on_delete=models.CASCADE, related_name="+")
    # The grid's tree path, copied so that scope and roll-ups by region need no join.
    path = models.CharField(max_length=255)
    category = models.ForeignKey("incidents.Category", on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(default=0)  # every incident, voided and merged ones included
    dropped = models.PositiveIntegerField(default=0)  # voided or merged: not incidents to close
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    handling_seconds = models.FloatField(default=0)  # sum of closed_at - reported_at over the closed ones
    refreshed_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()
    # The scoping door: a tally belongs to its grid's place in the tree.
    scope_region_path = "path"

    class Meta:
        verbose_name = _("grid tally")
        constraints = [models.UniqueConstraint(fields=["grid", "category"], name="grid_category_tally_key")]
        indexes = [models.Index(fields=["path"], name="grid_tally_path", opclasses=["varchar_pattern_ops"])]


class GridDayTally(models.Model):
    """Incidents filed and closed in one grid on one day (local time): the trend chart and "new today"."""

    grid = models.ForeignKey("grids.Region", on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=255)
    day = models.DateField()
    reported = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    scope_region_path = "path"

    class Meta:
        verbose_name = _("grid day tally")
        constraints = [models.UniqueConstraint(fields=["grid", "day"], name="grid_day_tally_key")]
        indexes = [models.Index(fields=["day", "path"], name="grid_day_tally_day")]
