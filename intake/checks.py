"""``check --deploy``: a production database must not accept the demo's Open311 key."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def demo_api_key_in_production(app_configs=None, **kwargs) -> list[Error]:
    from intake.demo import DEMO_API_KEY
    from intake.models import ApiKey
    from intake.tokens import hash_api_key

    try:
        live = ApiKey.objects.filter(key_hash=hash_api_key(DEMO_API_KEY), revoked_at__isnull=True).exists()
    except DatabaseError:
        return []  # the accounts check already says the database cannot be read
    if live:
        return [Error("The demo's Open311 API key is still in force.",
                      hint="The database was seeded with seed_demo. Revoke the key in the admin (Open311 API keys).",
                      id="intake.E001")]
    return []
