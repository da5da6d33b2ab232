"""Every action a person takes on an incident, and every way it is offered: one table.

The state machine is ``incidents.workflow.TRANSITIONS`` (which statuses, which right, whether a reason
is needed, what the clock does). This table says, for each action, the service that takes it, the API
endpoint and its input serializer, and the page's form; the API's routes and schema
(``incidents.api``), the page's forms and buttons (``incidents.views``) and the ``available_actions``
of an answer are all built from it, so an action cannot exist in one place and be missing in another
(tests/incidents/test_actions.py holds it to the transition table).

One action may take several transitions: a verification passes (``verify_pass``) or fails
(``verify_fail``), one form and one endpoint with a ``passed`` field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework.serializers import Serializer

from incidents import services
from incidents.forms import (
    ActionForm,
    CloseOnSpotForm,
    DispatchForm,
    MergeForm,
    ParkForm,
    ReportBackForm,
    VerifyForm,
)
from incidents.models import Incident
from incidents.serializers import (
    ActionInput,
    CloseOnSpotInput,
    DispatchInput,
    MergeInput,
    ParkInput,
    ReasonInput,
    ReportBackInput,
    VerifyInput,
)
from incidents.workflow import TRANSITIONS, Transition


@dataclass(frozen=True)
class IncidentAction:
    name: str  # the page's name: the form's prefix and /incidents/<pk>/act/<name>/
    path: str  # the API's: POST /api/v1/incidents/<pk>/<path>/
    transitions: tuple[str, ...]  # the transitions it takes (TRANSITIONS); the first decides the right needed
    service: Callable[..., Incident]
    input: type[Serializer]
    form: type[ActionForm]
    summary: str  # the API operation's summary
    rules: str = ""  # what the input must satisfy beyond its schema, said in the operation's description
    page_label: str | Promise | None = None  # the page's button when it differs from the transition's label
    danger: bool = False  # takes the incident off the usual loop: drawn quieter on the page

    @property
    def transition(self) -> Transition:
        return TRANSITIONS[self.transitions[0]]

    @property
    def label(self) -> str | Promise:
        return self.page_label or self.transition.label

    @property
    def action(self) -> str:
        """The right the actor must hold over the incident (``governance.core.scoping.Action``)."""
        return self.transition.action

    @property
    def needs_note(self) -> bool:
        """A reason is always required (a failed verification's is the form's own rule)."""
        return all(TRANSITIONS[name].needs_note for name in self.transitions)


UNITS_RULE = "`unit` and `assisting_units` must be active units you may dispatch to (400 otherwise)."

ACTIONS: dict[str, IncidentAction] = {a.name: a for a in [
    IncidentAction("accept", "accept", ("accept",), services.incident_accept, ActionInput, ActionForm,
                   "Accept a reported incident"),
    IncidentAction("dispatch", "dispatch", ("dispatch",), services.incident_dispatch, DispatchInput, DispatchForm,
                   "Dispatch to a lead unit (and assisting units)", UNITS_RULE),
    IncidentAction("reassign", "reassign", ("reassign",), services.incident_reassign, DispatchInput, DispatchForm,
                   "Reassign to another unit", UNITS_RULE),
    IncidentAction("report_back", "report-back", ("report_back",), services.incident_report_back, ReportBackInput,
                   ReportBackForm, "A unit reports back (with photos)"),
    IncidentAction("unit_return", "unit-return", ("unit_return",), services.incident_unit_return, ReasonInput,
                   ActionForm, "A unit sends the incident back to the command centre", danger=True),
    IncidentAction("verify", "verify", ("verify_pass", "verify_fail"), services.incident_verify, VerifyInput,
                   VerifyForm, "Verify a unit's report: pass closes, fail sends back",
                   "`note` (the reason) is required when `passed` is false (400 otherwise).",
                   page_label=_("Verify the unit's report")),
    IncidentAction("close_on_spot", "close-on-spot", ("close_on_spot",), services.incident_close_on_spot,
                   CloseOnSpotInput, CloseOnSpotForm, "The grid worker closes it on the spot"),
    IncidentAction("return", "return", ("return",), services.incident_return, ReasonInput, ActionForm,
                   "Return to the reporter with a reason", danger=True),
    IncidentAction("resubmit", "resubmit", ("resubmit",), services.incident_resubmit, ActionInput, ActionForm,
                   "Resubmit a returned incident"),
    IncidentAction("void", "void", ("void",), services.incident_void, ReasonInput, ActionForm,
                   "Void: not an incident", danger=True),
    IncidentAction("park", "park", ("park",), services.incident_park, ParkInput, ParkForm,
                   "Park on the long-term list until a review date",
                   "`review_on` must be a day after today, Beijing time (400 otherwise)."),
    IncidentAction("unpark", "unpark", ("unpark",), services.incident_unpark, ActionInput, ActionForm,
                   "Take off the long-term list"),
    IncidentAction("escalate", "escalate", ("escalate",), services.incident_escalate, ReasonInput, ActionForm,
                   "Escalate to the command centre one level up", danger=True),
    IncidentAction("merge", "merge", ("merge",), services.incident_merge, MergeInput, MergeForm,
                   "Merge as a duplicate of an open incident",
                   "`into` must be another open incident you may see (400 otherwise).", danger=True),
]}

_OF_TRANSITION: dict[str, IncidentAction] = {name: action for action in ACTIONS.values() for name in action.transitions}


def action_of(transition: str) -> IncidentAction:
    """The action that takes ``transition`` (``verify_fail`` → the one "verify")."""
    return _OF_TRANSITION[transition]


def offered(transitions: list[Transition]) -> list[IncidentAction]:
    """The actions that take these transitions, each once, in the transition table's order."""
    return list(dict.fromkeys(action_of(t.name) for t in transitions))
