"""When each deadline turns yellow, stored beside it; parking keeps the handling time left.

The data step fills what the new code would have written for incidents filed before it:

* ``accept_warn_at``: a fifth of the category's accept hours before the accept deadline
  (set-based, one UPDATE per category);
* ``handle_warn_at``: a fifth of the category's handling limit before the handling deadline,
  in working time (computed once per distinct deadline and limit, then one UPDATE each:
  working-day deadlines all end at midnight, so there are few);
* parked incidents: the working days their handling deadline had left when they were parked
  (the last ``park`` event), kept in ``handle_days_left`` for the unpark; their handling
  deadline is cleared, since no deadline runs while parked.

It calls ``incidents.deadlines`` (and through it the working-day calendar) so that the
values are the very ones the code computes; those functions read only fields this
migration's state has.
"""

from django.db import migrations, models
from django.db.models import F


def fill(apps, schema_editor):
    from incidents import deadlines

    Category = apps.get_model("incidents", "Category")
    Incident = apps.get_model("incidents", "Incident")
    Event = apps.get_model("incidents", "Event")

    limits = dict(Category.objects.values_list("pk", "handle_working_days"))
    for category_pk, hours in Category.objects.values_list("pk", "accept_hours"):
        Incident.objects.filter(category_id=category_pk, accept_due_at__isnull=False).update(
            accept_warn_at=F("accept_due_at") - deadlines.accept_warning_lead(hours))

    parked = list(Incident.objects.filter(status="parked", handle_due_at__isnull=False)
                  .values_list("pk", "handle_due_at", "category_id"))
    for pk, due, category_pk in parked:
        paused_at = (Event.objects.filter(incident_id=pk, action="park").order_by("-at")
                     .values_list("at", flat=True).first())
        left = deadlines.days_left(paused_at, due) if paused_at else limits[category_pk]
        Incident.objects.filter(pk=pk).update(handle_due_at=None, handle_days_left=left)

    pairs = (Incident.objects.filter(handle_due_at__isnull=False).order_by()
             .values_list("handle_due_at", "category_id").distinct())
    warnings: dict[tuple, object] = {}
    for due, category_pk in pairs:
        key = (due, limits[category_pk])
        if key not in warnings:
            warnings[key] = deadlines.handle_warning(due, limits[category_pk])
    by_limit: dict[int, list[int]] = {}
    for category_pk, days in limits.items():
        by_limit.setdefault(days, []).append(category_pk)
    for (due, days), warn in warnings.items():
        Incident.objects.filter(handle_due_at=due, category_id__in=by_limit[days]).update(handle_warn_at=warn)


def unfill(apps, schema_editor):
    """Give parked incidents back a handling deadline: the days they had left, counted from the park."""
    from governance.calendar import workcalendar

    Incident = apps.get_model("incidents", "Incident")
    Event = apps.get_model("incidents", "Event")
    for pk, left in Incident.objects.filter(status="parked", handle_days_left__isnull=False).values_list(
            "pk", "handle_days_left"):
        paused_at = (Event.objects.filter(incident_id=pk, action="park").order_by("-at")
                     .values_list("at", flat=True).first())
        if paused_at is not None:
            Incident.objects.filter(pk=pk).update(
                handle_due_at=workcalendar.add_working_days(paused_at, left).deadline)


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="accept_warn_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="accept warning from"),
        ),
        migrations.AddField(
            model_name="incident",
            name="handle_days_left",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="working days left (paused)"),
        ),
        migrations.AddField(
            model_name="incident",
            name="handle_warn_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="handling warning from"),
        ),
        migrations.RunPython(fill, unfill, elidable=False),
    ]
