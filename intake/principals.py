"""The principals of the scoping door that are not users: a grid's sign and an Open311 key.

A sign may report in its grid and nothing else: it sees nothing, so a resident reads their
report only through its tracking code (``intake.selectors.tracked``), which shows its status
and final reply. A key may report and see in its territory; the unit it is tied to is whom
the portal holds to account for it (recorded on every filing), not a scope of its own.
"""

from __future__ import annotations

from governance.core.scoping import Action, Principal, Scope
from intake.models import ApiKey, Sign


class SignPrincipal(Principal):
    def __init__(self, sign: Sign):
        self.sign = sign
        self.label = f"sign:{sign.pk}:{sign.grid.code}"

    def principal_scope(self) -> Scope:
        if not self.sign.in_force:
            return Scope()
        return Scope(region_paths={Action.REPORT: (self.sign.grid.path,)})


class ApiKeyPrincipal(Principal):
    def __init__(self, key: ApiKey):
        self.key = key
        self.label = f"open311:{key.prefix}:{key.unit.code}"

    def principal_scope(self) -> Scope:
        if not self.key.in_force:
            return Scope()
        path = (self.key.territory.path,)
        return Scope(region_paths={Action.REPORT: path, Action.VIEW: path})
