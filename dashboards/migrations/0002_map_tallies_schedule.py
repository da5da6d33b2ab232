"""The beat schedules of the map's tallies: overdue figures every minute, the whole rebuild (the repair) every
hour, as rows editable in the admin (governance.core.beat)."""

from django.db import migrations

from governance.core.beat import Schedule, schedules_operation


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_map_tallies_and_exports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [schedules_operation(
        Schedule(name="Map figures: overdue counts up to now", task="dashboards.map.tasks.refresh_map_overdue",
                 every=1, period="minutes", expire_seconds=60,
                 description="dashboards.map.stats.refresh_overdue, see docs/map.md"),
        Schedule(name="Map figures: rebuild the per-grid tallies", task="dashboards.map.tasks.refresh_map_tallies",
                 every=1, period="hours", expire_seconds=3600,
                 description="dashboards.map.stats.refresh_tallies, see docs/map.md"),
    )]
