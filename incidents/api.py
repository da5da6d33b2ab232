"""REST API v1 for incidents: thin views that parse, call a service or selector, and render.

* Reads go through ``incidents.selectors`` (scoped by the one door) and the
  shared ``IncidentFilter``.
* Writes go through ``incidents.services``; their domain errors become the one
  error shape in ``governance.core.api.exception_handler`` (400/403/404/409).
* An incident outside the user's scope answers 404 exactly like a missing one;
  one the user sees but may not act on answers 403 before the input is read.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from governance.access.models import RevealChannel
from governance.access.personal_data import reveal
from governance.core.api import StrictPageNumberPagination
from governance.core.authority import access_object
from governance.core.openapi import ERROR_DESCRIPTIONS, errors
from governance.core.text import NON_BLANK_PATTERN
from incidents import personal_data, selectors, services
from incidents.actions import ACTIONS, IncidentAction, action_of
from incidents.filters import IncidentFilter
from incidents.models import Category, Incident, Source
from incidents.serializers import (
    CategoryTreeSerializer,
    DuplicateSerializer,
    DuplicatesQuery,
    IncidentDetailSerializer,
    IncidentFileInput,
    IncidentSerializer,
    ReporterContactSerializer,
    RevealInput,
    request_bodies,
)
from incidents.workflow import Transition

# What a filing's 400 and 403 may carry besides the shared codes (governance.core.openapi adds 400 itself).
FILING_400 = (ERROR_DESCRIPTIONS[400] + " A filing is also refused with `outside_city` (the point lies outside the "
              "city), `photo_not_image`, `photo_format`, `photo_too_large` or `photos_too_large` (docs/api.md).")
FILING_403 = ("You may only file in your own grids: `not_your_grid`; or a session client's write came without its "
              "CSRF token: `csrf_failed`.")
ACTION_403 = ("You may see the incident but may not take this action: `forbidden`; or a session client's write "
              "came without its CSRF token: `csrf_failed`.")


def parse(serializer_class: type[Serializer], request: Request, data=None, **context) -> dict:
    """Validated input, or a ValidationError that the handler turns into a 400."""
    serializer = serializer_class(data=request.data if data is None else data,
                                  context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def detail_context(request: Request, incident: Incident, available: list[Transition]) -> dict:
    """The context of ``IncidentDetailSerializer``: the actions this user may take now, each with its endpoint."""
    return {"request": request, "available_actions": [
        {"name": t.name, "label": str(t.label), "needs_note": t.needs_note,
         "url": request.build_absolute_uri(reverse(f"api-incident-{action_of(t.name).path}", args=[incident.pk]))}
        for t in available
    ]}


def render_incident(request: Request, pk: int) -> dict:
    """The incident as this user may see it now, with the actions they may take."""
    incident = selectors.incident_detail(request.user, pk)
    available = selectors.available_transitions(request.user, incident)
    return IncidentDetailSerializer(incident, context=detail_context(request, incident, available)).data


def render_filed(request: Request, filing: services.Filing) -> dict:
    """The answer to a filing, from what the filing wrote: the same body a read would give, no read."""
    incident = selectors.filed_incident(filing)
    available = selectors.available_transitions(request.user, incident, just_filed=True)
    return IncidentDetailSerializer(incident, context=detail_context(request, incident, available)).data


class IncidentFilterBackend(DjangoFilterBackend):
    """django-filter's backend, handing the user to the shared FilterSet (regions offered within scope)."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "user": request.user}


class IncidentPagination(StrictPageNumberPagination):
    """Up to 200 a page (``page_size``); garbage in ``page`` or ``page_size`` is a 400."""


# --- Incidents ----------------------------------------------------------------

@extend_schema_view(get=extend_schema(
    operation_id="incidents_list", summary="The incidents you may see",
    description=("Newest first, paginated (`page`, `page_size` up to 200), filtered like the pages' queues. "
                 "`region` takes a region of your territory (any other id is 400, like a missing one); a page past "
                 "the end is 404."),
))
class IncidentListView(generics.ListAPIView):
    """Incidents the user may see, newest first, filtered like the pages' queues."""

    serializer_class = IncidentSerializer
    filter_backends = [IncidentFilterBackend]
    filterset_class = IncidentFilter
    pagination_class = IncidentPagination

    def get_queryset(self):
        return selectors.incident_list(self.request.user)

    @extend_schema(
        operation_id="incidents_file",
        summary="File an incident",
        description=(
            "JSON without photos, or multipart/form-data with up to 9 photos (`photos` or `photos[]`). "
            "A retry with the same idempotency key (the `Idempotency-Key` header or the `idempotency_key` "
            "field) from the same user answers 200 with the incident filed the first time; the same key with a "
            "different report answers 422 and files nothing. The point must lie in the city (400 `outside_city`) "
            "and, for a grid worker, in one of their grids (403 `not_your_grid`)."
        ),
        request=request_bodies(IncidentFileInput),
        parameters=[OpenApiParameter(
            "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NON_BLANK_PATTERN},
            OpenApiParameter.HEADER, required=False,
            description="1 to 64 characters, not only spaces; wins over the idempotency_key field.")],
        responses={201: OpenApiResponse(IncidentDetailSerializer, description="Filed."),
                   200: OpenApiResponse(IncidentDetailSerializer, description="A retry: the incident already filed."),
                   **errors(400, 403, 422, e400=FILING_400, e403=FILING_403)},
    )
    def post(self, request: Request) -> Response:
        data = parse(IncidentFileInput, request, idempotency_header=request.headers.get("Idempotency-Key"))
        if not data.get("source"):
            # The portal's pages (session) file as grid workers; other clients are API clients.
            data["source"] = Source.GRID_WORKER if request.auth is None else Source.API
        filing = services.incident_file(reporter=request.user, **data)
        body = render_filed(request, filing) if filing.created else render_incident(request, filing.incident.pk)
        headers = {"Location": reverse("api-incident-detail", args=[filing.incident.pk])}
        return Response(body, status=status.HTTP_201_CREATED if filing.created else status.HTTP_200_OK,
                        headers=headers)


class IncidentDetailView(APIView):
    """One incident: timeline, unit tasks, attachments (scoped download URLs), version and available actions."""

    @extend_schema(operation_id="incidents_retrieve", summary="One incident",
                   description="With its timeline, unit tasks, attachments (scoped download URLs), `version` and the "
                               "actions you may take now (`available_actions`).",
                   responses={200: IncidentDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(render_incident(request, pk))


class RevealContactView(APIView):
    """The reporting resident's name and phone whole, for a reason, recorded (governance.access.personal_data)."""

    @extend_schema(
        operation_id="incidents_reveal_contact", summary="See the reporting resident's contact whole",
        description=("Names and phones are masked in every answer. Those who may see them (the person who filed the "
                     "incident, the command centre that may triage it, the units handling it) get them whole here, "
                     "with a `reason`; every call is recorded in the audit trail (who, whose, when, why). Anyone "
                     "else who sees the incident gets 403 `no_personal_data`."),
        request=RevealInput,
        responses={200: ReporterContactSerializer,
                   **errors(403, e403="You see the incident but may not see the resident's data: "
                                      "`no_personal_data`.")},
    )
    def post(self, request: Request, pk: int) -> Response:
        incident = access_object(Incident.objects.select_related("grid"), request.user, pk=pk)
        data = parse(RevealInput, request)
        reveal(user=request.user, subject_type=personal_data.SUBJECT_TYPE, obj=incident,
               fields=personal_data.FIELDS, reason=data["reason"], channel=RevealChannel.API)
        return Response({"reporter_name": incident.reporter_name, "reporter_phone": incident.reporter_phone})


class DuplicatesView(APIView):
    """Open incidents of the same category within 100 m filed in the last 72 hours, nearest first."""

    @extend_schema(operation_id="incidents_duplicates", summary="Possible duplicates of a report",
                   description="Open incidents of the category within 100 m filed in the last 72 hours, nearest "
                               "first, with `distance_m`. An unknown category is 400.",
                   parameters=[DuplicatesQuery], responses={200: DuplicateSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = parse(DuplicatesQuery, request, data=request.query_params)
        found = selectors.possible_duplicates(request.user, category=query["category"], lat=query["lat"],
                                              lng=query["lng"], exclude_pk=query.get("exclude"))
        distances = {i.pk: services.distance_m(query["lat"], query["lng"], i.lat, i.lng) for i in found}
        return Response(DuplicateSerializer(found, many=True,
                                            context={"request": request, "distances": distances}).data)


# --- One endpoint per transition ----------------------------------------------

class IncidentActionView(APIView):
    """Scope (404/403), then input (400), then the service (409 on state or a stale version)."""

    endpoint: IncidentAction

    def post(self, request: Request, pk: int) -> Response:
        incident = access_object(Incident.objects.all(), request.user, action=self.endpoint.action, pk=pk)
        data = parse(self.endpoint.input, request)
        self.endpoint.service(incident=incident, actor=request.user, expected_version=data.pop("version", None),
                              **data)
        return Response(render_incident(request, incident.pk))


def _action_view(endpoint: IncidentAction) -> type[IncidentActionView]:
    name = "".join(part.title() for part in endpoint.path.split("-"))
    view = type(f"Incident{name}View", (IncidentActionView,), {
        "endpoint": endpoint,
        "__module__": __name__,
        "__doc__": f"{endpoint.summary}.",
    })
    description = " ".join(filter(None, [
        f"Needs the `{endpoint.action}` action over the incident; answers it as `GET /api/v1/incidents/{{id}}/` "
        "does. Send the `version` you displayed: a stale one is 409 and changes nothing.",
        "A `note` (the reason) is required." if endpoint.needs_note else "",
        endpoint.rules,
    ]))
    return extend_schema_view(post=extend_schema(
        operation_id=f"incidents_{endpoint.path.replace('-', '_')}",
        summary=endpoint.summary,
        description=description,
        request=request_bodies(endpoint.input),
        responses={200: IncidentDetailSerializer, **errors(403, 409, e403=ACTION_403)},
    ))(view)


# The API's routes of the actions, by URL segment: built from the one table (incidents.actions).
ACTION_VIEWS: dict[str, type[IncidentActionView]] = {a.path: _action_view(a) for a in ACTIONS.values()}


# --- Categories ---------------------------------------------------------------

@extend_schema_view(get=extend_schema(
    operation_id="categories_list", summary="The category tree",
    description="Active major categories with their active minor ones: time limits (`accept_hours`, "
                "`handle_working_days`), default severity and whether a grid worker may close it on the spot.",
))
class CategoryTreeView(generics.ListAPIView):
    """Active major categories with their active minor ones, time limits and the on-the-spot rule."""

    serializer_class = CategoryTreeSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return (Category.objects.filter(parent__isnull=True, is_active=True)
                .prefetch_related(Prefetch("children", queryset=Category.objects.filter(is_active=True))))
