from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from guardian.models import UserObjectPermission

        from governance import checks  # noqa: F401  (registers the system checks)
        from governance.access.models import Unit
        from governance.core.scoping import register_scope_model, scopes_changed

        register_scope_model("unit", Unit)  # a permission on a unit covers what the unit was given

        def changed(sender, **kwargs):
            scopes_changed()

        # Scopes are kept per process (governance.core.scoping.SCOPES): any write to the permissions they
        # are read from replaces the shared token. Bulk writes send no signal: they call scopes_changed().
        post_save.connect(changed, sender=UserObjectPermission, weak=False, dispatch_uid="governance.scope_saved")
        post_delete.connect(changed, sender=UserObjectPermission, weak=False,
                            dispatch_uid="governance.scope_deleted")

        from governance.alerts.models import Alert, AlertRead
        from governance.alerts.selectors import alerts_changed

        def badges_changed(sender, **kwargs):
            alerts_changed()

        # The unread badges are kept per process (governance.alerts.selectors.UNREAD): any saved or deleted alert
        # or read replaces their token. The sweep's raw SQL and the bulk reads call alerts_changed() themselves.
        for model in (Alert, AlertRead):
            post_save.connect(badges_changed, sender=model, weak=False,
                              dispatch_uid=f"governance.{model.__name__}_saved")
            post_delete.connect(badges_changed, sender=model, weak=False,
                                dispatch_uid=f"governance.{model.__name__}_deleted")
