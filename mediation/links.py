"""The link between incidents and mediation: a dispute incident's page offers "Transfer to mediation".

Registered with incidents' hand-over hook (``incidents.handovers``) so that incidents imports nothing of
mediation; the button posts to mediation's own transfer page.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.access.models import UnitKind
from governance.core.scoping import Action
from incidents.handovers import HandOver, Linked, register_handover
from mediation.services import HANDOVER_KEY


def is_dispute(incident) -> bool:
    """A dispute incident: its category is usually handled by a mediation organisation (the catalogue says so)."""
    return incident.category.handler_unit_kind == UnitKind.MEDIATION_ORG


def linked_case(incident) -> tuple[str, str] | None:
    from mediation.models import Case

    case = Case.objects.filter(incident_id=incident.pk).only("pk", "number").first()
    if case is None:
        return None
    return (str(_("Mediation case %(number)s")) % {"number": case.number},
            reverse("mediation:detail", args=[case.pk]))


def visible_case(incident, user) -> Linked | None:
    """The case the incident became, only if the user may see it (a case out of scope is not named)."""
    from mediation.models import Case

    case = (Case.objects.restrict(user, Action.VIEW).filter(incident_id=incident.pk)
            .only("pk", "number").order_by("pk").first())
    if case is None:
        return None
    return Linked(kind=HANDOVER_KEY, id=case.pk, number=case.number,
                  label=str(_("Mediation case %(number)s")) % {"number": case.number},
                  page_url=reverse("mediation:detail", args=[case.pk]),
                  api_url=reverse("api-mediation-case-detail", args=[case.pk]))


def register_incident_handover() -> None:
    register_handover(HandOver(
        key=HANDOVER_KEY, label=_("Transfer to mediation"),
        url=lambda incident: reverse("mediation:transfer", args=[incident.pk]),
        applies=is_dispute, linked=linked_case, visible=visible_case))
