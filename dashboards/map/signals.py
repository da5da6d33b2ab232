"""Keep the map's tallies fresh: after every committed write to an incident, recompute what it touched.

A receiver rather than a call in ``incidents.services``: the dashboards depend on
the incidents, never the other way round. Bulk writes that send no signal
(``bulk_create``, the alert sweep's ``UPDATE``) are caught by the minute rebuild
(``dashboards.map.tasks.refresh_map_tallies``); see docs/map.md.
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


@receiver(post_save, sender=Incident, dispatch_uid="dashboards.map.incident_saved")
def incident_saved(sender, instance: Incident, raw: bool = False, **kwargs) -> None:
    if raw:  # loading fixtures
        return
    days = [timezone.localdate(instance.reported_at)]
    if instance.closed_at is not None:
        days.append(timezone.localdate(instance.closed_at))
    # robust: a failed recompute is logged, never turned into an error for the write that committed
    transaction.on_commit(partial(_recompute, instance.grid_id, instance.category_id, days), robust=True)
