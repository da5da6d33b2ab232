"""The beat schedules of the map's tallies, as rows editable in the admin.

Every minute: overdue figures brought up to now. Every hour: the whole rebuild (the repair).

Idempotent like the alert sweep's schedule (governance 0004): an administrator's edits stay.
"""

from django.db import migrations

TASK_NAME = "Map figures: rebuild the per-grid tallies"
OVERDUE_TASK_NAME = "Map figures: overdue counts up to now"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    _, created_overdue = PeriodicTask.objects.get_or_create(
        name=OVERDUE_TASK_NAME,
        defaults={
            "task": "dashboards.map.tasks.refresh_map_overdue",
            "interval": every_minute,
            "expire_seconds": 60,
            "description": "dashboards.map.stats.refresh_overdue, see docs/map.md",
        },
    )
    _, created = PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "dashboards.map.tasks.refresh_map_tallies",
            "interval": every_hour,
            "expire_seconds": 3600,
            "description": "dashboards.map.stats.refresh_tallies, see docs/map.md",
        },
    )
    created = created or created_overdue
    if created:
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[TASK_NAME, OVERDUE_TASK_NAME]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_map_tallies_and_exports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
