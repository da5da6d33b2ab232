"""Supervisors and administrators gain the ``supervise`` action (docs/decisions.md, 2026-12-02): the
guardian permission is made now (post_migrate would make it only after every migration) and granted
over the regions of their active assignments, as ``governance.access.services.sync_object_permissions``
would."""

from django.db import migrations

ROLES = ("supervisor", "administrator")


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    RoleAssignment = apps.get_model("governance", "RoleAssignment")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    region_type, _created = ContentType.objects.get_or_create(app_label="grids", model="region")
    permission, _created = Permission.objects.get_or_create(
        content_type=region_type, codename="scope_supervise",
        defaults={"name": "Supervise pilot tasks in the region's subtree"})
    rows = RoleAssignment.objects.filter(role__in=ROLES, revoked_at__isnull=True, region__isnull=False)
    UserObjectPermission.objects.bulk_create(
        [UserObjectPermission(user_id=user_id, permission=permission, content_type=region_type,
                              object_pk=str(region_id))
         for user_id, region_id in rows.values_list("user_id", "region_id").distinct()],
        ignore_conflicts=True, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("ledgers", "0001_initial"),
        ("grids", "0002_alter_region_options"),
        ("governance", "0008_personal_data_reveal"),
        ("guardian", "0002_generic_permissions_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
