from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Dispute mediation")

    def ready(self) -> None:
        from mediation import personal_data
        from mediation.links import register_incident_handover
        from mediation.watcher import register_case_watcher

        personal_data.register()  # the parties' personal data: the case's mediators and administrators
        register_case_watcher()  # deadlines, red cases, obligations: the alert engine's sweep
        register_incident_handover()  # "Transfer to mediation" on a dispute incident's page
        register_nav_links()


def register_nav_links() -> None:
    """The mediation pages in the top bar of those who work disputes: the workbench for mediators; the cases for
    mediators, command centres, supervisors and administrators.

    The cases link goes by role, not by the View action: a grid worker or a unit handler may view cases (the
    list stays open to them, scoped), but their list is nearly always empty, and disputes are not their work.
    """
    from governance.access.models import Role
    from governance.access.navigation import register_nav_link
    from governance.core.scoping import Action

    register_nav_link("mediation-workbench", _("Mediation workbench"), "mediation:workbench", order=35,
                      actions={Action.MEDIATE})
    register_nav_link("mediation-cases", _("Dispute cases"), "mediation:list", order=45,
                      roles={Role.MEDIATOR, Role.COMMAND_STAFF, Role.SUPERVISOR, Role.ADMINISTRATOR},
                      also_current={"mediation:detail", "mediation:figures", "mediation:register",
                                    "mediation:transfer"})
