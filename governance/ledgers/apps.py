from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgersConfig(AppConfig):
    name = "governance.ledgers"
    label = "ledgers"
    verbose_name = _("Pilot-task ledgers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance.ledgers.watcher import register_ledger_watcher

        register_ledger_watcher()  # the alert sweep watches deadlines and missing filings
        register_nav_links()


def register_nav_links() -> None:
    """The ledger pages in the top bar of those who work on pilot tasks: supervisors, units, administrators."""
    from governance.access.models import Role
    from governance.access.navigation import register_nav_link

    people = {Role.SUPERVISOR, Role.UNIT_HANDLER, Role.ADMINISTRATOR}
    register_nav_link("ledgers", _("Pilot tasks"), "ledgers:index", order=55, roles=people,
                      also_current={"ledgers:dashboard", "ledgers:my-filings", "ledgers:responsibility",
                                    "ledgers:import"})
    register_nav_link("ledger-notices", _("Supervision notices"), "ledgers:notices", order=56, roles=people,
                      also_current={"ledgers:notice", "ledgers:public-notices"})
    register_nav_link("ledger-projects", _("Innovation projects"), "ledgers:projects", order=57,
                      roles={Role.SUPERVISOR, Role.ADMINISTRATOR}, also_current={"ledgers:project"})
