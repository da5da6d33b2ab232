"""The map's export jobs give way to the kernel's (``exports.ExportJob``, ``governance.exports``).

Old jobs are dropped, not copied: they lived minutes to hours, and their files, no longer
referred to by any row, are deleted by the exports' expiry task once they are an hour old
(``governance.exports.services.exports_expire``, the orphan pass over ``exports/YYYY/MM``).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dashboards', '0003_nightly_tally_rebuild'),
    ]

    operations = [
        migrations.DeleteModel(
            name='IncidentExport',
        ),
    ]
