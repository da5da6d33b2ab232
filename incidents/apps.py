from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Grid incidents")

    def ready(self) -> None:
        from incidents import categories  # noqa: F401  (registers the receivers that keep the tree fresh)
        from incidents.watcher import register_incident_watcher

        register_incident_watcher()  # the alert engine's sweep watches incident deadlines
