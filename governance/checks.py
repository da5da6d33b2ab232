"""System checks of the portal (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

# A password hash shared by this many active accounts is checked against the demo password:
# the demo seeds thousands of accounts with one hash, people never share one by chance.
SHARED_HASH_MIN_ACCOUNTS = 2
MAX_SHARED_HASHES_CHECKED = 20


@register(Tags.security, deploy=True)
def demo_accounts_in_production(app_configs=None, **kwargs) -> list[Error]:
    """A production database must hold no active demo login: no demo username, no demo password.

    A database seeded in development (``seed_demo``) keeps every ``demo12345`` login when the
    deployment is switched to production; this check fails until they are deactivated or given
    real passwords. (Login refuses the demo password in production anyway: ``governance.auth``.)
    """
    if not settings.PRODUCTION:
        return []
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password
    from django.db.models import Count, Q

    from governance.access.demo import GRID_WORKER_PREFIX, PERSONAS
    from governance.core.demo import DEMO_PASSWORD

    User = get_user_model()
    active = User.objects.filter(is_active=True)
    try:
        demo_names = list(active.filter(Q(username__in=[p.username for p in PERSONAS])
                                        | Q(username__regex=rf"^{GRID_WORKER_PREFIX}[0-9]"))
                          .order_by("username").values_list("username", flat=True)[:11])
        shared = list(active.exclude(password="").values("password").annotate(n=Count("id"))
                      .filter(n__gte=SHARED_HASH_MIN_ACCOUNTS).order_by("-n")[:MAX_SHARED_HASHES_CHECKED])
        demo_password_accounts = sum(row["n"] for row in shared if check_password(DEMO_PASSWORD, row["password"]))
    except DatabaseError as exc:
        return [Error("Cannot check the accounts for demo logins: the database cannot be read.",
                      hint=f"Run the check with the production database reachable ({exc.__class__.__name__}).",
                      id="governance.E002")]
    errors = []
    if demo_names:
        shown = ", ".join(demo_names[:10]) + (" …" if len(demo_names) > 10 else "")
        errors.append(Error(
            f"Active demo accounts in a production database: {shown}.",
            hint="The database was seeded with seed_demo. Deactivate these accounts (or start from an empty "
                 "database) before going live.", id="governance.E001"))
    if demo_password_accounts:
        errors.append(Error(
            f"{demo_password_accounts} active accounts still have the demo password.",
            hint="Give them real passwords or deactivate them (manage.py changepassword, or the admin).",
            id="governance.E003"))
    return errors
