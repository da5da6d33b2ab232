"""The status machine of a mediation case and every action on it: one table.

    registered ──accept──▶ accepted ──record_session──▶ in_mediation ──record_agreement──▶ agreement
        │                     │  │                        │   │                               │
        │                     │  └──────fail / refer──────┴───┼──▶ failed / referred         follow_up ──▶ follow_up
        └────withdraw─────────┴───────────withdraw──────────────┴──▶ withdrawn                   │
    agreement / follow_up / failed / withdrawn / referred ──close──▶ closed (follow-up visits still recorded)

Each row says which statuses it starts from, where it leads (``None``: the status stays), the right
the actor needs over the case (``mediate``), whether a reason is required, and the service, the API
path and the page's form that take it; the API routes and schema, the page's forms and buttons and
``available_actions`` are all built from it (tests/mediation/test_actions.py holds them to it).
The service of an action is ``mediation.services.case_<name>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from governance.core.scoping import Action
from mediation.models import OPEN_STATUSES, Status

S = Status


@dataclass(frozen=True)
class CaseAction:
    name: str
    label: str | Promise
    sources: frozenset[str]
    target: str | None  # None: the status stays
    summary: str  # the API operation's summary
    needs_note: bool = False
    right: str = Action.MEDIATE
    keeps: frozenset[str] = frozenset()  # sources the action leaves as they are (a visit after closing)
    danger: bool = False
    touches_status: bool = True  # False: a record beside the status machine (a party, the risk level)

    @property
    def path(self) -> str:
        return self.name.replace("_", "-")

    @property
    def service(self) -> Callable:
        from mediation import services

        return getattr(services, f"case_{self.name}")

    def target_from(self, status: str) -> str:
        if self.target is None or status in self.keeps:
            return status
        return self.target


def _a(name, label, sources, target, summary, **kwargs) -> CaseAction:
    return CaseAction(name, label, frozenset(sources), target, summary, **kwargs)


ACTIONS: dict[str, CaseAction] = {a.name: a for a in [
    _a("accept", _("Accept the case"), {S.REGISTERED}, S.ACCEPTED, "Accept a registered case (and name its mediators)"),
    _a("record_session", _("Record a session"), {S.ACCEPTED, S.IN_MEDIATION}, S.IN_MEDIATION,
       "Record a mediation session (the first starts mediation)"),
    _a("record_agreement", _("Record the agreement"), {S.IN_MEDIATION}, S.AGREEMENT,
       "Record the signed agreement with what each party must do by when"),
    _a("fail", _("Mediation failed"), {S.ACCEPTED, S.IN_MEDIATION}, S.FAILED, "Mediation failed", needs_note=True,
       danger=True),
    _a("withdraw", _("Withdrawn"), {S.REGISTERED, S.ACCEPTED, S.IN_MEDIATION}, S.WITHDRAWN,
       "The applicant withdrew", needs_note=True, danger=True),
    _a("refer", _("Refer on"), {S.ACCEPTED, S.IN_MEDIATION, S.FAILED}, S.REFERRED,
       "Refer on to a court, arbitration or the petition office", needs_note=True, danger=True),
    _a("record_follow_up", _("Record a follow-up visit"), {S.AGREEMENT, S.FOLLOW_UP, S.CLOSED}, S.FOLLOW_UP,
       "Record a follow-up visit (after closing too)", keeps=frozenset({S.CLOSED})),
    _a("obligation_done", _("Mark an obligation done"), {S.AGREEMENT, S.FOLLOW_UP, S.CLOSED}, None,
       "Mark an obligation of the agreement done", touches_status=False),
    _a("close", _("Close the case"), {S.AGREEMENT, S.FOLLOW_UP, S.FAILED, S.WITHDRAWN, S.REFERRED}, S.CLOSED,
       "Close the case (a transferred incident is closed with it)"),
    _a("set_risk", _("Change the risk level"), OPEN_STATUSES, None, "Change the risk level, with a reason",
       needs_note=True, touches_status=False),
    _a("add_party", _("Add a party"), OPEN_STATUSES, None, "Add an applicant or a respondent",
       touches_status=False),
]}


def actions_from(status: str) -> list[CaseAction]:
    return [a for a in ACTIONS.values() if status in a.sources]
