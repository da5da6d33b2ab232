"""The tallies' full rebuild moves from every hour to every night at 03:30 (Beijing time).

Writers now keep the tallies exact in their own transactions (dashboards.map.tallies);
the rebuild is the repair and holds off writers while it runs (seconds at a million
incidents), so it runs when nobody files. An administrator's own schedule is kept:
only the hourly interval this app set up is replaced.
"""

from django.db import migrations

TASK_NAME = "Map figures: rebuild the per-grid tallies"


def nightly(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    task = PeriodicTask.objects.filter(name=TASK_NAME, interval__every=1, interval__period="hours").first()
    if task is None:
        return
    crontab, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="3", day_of_week="*", day_of_month="*",
                                                       month_of_year="*", timezone="Asia/Shanghai")
    task.interval = None
    task.crontab = crontab
    task.expire_seconds = 6 * 3600
    task.description = "dashboards.map.stats.refresh_tallies, the nightly repair; see docs/map.md"
    task.save()
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def hourly(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    task = PeriodicTask.objects.filter(name=TASK_NAME, crontab__minute="30", crontab__hour="3").first()
    if task is None:
        return
    task.crontab = None
    task.interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    task.expire_seconds = 3600
    task.save()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0002_map_tallies_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(nightly, hourly)]
