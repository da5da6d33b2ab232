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
