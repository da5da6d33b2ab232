"""The dispute types of the issue, as data: editable in the admin afterwards (names are data, in Chinese)."""

from django.db import migrations

TYPES = [
    ("01", "婚姻家庭纠纷"), ("02", "邻里纠纷"), ("03", "物业管理纠纷"), ("04", "劳动争议与欠薪纠纷"),
    ("05", "征地拆迁纠纷"), ("06", "医疗纠纷"), ("07", "交通事故纠纷"), ("08", "消费与金融纠纷"),
    ("09", "建设工程纠纷"), ("10", "房屋租赁纠纷"), ("11", "债务与合同纠纷"), ("99", "其他纠纷"),
]


def add_types(apps, schema_editor):
    DisputeType = apps.get_model("mediation", "DisputeType")
    for n, (code, name) in enumerate(TYPES):
        DisputeType.objects.get_or_create(code=code, defaults={"name": name, "sort_order": n})


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]
    operations = [migrations.RunPython(add_types, migrations.RunPython.noop)]
