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
