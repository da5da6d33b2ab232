"""The beat schedule of the orphan photo reclaim: every hour, as a row editable in the admin.

Idempotent like the alert sweep's schedule (governance 0004): an administrator's edits stay.
"""

from django.db import migrations

TASK_NAME = "Photos: delete files that no attachment refers to"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    _, created = PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "incidents.tasks.reclaim_orphan_photos",
            "interval": every_hour,
            # A run not started within the hour is superseded by the next one.
            "expire_seconds": 3600,
            "description": "incidents.attachments.reclaim_orphan_photos (governance.core.orphans), see docs/alerts.md",
        },
    )
    if created:
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_idempotency_hash"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
