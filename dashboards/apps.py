from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        from dashboards.map import signals, tasks  # noqa: F401  (the tallies' receivers, the map's Celery tasks)
        from governance.access.models import Role
        from governance.access.views import register_dashboard

        # Where each role lands (the home page redirects there).
        for role, url_name in [
            (Role.ADMINISTRATOR, "dashboards:administrator"),
            (Role.COMMAND_STAFF, "dashboards:command"),
            (Role.SUPERVISOR, "dashboards:supervisor"),
            (Role.UNIT_HANDLER, "dashboards:unit"),
            (Role.MEDIATOR, "dashboards:mediator"),
            (Role.GRID_WORKER, "dashboards:grid-worker"),
        ]:
            register_dashboard(role, url_name)

        from dashboards.map.views import MAP_ROLES
        from governance.access.navigation import register_nav_link

        register_nav_link("map", _("Map"), "dashboards:map", order=50, roles=MAP_ROLES)
