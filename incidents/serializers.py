"""Input and output serializers of the incidents API (thin: parse and render, no rules of their own).

Input serializers only check the shape of a request; every rule of the domain
(scope, state, reasons, photos) is the service's, so the pages and the API
refuse the same things with the same messages. Output serializers read what
the selectors fetched (``select_related``/``prefetch_related``) and so add no
queries per row.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiRequest, extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from governance.access.models import Unit
from governance.core.api import CleanTextField, ErrorSerializer, OutputSerializer  # noqa: F401  (ErrorSerializer: re-exported)
from governance.core.filters import MAX_ID
from governance.core.masking import mask_name, mask_phone
from governance.core.names import display_name
from governance.core.scoping import Action
from grids.models import Level, Region
from incidents.categories import category_by_code, category_by_id
from incidents.handovers import visible_links
from incidents.models import Attachment, Category, Event, Incident, Severity, Source, UnitTask, is_overdue
from incidents.services import MAX_PHOTOS

# --- Helpers ----------------------------------------------------------------



def attachment_url(attachment_id: int, *, thumbnail: bool = False) -> str:
    """The scoped download view of an attachment or its thumbnail (the pages' view; no file has a public URL)."""
    try:
        return reverse("incidents:attachment-thumbnail" if thumbnail else "incidents:attachment", args=[attachment_id])
    except NoReverseMatch:
        return f"/incidents/attachments/{attachment_id}/" + ("thumbnail/" if thumbnail else "")


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


# --- Input fields -----------------------------------------------------------

@extend_schema_field({
    "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1, "maxLength": 16}],
    "description": "A minor category's id (integer) or code (string, e.g. \"0101\").",
})
class CategoryField(serializers.Field):
    """A category by id or by code.

    A JSON integer is an id. A string is a code; a string of digits that is no
    code is taken as an id (multipart forms send every value as a string).
    """

    default_error_messages = {
        "unknown": _("Unknown category: {value}."),
        "invalid": _("Give a category id or code."),
    }

    def to_internal_value(self, data) -> Category:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        found = None
        if isinstance(data, int):
            found = category_by_id(data)
        else:
            value = data.strip()
            if not value or len(value) > 16:
                self.fail("unknown", value=value[:16])
            found = category_by_code(value)
            if found is None and value.isdigit():
                found = category_by_id(int(value))
        if found is None:
            self.fail("unknown", value=data)
        return found

    def to_representation(self, value: Category):
        return value.pk


@extend_schema_field({"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": MAX_PHOTOS,
                     "description": "Up to 9 JPEG, PNG or WebP photos, as repeated multipart parts."})
class PhotoListField(serializers.ListField):
    """Photos sent as repeated ``photos`` or ``photos[]`` parts of a multipart form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FileField(allow_empty_file=False))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_PHOTOS)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            files = dictionary.getlist(self.field_name, []) + dictionary.getlist(f"{self.field_name}[]", [])
            return files or empty
        return super().get_value(dictionary)


def _choice_component(choices: list[tuple], component_name: str) -> type[serializers.ChoiceField]:
    """A ChoiceField whose enum is one named schema component, whatever the property is called.

    drf-spectacular names an inline enum after its property and warns when one
    choice set gets two names (``severity`` and ``default_severity``).
    """

    @extend_schema_field(serializers.ChoiceField(choices=choices), component_name=component_name)
    class Field(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices, **kwargs)

    Field.__name__ = Field.__qualname__ = component_name.removesuffix("Enum") + "Field"
    return Field


SeverityField = _choice_component(Severity.choices, "SeverityEnum")


class StrictBooleanField(serializers.BooleanField):
    """A boolean that is required in forms too (DRF reads a missing form checkbox as False)."""

    default_empty_html = empty


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id picked among what the requesting user may see; anything else is "does not exist"."""

    def __init__(self, *, model, action: str = Action.VIEW, extra_filter: dict | None = None, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        self.model = model
        self.action = action
        self.extra_filter = extra_filter or {}
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.model.objects.restrict(user, self.action).filter(**self.extra_filter)


# --- Input serializers ------------------------------------------------------

class IncidentFileInput(serializers.Serializer):
    """Filing an incident: JSON, or a multipart form with photos."""

    category = CategoryField(help_text=_("A minor category's id or code."))
    title = CleanTextField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    severity = SeverityField(required=False, help_text=_("Default: the category's default severity."))
    source = serializers.ChoiceField(choices=Source.choices, required=False,
                                    help_text=_("Default: api for token clients, grid_worker for the pages."))
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    photos = PhotoListField(help_text=_("Up to 9 JPEG, PNG or WebP photos (multipart only)."))
    idempotency_key = serializers.CharField(
        required=False, max_length=64,
        help_text=_("The same key from the same reporter files one incident; the Idempotency-Key header wins."),
    )

    def validate(self, attrs: dict) -> dict:
        header = self.context.get("idempotency_header")
        if header is not None:
            header = header.strip()
            if not header or len(header) > 64:
                raise serializers.ValidationError(
                    {"idempotency_key": [_("The Idempotency-Key header must be 1 to 64 characters.")]})
            attrs["idempotency_key"] = header
        return attrs


class DuplicatesQuery(serializers.Serializer):
    category = CategoryField()
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    exclude = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                       help_text=_("An incident id to leave out (itself)."))


class ActionInput(serializers.Serializer):
    """What every transition accepts. Field names match the service's keywords."""

    version = serializers.IntegerField(
        required=False, min_value=1,
        help_text=_("The version the client displayed; a stale one answers 409 and changes nothing."),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReasonInput(ActionInput):
    """A transition that needs a reason (``Transition.needs_note``): the note is required."""

    note = CleanTextField(max_length=5000, help_text=_("The reason; required."))


class DispatchInput(ActionInput):
    unit = ScopedPrimaryKeyField(model=Unit, extra_filter={"is_active": True}, help_text=_("The lead unit."))
    assisting_units = ScopedPrimaryKeyField(model=Unit, extra_filter={"is_active": True}, many=True,
                                            required=False, default=list)


class ReportBackInput(ActionInput):
    note = CleanTextField(max_length=5000, help_text=_("How the incident was handled."))
    unit = ScopedPrimaryKeyField(model=Unit, action=Action.HANDLE, required=False, allow_null=True, default=None,
                                 help_text=_("Which of your units reports, when you act for several."))
    photos = PhotoListField()


class VerifyInput(ActionInput):
    passed = StrictBooleanField(help_text=_("true closes the incident; false sends it back to the units."))
    satisfaction = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                            max_value=5)


class CloseOnSpotInput(ActionInput):
    satisfaction = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                            max_value=5)
    photos = PhotoListField()


class ParkInput(ReasonInput):
    review_on = serializers.DateField(help_text=_("When the parked problem is looked at again: a day after today."))


class MergeInput(ActionInput):
    into = ScopedPrimaryKeyField(model=Incident, help_text=_("The open incident this one repeats."))


PHOTO_CONTENT_TYPES = "image/jpeg, image/png, image/webp"


@functools.cache
def request_bodies(input_class: type[serializers.Serializer]) -> type[serializers.Serializer] | dict:
    """The OpenAPI request bodies of an input (``extend_schema(request=...)``).

    Photos travel only as parts of a multipart form: JSON and urlencoded bodies are
    described without them, and the multipart one says which images a part may hold.
    """
    if "photos" not in input_class._declared_fields:
        return input_class
    without_photos = type(f"{input_class.__name__}NoPhotos", (input_class,), {"photos": None,
                                                                             "__module__": __name__})
    return {
        "application/json": without_photos,
        "application/x-www-form-urlencoded": without_photos,
        "multipart/form-data": OpenApiRequest(input_class, encoding={"photos": {"contentType": PHOTO_CONTENT_TYPES}}),
    }


# --- Output serializers -----------------------------------------------------

# The brief serializers below are nested in every incident answer. Their fields say what the schema
# shows; ``to_representation`` writes the same dict directly, skipping DRF's per-field machinery
# (tests/incidents/test_serializers.py holds each to DRF's own rendering).


class CategoryBriefSerializer(OutputSerializer):
    major = serializers.CharField(source="parent.name", default="", read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "major"]

    def to_representation(self, category: Category) -> dict:
        major = category.parent.name if category.parent_id else ""
        return {"id": category.pk, "code": category.code, "name": category.name, "major": major}


class MinorCategorySerializer(OutputSerializer):
    default_severity = SeverityField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "default_severity", "accept_hours", "handle_working_days",
                  "on_spot_closable", "handler_unit_kind"]
        read_only_fields = fields


class CategoryTreeSerializer(MinorCategorySerializer):
    children = MinorCategorySerializer(many=True, read_only=True)

    class Meta(MinorCategorySerializer.Meta):
        fields = [*MinorCategorySerializer.Meta.fields, "children"]
        read_only_fields = fields


class RegionBriefSerializer(OutputSerializer):
    level = serializers.ChoiceField(choices=Level.choices)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level"]

    def to_representation(self, region: Region) -> dict:
        return {"id": region.pk, "code": region.code, "name": region.name, "level": region.level}


class UnitBriefSerializer(OutputSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name"]

    def to_representation(self, unit: Unit) -> dict:
        return {"id": unit.pk, "code": unit.code, "name": unit.name}


class IncidentSerializer(OutputSerializer):
    """An incident in a list: what the queues show, masked personal data."""

    url = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    category = CategoryBriefSerializer(read_only=True)
    grid = RegionBriefSerializer(read_only=True)
    responsible_region = RegionBriefSerializer(read_only=True)
    severity = SeverityField(read_only=True)
    responsible_level = serializers.IntegerField(
        read_only=True, help_text=_("The level of responsible_region: 1 city, 2 district, 3 street, 4 community."))
    lead_unit = UnitBriefSerializer(read_only=True, allow_null=True)
    reporter_name = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["id", "url", "number", "title", "status", "status_label", "category", "severity", "source",
                  "lat", "lng", "address", "grid", "responsible_level", "responsible_region", "lead_unit",
                  "reporter_name", "reported_at", "accept_due_at", "handle_due_at", "is_overdue", "parked_until",
                  "duplicate_of", "version"]
        read_only_fields = fields

    def _now(self) -> datetime:
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def get_url(self, incident: Incident) -> str:
        return _absolute(self.context.get("request"), reverse("api-incident-detail", args=[incident.pk]))

    def get_reporter_name(self, incident: Incident) -> str:
        return mask_name(incident.reporter_name)

    def get_is_overdue(self, incident: Incident) -> bool:
        return is_overdue(incident.status, incident.accept_due_at, incident.handle_due_at, self._now())


class DuplicateSerializer(IncidentSerializer):
    distance_m = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "distance_m"]
        read_only_fields = fields

    def get_distance_m(self, incident: Incident) -> float:
        return round(self.context["distances"][incident.pk], 1)


class ActorSerializer(OutputSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "name"]

    def get_name(self, user) -> str:
        return display_name(user)

    def to_representation(self, user) -> dict:
        return {"id": user.pk, "name": display_name(user)}


class EventSerializer(OutputSerializer):
    from_status = serializers.CharField(read_only=True, help_text=_("A status; empty on the first step."))
    to_status = serializers.CharField(read_only=True, help_text=_("A status; empty when it did not change."))
    actor = ActorSerializer(read_only=True, allow_null=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["id", "action", "from_status", "to_status", "actor", "at", "note", "data", "attachments"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_attachments(self, event: Event) -> list[int]:
        return [a.pk for a in event.photos]


class UnitTaskSerializer(OutputSerializer):
    unit = UnitBriefSerializer(read_only=True)

    class Meta:
        model = UnitTask
        fields = ["id", "unit", "role", "assigned_at", "reported_back_at", "report"]
        read_only_fields = fields


class AttachmentSerializer(OutputSerializer):
    url = serializers.SerializerMethodField(help_text=_("The photo (at most 2560 px on its long side)."))
    thumbnail_url = serializers.SerializerMethodField(
        help_text=_("A small JPEG of the photo (360 px on its long side), for lists and previews."))

    class Meta:
        model = Attachment
        fields = ["id", "event", "url", "thumbnail_url", "content_type", "size", "width", "height", "uploaded_at"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return _absolute(self.context.get("request"), attachment_url(attachment.pk))

    def get_thumbnail_url(self, attachment: Attachment) -> str:
        return _absolute(self.context.get("request"), attachment_url(attachment.pk, thumbnail=True))


class AvailableActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs_note = serializers.BooleanField()
    url = serializers.CharField(help_text=_("POST here to take the action."))


class HandoverLinkSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("What the incident was handed over to, e.g. \"mediation\"."))
    id = serializers.IntegerField()
    number = serializers.CharField()
    url = serializers.CharField(help_text=_("Its API endpoint."))
    page_url = serializers.CharField(help_text=_("Its page."))


class IncidentDetailSerializer(IncidentSerializer):
    """One incident with its timeline, unit tasks, attachments and the actions the user may take.

    The context carries ``available_actions`` (from the selector). A reporting resident's name and phone
    are always masked here: those the policy allows see them whole through ``reveal-contact``, recorded.
    """

    reporter = ActorSerializer(read_only=True, allow_null=True)
    reporter_phone = serializers.SerializerMethodField()
    # The lists ``selectors.incident_detail`` (or ``filed_incident``) put on the incident.
    events = EventSerializer(source="timeline", many=True, read_only=True)
    unit_tasks = UnitTaskSerializer(source="active_tasks", many=True, read_only=True)
    attachments = AttachmentSerializer(source="photos", many=True, read_only=True)
    available_actions = serializers.SerializerMethodField()
    handovers = serializers.SerializerMethodField(
        help_text=_("What the incident was handed over to (a mediation case), only what the user may see."))

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "description", "reporter", "reporter_phone", "accepted_at",
                  "dispatched_at", "handled_at", "closed_at", "deadline_note", "accept_warn_at", "handle_warn_at",
                  "handle_days_left", "satisfaction", "escalation_count",
                  "updated_at", "events", "unit_tasks", "attachments", "available_actions", "handovers"]
        read_only_fields = fields

    def get_reporter_phone(self, incident: Incident) -> str:
        return mask_phone(incident.reporter_phone)

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, incident: Incident) -> list[dict]:
        """Built by the API from the one table of actions (``incidents.api.detail_context``)."""
        return self.context.get("available_actions", [])

    @extend_schema_field(HandoverLinkSerializer(many=True))
    def get_handovers(self, incident: Incident) -> list[dict]:
        request = self.context.get("request")
        if request is None:
            return []
        return [{"kind": link.kind, "id": link.id, "number": link.number,
                 "url": _absolute(request, link.api_url), "page_url": _absolute(request, link.page_url)}
                for link in visible_links(request.user, incident)]


class RevealInput(serializers.Serializer):
    reason = CleanTextField(max_length=300, help_text=_("Why you need to see the personal data (recorded)."))


class ReporterContactSerializer(serializers.Serializer):
    reporter_name = serializers.CharField()
    reporter_phone = serializers.CharField()


