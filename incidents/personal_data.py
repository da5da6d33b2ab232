"""Whose personal data an incident carries (a reporting resident's name and phone), and who may see it.

The rule, written once (``governance.access.personal_data``): the person who filed it, and those who act
on it now: the command centre that may triage it and the units that handle it (an active task). Seen on
request and recorded, on the page, in the API and in exports alike.
"""

from __future__ import annotations

from django.db.models import Q

from governance.access.personal_data import register_policy
from governance.core.scoping import Action, get_scope
from incidents.models import Incident

SUBJECT_TYPE = "incident"
FIELDS = ("reporter_name", "reporter_phone")


def revealable(user) -> Q:
    """The incidents whose reporting resident's data ``user`` may see."""
    scope = get_scope(user)
    if scope.everything:
        return Q()
    q = Q(reporter_id=user.pk)
    for action in (Action.TRIAGE, Action.HANDLE):
        acting = Incident.scope_q(scope, action)
        if acting is not None:
            q |= acting
    return q


def register() -> None:
    register_policy(SUBJECT_TYPE, model=Incident, revealable=revealable, label=lambda incident: incident.number,
                    region=lambda incident: incident.grid)
