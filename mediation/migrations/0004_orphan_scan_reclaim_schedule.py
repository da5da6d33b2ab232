"""The beat schedule of the orphan scan reclaim: every hour, as a row editable in the admin."""

from django.db import migrations

from governance.core.beat import Schedule, schedules_operation


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0003_case_indexes_for_workbench_and_figures"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [schedules_operation(
        Schedule(name="Mediation: delete scanned agreements that no agreement refers to",
                 task="mediation.tasks.reclaim_orphan_scans", every=1, period="hours",
                 expire_seconds=3600,  # a run not started within the hour is superseded by the next one
                 description="mediation.services.reclaim_orphan_scans (governance.core.orphans)"),
    )]
