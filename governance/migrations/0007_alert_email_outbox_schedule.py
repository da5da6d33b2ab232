"""The beat schedule of the alert email outbox: every minute, as a row editable in the admin."""

from django.db import migrations

from governance.core.beat import Schedule, schedules_operation


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0006_alert_addressees_and_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [schedules_operation(
        Schedule(name="Alert emails: send what waits in the outbox",
                 task="governance.tasks.send_pending_alert_emails", every=1, period="minutes", expire_seconds=60,
                 description="governance.alerts.notify.send_pending_alert_emails, see docs/alerts.md"),
    )]
