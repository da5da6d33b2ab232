"""The beat schedule of the exports' expiry task: every 15 minutes, as a row editable in the admin.

Idempotent like the alert sweep's schedule (governance 0004): an administrator's edits stay.
"""

from django.db import migrations

TASK_NAME = "Exports: delete expired files and fail jobs that stopped"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_15_minutes, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    _, created = PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "governance.exports.tasks.expire_exports",
            "interval": every_15_minutes,
            # A run not started within its quarter hour is superseded by the next one.
            "expire_seconds": 900,
            "description": "governance.exports.services.exports_expire: expired files, stalled jobs, orphan files",
        },
    )
    if created:
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_export_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
