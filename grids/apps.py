from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("Territory")

    def ready(self) -> None:
        from governance.core.scoping import register_scope_model
        from grids.models import Region

        register_scope_model("region", Region)  # a permission on a region covers its subtree
