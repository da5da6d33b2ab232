"""Authentication rules of the portal beyond Django's own."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied


class RefuseDemoPasswordBackend:
    """In production, the demo password opens no account, whatever its hash says.

    Listed after django-axes and before the model backend: raising ``PermissionDenied``
    stops ``authenticate`` there (the attempt counts as a failed login). The deploy check
    ``governance.E001``/``E003`` finds the accounts still carrying it. It has no ``get_user``:
    it never logs anyone in, so ``force_login`` and sessions name the model backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.PRODUCTION and password is not None:
            from governance.core.demo import DEMO_PASSWORD

            if password == DEMO_PASSWORD:
                raise PermissionDenied("the demo password is refused in production")
        return None
