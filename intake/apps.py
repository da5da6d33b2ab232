from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    label = "intake"
    verbose_name = _("Residents' reports and Open311")

    def ready(self) -> None:
        from intake import exports  # noqa: F401  (registers the batch export of grid signs)
