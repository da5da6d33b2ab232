"""The beat schedule of the alert sweep: every minute, as a row editable in the admin (governance.core.beat)."""

from django.db import migrations

from governance.core.beat import Schedule, schedules_operation


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_alert"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [schedules_operation(
        Schedule(name="Alert sweep: deadlines, alerts and escalation", task="governance.tasks.sweep_deadlines",
                 every=1, period="minutes", expire_seconds=60,  # a sweep not started within a minute is superseded
                 description="governance.alerts.sweep.run_sweep, see docs/alerts.md"),
    )]
