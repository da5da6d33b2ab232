"""REST API v1 for mediation cases: thin views that parse, call a service or selector, and render.

A case outside the user's scope answers 404 exactly like a missing one; one the user sees but may not act
on answers 403 before the input is read. Party data is masked in every answer; the reveal endpoint gives it
whole to those the policy allows, recorded.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access.models import RevealChannel
from governance.access.personal_data import reveal
from governance.core.api import StrictPageNumberPagination
from governance.core.authority import access_object
from governance.core.errors import InvalidInput
from governance.core.openapi import errors
from governance.core.parsers import SafeJSONParser
from mediation import personal_data, selectors, services
from mediation.actions import ACTIONS, CaseAction
from mediation.filters import CaseFilter
from mediation.models import Case, Source
from mediation.serializers import (
    ACTION_INPUTS,
    CaseDetailSerializer,
    CaseRegisterInput,
    CaseSerializer,
    FiguresSerializer,
    PartiesRevealInput,
    PartyWholeSerializer,
    TransferInput,
)

ACTION_403 = ("You may see the case but may not take this action: `forbidden`; or a session client's write came "
              "without its CSRF token: `csrf_failed`.")


def parse(serializer_class, request: Request, data=None) -> dict:
    serializer = serializer_class(data=request.data if data is None else data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def action_url(request, case: Case, action: CaseAction) -> str:
    return request.build_absolute_uri(reverse(f"api-mediation-case-{action.path}", args=[case.pk]))


def render_case(request: Request, pk: int) -> dict:
    case = selectors.case_detail(request.user, pk)
    available = [{"name": a.name, "label": str(a.label), "needs_note": a.needs_note,
                  "url": action_url(request, case, a)} for a in services.available_actions(request.user, case)]
    return CaseDetailSerializer(case, context={"request": request, "available_actions": available}).data


class CaseFilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "user": request.user}


@extend_schema_view(get=extend_schema(
    operation_id="mediation_cases_list", summary="The dispute cases you may see",
    description="Newest first, paginated, filtered like the dispute list page (risk level, dispute type, status…). "
                "Parties are never listed here.",
))
class CaseListView(generics.ListAPIView):
    serializer_class = CaseSerializer
    parser_classes = [SafeJSONParser]  # a case comes with a list of parties: JSON
    filter_backends = [CaseFilterBackend]
    filterset_class = CaseFilter
    pagination_class = StrictPageNumberPagination

    def get_queryset(self):
        return selectors.case_list(self.request.user)

    @extend_schema(
        operation_id="mediation_cases_register", summary="Register a case",
        description="For a mediation organisation in a territory of yours: its mediators, or the territory's "
                    "command centre. A court referral (`source` = `court`) needs the court, its case number and the "
                    "referral date; its clock starts at the referral date. The deadline follows the source and the "
                    "dispute type (30 days unless a rule says otherwise).",
        request=CaseRegisterInput,
        responses={201: CaseDetailSerializer, **errors(400, 403, e403="You may not register cases for this "
                                                                      "organisation in this territory.")},
    )
    def post(self, request: Request) -> Response:
        data = parse(CaseRegisterInput, request)
        if data["source"] == Source.INCIDENT:
            raise InvalidInput(_("A dispute incident is transferred to mediation through its own endpoint."),
                               field_errors={"source": [_("Use the incident's transfer.")]})
        case = services.case_register(acting_user=request.user, **data)
        return Response(render_case(request, case.pk), status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api-mediation-case-detail", args=[case.pk])})


class CaseDetailView(APIView):
    @extend_schema(operation_id="mediation_cases_retrieve", summary="One case",
                   description="With its parties (masked), sessions, agreement and obligations, follow-up visits, "
                               "risk history, timeline, `version` and the actions you may take now.",
                   responses={200: CaseDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(render_case(request, pk))


class RevealPartiesView(APIView):
    @extend_schema(
        operation_id="mediation_cases_reveal_parties", summary="See the parties' personal data whole",
        description="Names, ID numbers and phones are masked in every answer. The case's mediators and the "
                    "territory's administrators get them whole here, with a `reason`; every call is recorded in "
                    "the audit trail. Anyone else who sees the case gets 403 `no_personal_data`.",
        request=PartiesRevealInput,
        responses={200: PartyWholeSerializer(many=True),
                   **errors(403, e403="You see the case but may not see the parties' data: `no_personal_data`.")},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = access_object(Case.objects.select_related("region"), request.user, pk=pk)
        data = parse(PartiesRevealInput, request)
        reveal(user=request.user, subject_type=personal_data.SUBJECT_TYPE, obj=case, fields=personal_data.FIELDS,
               reason=data["reason"], channel=RevealChannel.API)
        return Response(PartyWholeSerializer(case.parties.all(), many=True).data)


class TransferView(APIView):
    @extend_schema(
        operation_id="mediation_transfer_incident", summary="Transfer a dispute incident to mediation",
        description="One action: a case is registered from the incident (its grid, title, description and "
                    "reporting resident as applicant), and the incident is handed over, parked until the case's "
                    "deadline; they point at each other, and closing the case closes the incident. Needs the "
                    "`triage` action over the incident; a reported or accepted incident only (409 otherwise).",
        request=TransferInput,
        responses={201: CaseDetailSerializer, **errors(403, 409, e403="You may not triage this incident.")},
    )
    def post(self, request: Request, incident_pk: int) -> Response:
        from incidents.models import Incident

        incident = access_object(Incident.objects.all(), request.user, pk=incident_pk)
        data = parse(TransferInput, request)
        case = services.case_transfer_from_incident(acting_user=request.user, incident=incident, **data)
        return Response(render_case(request, case.pk), status=status.HTTP_201_CREATED)


class FiguresView(APIView):
    @extend_schema(operation_id="mediation_figures", summary="Figures of the cases you may see",
                   description="Cases by type and outcome, the success rate (agreements among cases with an "
                               "outcome) and the average days from registration to outcome; filtered like the list.",
                   responses={200: FiguresSerializer})
    def get(self, request: Request) -> Response:
        filterset = CaseFilter(request.query_params, queryset=selectors.case_list(request.user), user=request.user)
        if not filterset.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(filterset.errors)
        figures = selectors.figures(filterset.qs)
        data = figures.__dict__ | {"by_outcome": [{**row, "label": str(row["label"])} for row in figures.by_outcome]}
        return Response(FiguresSerializer(data).data)


class MapRegionSerializer(serializers.Serializer):
    region = serializers.IntegerField()
    name = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    open = serializers.IntegerField()
    red = serializers.IntegerField()


class MapQuery(serializers.Serializer):
    coords = serializers.ChoiceField(choices=["wgs84", "gcj02"], default="wgs84",
                                     help_text="gcj02: centres shifted for tile servers in GCJ-02, as the "
                                               "command map asks")


class MapView(APIView):
    @extend_schema(operation_id="mediation_map", summary="Open and red-risk cases by street, for the map",
                   description="Per street of your territory that has open cases: its centre, the open cases and "
                               "the red-risk ones among them. The mediation figures' map and the command map's "
                               "dispute overlay both read it.",
                   parameters=[MapQuery], responses={200: MapRegionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = parse(MapQuery, request, data=request.query_params)
        rows = selectors.by_region(request.user)
        if query["coords"] == "gcj02":
            rows = selectors.in_gcj02(rows)
        return Response(MapRegionSerializer(rows, many=True).data)


class CaseActionView(APIView):
    """Scope (404/403), then input (400), then the service (409 on state or a stale version)."""

    endpoint: CaseAction
    parser_classes = [SafeJSONParser]

    def post(self, request: Request, pk: int) -> Response:
        case = access_object(Case.objects.all(), request.user, action=self.endpoint.right, pk=pk)
        data = parse(ACTION_INPUTS[self.endpoint.name], request)
        self.endpoint.service(case=case, actor=request.user, expected_version=data.pop("version", None), **data)
        return Response(render_case(request, case.pk))


# The agreement carries its scanned file: a form (multipart), with the obligations as a JSON text.
FORM_ACTIONS = frozenset({"record_agreement"})


def _action_view(endpoint: CaseAction) -> type[CaseActionView]:
    name = "".join(part.title() for part in endpoint.path.split("-"))
    attrs = {"endpoint": endpoint, "__module__": __name__, "__doc__": f"{endpoint.summary}."}
    if endpoint.name in FORM_ACTIONS:
        attrs["parser_classes"] = [MultiPartParser, FormParser]
    view = type(f"Case{name}View", (CaseActionView,), attrs)
    description = " ".join(filter(None, [
        f"Needs the `{endpoint.right}` action over the case (its organisation's mediators, the territory's "
        "administrators). Send the `version` you displayed: a stale one is 409 and changes nothing.",
        "A `note` (the reason) is required." if endpoint.needs_note else "",
    ]))
    return extend_schema_view(post=extend_schema(
        operation_id=f"mediation_cases_{endpoint.name}", summary=endpoint.summary, description=description,
        request=ACTION_INPUTS[endpoint.name],
        responses={200: CaseDetailSerializer, **errors(403, 409, e403=ACTION_403)},
    ))(view)


ACTION_VIEWS: dict[str, type[CaseActionView]] = {a.path: _action_view(a) for a in ACTIONS.values()}


