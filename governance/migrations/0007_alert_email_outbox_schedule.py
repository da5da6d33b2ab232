"""The beat schedule of the alert email outbox: every minute, as a row editable in the admin.

Idempotent like 0004: an administrator's edits (enabled flag, interval) survive re-running.
"""

from django.db import migrations

TASK_NAME = "Alert emails: send what waits in the outbox"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    _, created = PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "governance.tasks.send_pending_alert_emails",
            "interval": every_minute,
            "expire_seconds": 60,
            "description": "governance.alerts.notify.send_pending_alert_emails, see docs/alerts.md",
        },
    )
    if created:
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0006_alert_addressees_and_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
