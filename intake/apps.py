from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    label = "intake"
    verbose_name = _("Residents' reports and Open311")

    def ready(self) -> None:
        from intake import (  # noqa: F401
            checks,  # check --deploy: the demo's Open311 key
            exports,  # the batch export of grid signs
        )
