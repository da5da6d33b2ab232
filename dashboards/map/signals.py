"""Keep the map's tallies exact: every save of an incident applies the difference it makes, in its transaction.

A receiver rather than a call in ``incidents.services``: the dashboards depend on
the incidents, never the other way round. ``dashboards.map.tallies`` says how the
difference is computed. Bulk writes that send no signal (``bulk_create`` in the
demo and the benchmarks) are followed by ``refresh_tallies``; the nightly rebuild
(``dashboards.map.tasks.refresh_map_tallies``) repairs anything else; see docs/map.md.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from incidents.models import Incident


def _recompute(grid_id: int, category_id: int, days: list) -> None:
    from dashboards.map.stats import refresh_incident_keys

    refresh_incident_keys(grid_id=grid_id, category_id=category_id, days=days)


def _grid_path(instance: Incident, grid_id: int) -> str | None:
    from grids.models import Region

    if Incident.grid.is_cached(instance) and instance.grid.pk == grid_id:
        return instance.grid.path
    return Region.objects.filter(pk=grid_id).values_list("path", flat=True).first()


@receiver(post_save, sender=Incident, dispatch_uid="dashboards.map.incident_saved")
def incident_saved(sender, instance: Incident, created: bool = False, raw: bool = False, **kwargs) -> None:
    from dashboards.map.tallies import TALLY_FIELDS, apply_change, change_between

    if raw:  # loading fixtures
        return
    loaded = getattr(instance, "loaded_values", None)
    known = all(name in instance.__dict__ for name in TALLY_FIELDS)
    if known and (created or (loaded is not None and all(name in loaded for name in TALLY_FIELDS))):
        new = {name: instance.__dict__[name] for name in TALLY_FIELDS}
        old = None if created else {name: loaded[name] for name in TALLY_FIELDS}
        if old != new:
            now = timezone.now()
            apply_change(change_between(old, new, now), partial(_grid_path, instance), now)
        instance.loaded_values = {**(loaded or {}), **new}
        return
    # The state before this save is unknown (read with only/defer): recount its rows once it commits.
    days = [timezone.localdate(instance.reported_at)]
    if instance.closed_at is not None:
        days.append(timezone.localdate(instance.closed_at))
    # robust: a failed recompute is logged, never turned into an error for the write that committed
    transaction.on_commit(partial(_recompute, instance.grid_id, instance.category_id, days), robust=True)
