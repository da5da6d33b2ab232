"""One personal-data policy: who may see whose personal data, and every reveal recorded.

Residents who report and parties to a dispute leave names, phones and ID numbers. They are masked
everywhere (``governance.core.masking``) and shown whole only to those a subject's policy allows, on
request, and each time it is recorded (``PersonalDataReveal``: who saw whose data, when, why, through
which channel), for the audit page.

An app registers one policy per kind of subject when it starts (incidents: the reporter, those who
triage it, the units handling it; mediation: the case's mediators and administrators)::

    register_policy("incident", model=Incident, revealable=incidents_revealable_q,
                    label=lambda i: i.number, region=lambda i: i.grid)

``revealable(user) -> Q`` is the whole rule, written once: pages and the API ask ``may_reveal`` (the
rule for one object, answered by the database), exports filter with it; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access.models import PersonalDataReveal, RevealChannel
from governance.core.errors import InvalidInput, PermissionDeniedError
from governance.core.text import clean_text

REASON_MAX = PersonalDataReveal._meta.get_field("reason").max_length


@dataclass(frozen=True)
class Policy:
    subject_type: str
    model: type[models.Model]
    revealable: Callable[[object], Q]  # user -> the subjects whose personal data the user may see
    label: Callable[[models.Model], str]
    region: Callable[[models.Model], object | None]  # the subject's territory (the audit's scope)


POLICIES: dict[str, Policy] = {}


def register_policy(subject_type: str, *, model: type[models.Model], revealable: Callable[[object], Q],
                    label: Callable[[models.Model], str], region: Callable[[models.Model], object | None]) -> None:
    POLICIES[subject_type] = Policy(subject_type, model, revealable, label, region)


def policy_for(subject_type: str) -> Policy:
    return POLICIES[subject_type]


def may_reveal(user, subject_type: str, obj: models.Model) -> bool:
    """Whether ``user`` may see ``obj``'s personal data (on request, recorded): the policy's rule for one object."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    policy = policy_for(subject_type)
    return policy.model._default_manager.filter(policy.revealable(user), pk=obj.pk).exists()


def _reason(reason: str) -> str:
    text = clean_text(reason)
    if not text:
        raise InvalidInput(_("Say why you need to see the personal data."),
                           field_errors={"reason": [_("A reason is required.")]})
    return text[:REASON_MAX]


def reveal(*, user, subject_type: str, obj: models.Model, fields: Sequence[str], reason: str,
           channel: str = RevealChannel.PAGE) -> PersonalDataReveal:
    """Record that ``user`` sees ``obj``'s ``fields`` whole, or refuse (403) if the policy does not allow it."""
    text = _reason(reason)
    if not may_reveal(user, subject_type, obj):
        raise PermissionDeniedError(_("You may not see this person's data."), code="no_personal_data")
    policy = policy_for(subject_type)
    region = policy.region(obj)
    return PersonalDataReveal.objects.create(
        user=user, subject_type=subject_type, subject_id=obj.pk, subject_label=str(policy.label(obj))[:200],
        fields=list(fields), reason=text, channel=channel, region=region, at=timezone.now())


def record_bulk_reveal(*, user, subject_type: str, ids: Sequence[int], fields: Sequence[str], reason: str,
                       region=None) -> PersonalDataReveal | None:
    """One row for a list that showed many subjects whole (an export); the ids are kept. None when none was."""
    if not ids:
        return None
    return PersonalDataReveal.objects.create(
        user=user, subject_type=subject_type, subject_id=None, subjects=sorted(ids), count=len(ids),
        fields=list(fields), reason=_reason(reason), channel=RevealChannel.EXPORT, region=region, at=timezone.now())
