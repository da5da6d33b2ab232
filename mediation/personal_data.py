"""Whose personal data a mediation case carries (its parties' names, ID numbers and phones), and who may see it.

The rule, written once (``governance.access.personal_data``): the case's own mediators, and the
administrators of its territory. Everyone else who sees the case sees the parties masked, on the
page, in the API and in exports alike; every reveal is recorded.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from governance.access.personal_data import register_policy
from governance.core.scoping import Action, get_scope
from mediation.models import Case

SUBJECT_TYPE = "mediation_case"
FIELDS = ("party_name", "party_id_number", "party_phone")


def revealable(user) -> Q:
    """The cases whose parties' data ``user`` may see."""
    scope = get_scope(user)
    if scope.everything:
        return Q()
    q = Q(Exists(Case.mediators.through.objects.filter(case_id=OuterRef("pk"), user_id=user.pk)))
    for path in scope.paths(Action.ADMINISTER):
        q |= Q(region__path__startswith=path)
    return q


def register() -> None:
    register_policy(SUBJECT_TYPE, model=Case, revealable=revealable, label=lambda case: case.number,
                    region=lambda case: case.region)
