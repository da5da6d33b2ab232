"""REST API v1 for the ledgers: thin views over ``selectors`` (scoped) and ``services`` (the right to act).

Reads: programmes, a programme's computed progress, responsibilities, filings, notices, the project library.
Writes: file progress (JSON; evidence files go with the page's form), review a filing, issue and answer a
supervision notice. Hidden objects answer 404, visible ones the user may not act on 403, bad input 400.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.api import StrictPageNumberPagination
from governance.core.authority import access_object
from governance.core.errors import PermissionDeniedError
from governance.core.openapi import errors
from governance.ledgers import selectors, services
from governance.ledgers.filters import ProjectFilter, ResponsibilityFilter
from governance.ledgers.models import Filing, Programme, Responsibility, SupervisionNotice
from governance.ledgers.serializers import (
    FilingInput,
    FilingSerializer,
    NoticeInput,
    NoticeSerializer,
    ProgrammeSerializer,
    ProgressSerializer,
    ProjectSerializer,
    ResponseInput,
    ResponsibilitySerializer,
    ReviewInput,
)


def parse(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class Pagination(StrictPageNumberPagination):
    pass


@extend_schema_view(get=extend_schema(operation_id="ledgers_programmes", summary="The pilot programmes you may see"))
class ProgrammeListView(generics.ListAPIView):
    serializer_class = ProgrammeSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return selectors.programme_list(self.request.user).order_by("pk")


class ProgrammeProgressView(APIView):
    @extend_schema(operation_id="ledgers_progress", summary="A programme's computed progress, in your scope",
                   description=("Weighted progress by task, units ranked, the lagging requirements: the figures of "
                                "the dashboard, over the units of your territory (or your own unit)."),
                   responses={200: ProgressSerializer})
    def get(self, request: Request, pk: int) -> Response:
        programme = access_object(Programme.objects.all(), request.user, pk=pk)
        report = selectors.programme_report(request.user, programme)
        return Response({
            "programme": programme.pk, "as_of": report.today, "overall": report.overall,
            "tasks": [{"code": f.node.code, "title": f.node.title, "depth": f.node.depth, "weight": f.node.weight,
                       "progress": f.progress, "requirements": f.requirements, "lagging": f.lagging}
                      for f in report.rows],
            "units": [{"unit_id": u.unit_id, "unit": u.unit_name, "requirements": u.requirements,
                       "completed": u.completed, "completion": u.completion, "lagging": u.lagging,
                       "missing_filings": u.missing_filings, "overdue_notices": u.overdue_notices}
                      for u in report.units],
            "lagging": [{"responsibility": s.responsibility_id, "code": node.code, "unit": s.unit_name,
                         "percent": s.percent, "overdue": s.overdue, "missing": s.missing}
                        for s, node in report.lagging_rows],
        })


@extend_schema_view(get=extend_schema(operation_id="ledgers_responsibilities",
                                      summary="Requirements and their responsible units you may see"))
class ResponsibilityListView(generics.ListAPIView):
    """``programme``: only that programme's; ``mine``: only your own units' (what you file for)."""

    serializer_class = ResponsibilitySerializer
    pagination_class = Pagination
    filterset_class = ResponsibilityFilter

    def get_queryset(self):
        return selectors.responsibility_list(self.request.user).order_by("task__path", "unit__name", "pk")


class FilingListView(APIView):
    @extend_schema(operation_id="ledgers_filings", summary="Every filing and version of a responsibility",
                   responses={200: FilingSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        resp = access_object(Responsibility.objects.all(), request.user, pk=pk)
        filings = Filing.objects.filter(responsibility=resp).prefetch_related("evidence").order_by("-period",
                                                                                                   "-version")
        return Response(FilingSerializer(filings, many=True).data)

    @extend_schema(operation_id="ledgers_file", summary="File progress for a period",
                   description=("The responsible unit files; a period filed before gets a new version (the old one "
                                "is kept). 400 names the field: a period that is not this requirement's or has not "
                                "begun (`period`), a percentage that does not fit the status (`percent`)."),
                   request=FilingInput,
                   responses={201: FilingSerializer, **errors(400, 403, 409)})
    def post(self, request: Request, pk: int) -> Response:
        resp = access_object(Responsibility.objects.all(), request.user, pk=pk)
        if not services.may_file(request.user, resp):
            raise PermissionDeniedError()
        data = parse(FilingInput, request)
        filing = services.filing_submit(responsibility=resp, acting_user=request.user, **data)
        return Response(FilingSerializer(filing).data, status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api-ledger-filings", args=[resp.pk])})


class ReviewView(APIView):
    @extend_schema(operation_id="ledgers_review", summary="Accept or return a filing",
                   description="The lead unit or a supervisor of the unit's territory; a return needs a `comment`.",
                   request=ReviewInput, responses={200: FilingSerializer, **errors(400, 403, 409)})
    def post(self, request: Request, pk: int) -> Response:
        filing = access_object(Filing.objects.select_related("responsibility"), request.user, pk=pk)
        if not services.may_review(request.user, filing.responsibility):
            raise PermissionDeniedError()
        data = parse(ReviewInput, request)
        filing = services.filing_review(filing=filing, accept=data["decision"] == "accept", comment=data["comment"],
                                        acting_user=request.user)
        return Response(FilingSerializer(filing).data)


@extend_schema_view(get=extend_schema(operation_id="ledgers_notices", summary="Supervision notices you may see"))
class NoticeListView(generics.ListAPIView):
    serializer_class = NoticeSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return selectors.notice_list(self.request.user).order_by("-issued_at", "-pk")

    @extend_schema(operation_id="ledgers_notice_issue", summary="Issue a supervision notice",
                   description=("To a responsibility's unit about its requirement; supervisors of the unit's "
                                "territory only. The date to respond by cannot be in the past (`due_on`)."),
                   request=NoticeInput, responses={201: NoticeSerializer, **errors(400, 403, 404)})
    def post(self, request: Request) -> Response:
        data = parse(NoticeInput, request)
        resp = access_object(Responsibility.objects.select_related("task", "unit__home_region"), request.user,
                             pk=data["responsibility"])
        if not services.may_issue_notice(request.user, resp.unit):
            raise PermissionDeniedError()
        notice = services.notice_issue(task=resp.task, unit=resp.unit, content=data["content"],
                                       due_on=data["due_on"], acting_user=request.user)
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


class NoticeRespondView(APIView):
    @extend_schema(operation_id="ledgers_notice_respond", summary="Answer a supervision notice",
                   request=ResponseInput, responses={200: NoticeSerializer, **errors(400, 403, 409)})
    def post(self, request: Request, pk: int) -> Response:
        notice = access_object(SupervisionNotice.objects.all(), request.user, pk=pk)
        if not services.handles_unit(request.user, notice.unit_id):
            raise PermissionDeniedError()
        data = parse(ResponseInput, request)
        return Response(NoticeSerializer(services.notice_respond(notice=notice, response=data["response"],
                                                                 acting_user=request.user)).data)


@extend_schema_view(get=extend_schema(operation_id="ledgers_projects", summary="The innovation project library",
                                      responses={200: OpenApiResponse(ProjectSerializer(many=True))}))
class ProjectListView(generics.ListAPIView):
    serializer_class = ProjectSerializer
    pagination_class = Pagination
    filterset_class = ProjectFilter

    def get_queryset(self):
        return selectors.project_list(self.request.user).order_by("-created_at", "-pk")
