"""The beat schedule of the alert sweep: every minute, as a row editable in the admin.

Idempotent: re-running finds the existing schedule and task and leaves an
administrator's edits (enabled flag, interval) alone.
"""

from django.db import migrations

TASK_NAME = "Alert sweep: deadlines, alerts and escalation"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    _, created = PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "governance.tasks.sweep_deadlines",
            "interval": every_minute,
            # A sweep not started within a minute is superseded by the next one.
            "expire_seconds": 60,
            "description": "governance.alerts.sweep.run_sweep, see docs/alerts.md",
        },
    )
    if created:
        # Tell a running beat to reload its schedule (what PeriodicTask.save() does outside migrations).
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_alert"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
