from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Grid incidents")

    def ready(self) -> None:
        from incidents import (
            categories,  # noqa: F401  (registers the receivers that keep the tree fresh)
            personal_data,
        )
        from incidents.watcher import register_incident_watcher

        personal_data.register()  # whose personal data an incident carries, and who may see it
        register_incident_watcher()  # the alert engine's sweep watches incident deadlines
