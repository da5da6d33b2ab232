"""The beat schedule of the orphan photo reclaim: every hour, as a row editable in the admin."""

from django.db import migrations

from governance.core.beat import Schedule, schedules_operation


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_idempotency_hash"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [schedules_operation(
        Schedule(name="Photos: delete files that no attachment refers to",
                 task="incidents.tasks.reclaim_orphan_photos", every=1, period="hours",
                 expire_seconds=3600,  # a run not started within the hour is superseded by the next one
                 description="incidents.attachments.reclaim_orphan_photos (governance.core.orphans), "
                             "see docs/alerts.md"),
    )]
