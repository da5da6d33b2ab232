"""Admin registrations, imported explicitly.

The project uses SimpleAdminConfig (no autodiscovery) because django-leaflet's
admin module needs GDAL, which the portal does not install.
"""

import axes.admin  # noqa: F401
import django.contrib.auth.admin  # noqa: F401
import django_celery_beat.admin  # noqa: F401
import django_celery_results.admin  # noqa: F401
import rest_framework.authtoken.admin  # noqa: F401

import governance.access.admin  # noqa: F401
import governance.alerts.admin  # noqa: F401
import governance.calendar.admin  # noqa: F401
import governance.exports.admin  # noqa: F401
import governance.ledgers.admin  # noqa: F401
import grids.admin  # noqa: F401
import incidents.admin  # noqa: F401
import intake.admin  # noqa: F401
import mediation.admin  # noqa: F401
