from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "governance.exports"
    label = "exports"  # a new table gets its own label (docs/decisions.md)
    verbose_name = _("Exports")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app registers its export kinds in its own ``exports`` module, as it registers its admin:
        # the kernel names no app.
        autodiscover_modules("exports")

        from governance.access.navigation import register_nav_link
        from governance.core.scoping import Action

        register_nav_link("exports", _("My exports"), "exports:list", order=70, actions={Action.VIEW},
                          also_current={"exports:progress"})
