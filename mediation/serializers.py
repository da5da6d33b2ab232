"""Input and output serializers of the mediation API, also the pages' parsers of the actions' forms.

Inputs only check a request's shape; every rule (scope, state, reasons, dates) is the service's. Outputs
never carry a party's personal data whole: names, ID numbers and phones are masked here, always; the whole
data is answered only by the reveal endpoint, recorded.
"""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.access.models import Unit, UnitKind
from governance.core.api import CleanTextField, OutputSerializer
from governance.core.filters import MAX_ID
from governance.core.masking import mask_id_number, mask_name, mask_phone
from governance.core.scoping import Action
from grids.models import Region
from mediation.models import (
    Agreement,
    Case,
    CaseEvent,
    DisputeType,
    FollowUp,
    Obligation,
    Party,
    PartyRole,
    ReferredTo,
    RiskChange,
    RiskLevel,
    Session,
    Source,
)

# --- Inputs -------------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(serializers.PrimaryKeyRelatedField):
    """An id among what the requesting user may see; anything else is "does not exist"."""

    def __init__(self, *, model, extra_filter: dict | None = None, choices_for=None, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        self.model = model
        self.extra_filter = extra_filter or {}
        self.choices_for = choices_for
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if self.choices_for is not None:
            return self.choices_for(getattr(request, "user", None))
        queryset = self.model.objects.filter(**self.extra_filter)
        if hasattr(queryset, "restrict"):
            queryset = queryset.restrict(getattr(request, "user", None), Action.VIEW)
        return queryset


def _regions_for(user):
    from mediation.services import regions_for

    return regions_for(user)


class AmountField(serializers.DecimalField):
    """An amount in yuan; an empty form field is no amount (a dispute need not be about money)."""

    def validate_empty_values(self, data):
        if data == "":
            data = None
        return super().validate_empty_values(data)


class PartyInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=PartyRole.choices)
    name = CleanTextField(max_length=100)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CaseRegisterInput(serializers.Serializer):
    title = CleanTextField(max_length=200)
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=Source.choices, default=Source.WALK_IN,
                                     help_text=_("A transfer from an incident is its own endpoint (400 here)."))
    dispute_type = serializers.PrimaryKeyRelatedField(queryset=DisputeType.objects.filter(is_active=True))
    amount = AmountField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True,
                         default=None)
    region = ScopedIdField(model=Region, choices_for=lambda user: _regions_for(user),
                           help_text=_("The territory: a region of yours, or where your organisation mediates."))
    organisation = ScopedIdField(model=Unit, extra_filter={"kind": UnitKind.MEDIATION_ORG, "is_active": True})
    parties = PartyInput(many=True, required=False, default=list)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, default=RiskLevel.GREEN)
    risk_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    court_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    court_case_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    court_referral_date = serializers.DateField(required=False, allow_null=True, default=None)


class TransferInput(serializers.Serializer):
    dispute_type = serializers.PrimaryKeyRelatedField(queryset=DisputeType.objects.filter(is_active=True))
    organisation = ScopedIdField(model=Unit, extra_filter={"kind": UnitKind.MEDIATION_ORG, "is_active": True})
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, default=RiskLevel.GREEN)
    risk_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CaseActionInput(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1,
        help_text=_("The version the client displayed; a stale one answers 409 and changes nothing."))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class CaseReasonInput(CaseActionInput):
    note = CleanTextField(max_length=5000, help_text=_("The reason; required."))


class AcceptInput(CaseActionInput):
    mediators = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
                                      default=list, help_text=_("User ids of the organisation's mediators; "
                                                                "default: you."))


class SessionInput(CaseActionInput):
    held_at = serializers.DateTimeField()
    place = CleanTextField(max_length=200)
    attendees = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class ObligationInput(serializers.Serializer):
    party = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None)
    description = CleanTextField(max_length=300)
    due_on = serializers.DateField()


@extend_schema_field({"type": "string", "description": "A JSON list of obligations, each "
                      "{\"party\": party id or null, \"description\": text, \"due_on\": \"YYYY-MM-DD\"}."})
class ObligationsField(serializers.ListField):
    """A list of obligations: a JSON text in the agreement's form (beside the scanned file), or a list (the page)."""

    child = ObligationInput()

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else []
            except ValueError:
                self.fail("not_a_list", input_type="text")
        return super().to_internal_value(data)

    def get_value(self, dictionary):
        value = dictionary.get(self.field_name, serializers.empty)
        return value


class AgreementInput(CaseActionInput):
    terms = CleanTextField(max_length=20000)
    signed_on = serializers.DateField()
    obligations = ObligationsField(required=False, default=list)
    file = serializers.FileField(required=False, help_text=_("The scanned agreement: PDF, JPEG or PNG, at most 10 MB."))


class ReferInput(CaseReasonInput):
    referred_to = serializers.ChoiceField(choices=ReferredTo.choices)


class FollowUpInput(CaseActionInput):
    visited_on = serializers.DateField()
    method = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    notes = CleanTextField(max_length=10000)
    satisfied = serializers.BooleanField(required=False, allow_null=True, default=None)


class ObligationDoneInput(CaseActionInput):
    obligation = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class RiskInput(CaseReasonInput):
    level = serializers.ChoiceField(choices=RiskLevel.choices)


class AddPartyInput(CaseActionInput, PartyInput):
    pass


# The input of each action of the one table (mediation.actions.ACTIONS), by name.
ACTION_INPUTS: dict[str, type[serializers.Serializer]] = {
    "accept": AcceptInput,
    "record_session": SessionInput,
    "record_agreement": AgreementInput,
    "fail": CaseReasonInput,
    "withdraw": CaseReasonInput,
    "refer": ReferInput,
    "record_follow_up": FollowUpInput,
    "obligation_done": ObligationDoneInput,
    "close": CaseActionInput,
    "set_risk": RiskInput,
    "add_party": AddPartyInput,
}


class PartiesRevealInput(serializers.Serializer):
    reason = CleanTextField(max_length=300, help_text=_("Why you need to see the personal data (recorded)."))


# --- Outputs ------------------------------------------------------------------------------------------


class MaskedPartySerializer(OutputSerializer):
    name = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = ["id", "role", "name", "id_number", "phone"]

    def get_name(self, party) -> str:
        return mask_name(party.name)

    def get_id_number(self, party) -> str:
        return mask_id_number(party.id_number)

    def get_phone(self, party) -> str:
        return mask_phone(party.phone)


class PartyWholeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["id", "role", "name", "id_number", "phone", "address"]


class CaseSerializer(OutputSerializer):
    dispute_type = serializers.CharField(source="dispute_type.name")
    organisation = serializers.CharField(source="organisation.name")
    region = serializers.CharField(source="region.name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "number", "title", "source", "dispute_type", "amount", "region", "organisation", "status",
                  "outcome", "risk_level", "registered_at", "due_at", "closed_at", "url"]

    def get_url(self, case) -> str:
        return reverse("api-mediation-case-detail", args=[case.pk])


class SessionSerializer(OutputSerializer):
    class Meta:
        model = Session
        fields = ["id", "held_at", "place", "attendees", "notes", "recorded_at"]


class ObligationSerializer(OutputSerializer):
    class Meta:
        model = Obligation
        fields = ["id", "party", "description", "due_on", "done_at", "done_note"]


class AgreementSerializer(OutputSerializer):
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["terms", "signed_on", "has_file", "recorded_at"]

    def get_has_file(self, agreement) -> bool:
        return bool(agreement.file)


class FollowUpSerializer(OutputSerializer):
    class Meta:
        model = FollowUp
        fields = ["id", "visited_on", "method", "notes", "satisfied", "recorded_at"]


class RiskChangeSerializer(OutputSerializer):
    class Meta:
        model = RiskChange
        fields = ["from_level", "to_level", "reason", "at"]


class CaseEventSerializer(OutputSerializer):
    class Meta:
        model = CaseEvent
        fields = ["action", "from_status", "to_status", "at", "note"]


class AvailableActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs_note = serializers.BooleanField()
    url = serializers.CharField()


class CaseDetailSerializer(CaseSerializer):
    parties = MaskedPartySerializer(many=True)
    sessions = SessionSerializer(many=True)
    agreement = serializers.SerializerMethodField()
    obligations = serializers.SerializerMethodField()
    follow_ups = FollowUpSerializer(many=True)
    risk_history = RiskChangeSerializer(many=True, source="risk_changes")
    timeline = CaseEventSerializer(many=True, source="events")
    incident = serializers.SerializerMethodField()
    mediators = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [*CaseSerializer.Meta.fields, "summary", "risk_reason", "referred_to", "court_name",
                  "court_case_number", "court_referral_date", "clock_started_at", "deadline_days", "accepted_at",
                  "outcome_at", "version", "mediators", "parties", "sessions", "agreement", "obligations",
                  "follow_ups", "risk_history", "timeline", "incident", "available_actions"]

    def get_agreement(self, case) -> dict | None:
        agreement = getattr(case, "agreement", None)
        return AgreementSerializer(agreement).data if agreement is not None else None

    def get_obligations(self, case) -> list[dict]:
        return [ObligationSerializer(o).data for o in getattr(case, "obligations", [])]

    def get_incident(self, case) -> str | None:
        return case.incident.number if case.incident_id else None

    def get_mediators(self, case) -> list[str]:
        return [u.get_full_name() or u.username for u in case.mediators.all()]

    def get_available_actions(self, case) -> list[dict]:
        return self.context.get("available_actions", [])


class FiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    red_open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    by_type = serializers.ListField(child=serializers.DictField())
    by_outcome = serializers.ListField(child=serializers.DictField())
    success_rate = serializers.FloatField(allow_null=True)
    average_days = serializers.FloatField(allow_null=True)
