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
        register_nav_links()


def register_nav_links() -> None:
    """The incident pages in everyone's top bar, each for whom its scope allows."""
    from governance.access.navigation import register_nav_link
    from governance.core.scoping import Action

    register_nav_link("incident-file", _("File an incident"), "incidents:file", order=10, actions={Action.REPORT})
    register_nav_link("triage-queue", _("Triage queue"), "incidents:queue", order=20, actions={Action.TRIAGE})
    register_nav_link("unit-queue", _("My unit's queue"), "incidents:unit-queue", order=30, actions={Action.HANDLE})
    register_nav_link("incidents", _("Incidents"), "incidents:list", order=40, actions={Action.VIEW},
                      also_current={"incidents:detail"})
