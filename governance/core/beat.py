"""Beat's schedules as rows of django-celery-beat, created by data migrations and editable in the admin.

A migration says what runs and how often; this module writes the rows the same way for every app:
``get_or_create`` by name, so re-running a migration leaves an administrator's edits (enabled, interval)
alone, and a running beat is told to reload only when a row was created. Chosen over ``post_migrate``
because a migration runs once, is reversible and shows in ``showmigrations``::

    operations = [schedules_operation(Schedule(
        name="Alert sweep: deadlines, alerts and escalation", task="governance.tasks.sweep_deadlines",
        every=1, period="minutes", expire_seconds=60, description="governance.alerts.sweep.run_sweep"))]
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import migrations


@dataclass(frozen=True)
class Schedule:
    name: str  # the row's name: what an administrator reads in the admin
    task: str  # the Celery task's registered name
    every: int
    period: str  # "minutes", "hours", "days"
    expire_seconds: int  # a run not started by then is dropped: the next one does the same work
    description: str = ""


def create_schedules(apps, schedules: tuple[Schedule, ...]) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    created_any = False
    for schedule in schedules:
        interval, _ = IntervalSchedule.objects.get_or_create(every=schedule.every, period=schedule.period)
        _, created = PeriodicTask.objects.get_or_create(name=schedule.name, defaults={
            "task": schedule.task, "interval": interval, "expire_seconds": schedule.expire_seconds,
            "description": schedule.description,
        })
        created_any |= created
    if created_any:
        # Tell a running beat to reload its schedule (what PeriodicTask.save() does outside migrations).
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_schedules(apps, schedules: tuple[Schedule, ...]) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[s.name for s in schedules]).delete()


def schedules_operation(*schedules: Schedule) -> migrations.RunPython:
    """The migration operation that creates ``schedules`` (and deletes them when migrated back)."""
    return migrations.RunPython(lambda apps, schema_editor: create_schedules(apps, schedules),
                                lambda apps, schema_editor: delete_schedules(apps, schedules))
