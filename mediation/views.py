"""Mediation pages: the mediator's workbench, the dispute list, figures, registering, the case page and its actions.

Thin: every read goes through ``mediation.selectors`` (the scoping door), every write through one
``mediation.services`` function. The action forms are the API's input serializers (one definition of
each action's input, ``mediation.serializers.ACTION_INPUTS``), drawn by ``form_fields``.
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework import serializers as drf

from governance.access.models import RevealChannel, Role, RoleAssignment
from governance.access.personal_data import may_reveal, reveal
from governance.core.api import flatten_field_errors
from governance.core.authority import access_object, may
from governance.core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from governance.core.scoping import Action, get_scope
from governance.exports.views import export_controls
from mediation import personal_data, selectors, services
from mediation.actions import ACTIONS
from mediation.filters import CaseFilter
from mediation.models import WAITING_STATUSES, Case, DisputeType, PartyRole, RiskLevel, Source, Status
from mediation.serializers import ACTION_INPUTS, CaseRegisterInput, TransferInput

PAGE_SIZE = 25
REVEAL_SECONDS = 600
EVENT_LABELS = {"register": gettext_lazy("Registered")}
# The labels of the actions' form fields (the input serializers' names).
FIELD_LABELS = {
    "mediators": gettext_lazy("Mediators"), "held_at": gettext_lazy("Held at"), "place": gettext_lazy("Place"),
    "attendees": gettext_lazy("Attendees"), "notes": gettext_lazy("Notes"), "terms": gettext_lazy("Terms"),
    "signed_on": gettext_lazy("Signed on"), "obligations": gettext_lazy("Obligations"),
    "file": gettext_lazy("Scanned agreement (PDF, JPEG or PNG)"), "referred_to": gettext_lazy("Referred to"),
    "visited_on": gettext_lazy("Visited on"), "method": gettext_lazy("How"),
    "satisfied": gettext_lazy("Parties satisfied"), "obligation": gettext_lazy("Obligation"),
    "level": gettext_lazy("Risk level"), "role": gettext_lazy("Role"), "name": gettext_lazy("Full name"),
    "id_number": gettext_lazy("ID number"), "phone": gettext_lazy("Phone"), "address": gettext_lazy("Address"),
}


def _nav(request) -> dict:
    scope = get_scope(request.user)
    return {"mediate": not scope.is_empty(Action.MEDIATE),
            "register": not (scope.is_empty(Action.MEDIATE) and scope.is_empty(Action.TRIAGE))}


def render_page(request, template: str, context: dict, *, status: int = 200):
    context["nav"] = _nav(request)
    return render(request, template, context, status=status)


def _decorate(cases, now=None):
    now = now or timezone.now()
    for case in cases:
        case.is_overdue = case.is_overdue_at(now)
    return cases


def _table_rows(cases, now=None) -> list[Case]:
    """The rows of templates/mediation/_table.html, with what each cell shows worked out once per table: the
    choice labels translated once (``get_FOO_display`` builds a dict of lazy labels on every call, and hashing
    a lazy label translates it: a quarter of the page's time), the link from one reversed URL."""
    now = now or timezone.now()
    statuses = {value: str(label) for value, label in Status.choices}
    risks = {value: str(label) for value, label in RiskLevel.choices}
    link = reverse("mediation:detail", args=[0]).removesuffix("0/")
    rows = _decorate(list(cases), now)
    for case in rows:
        case.status_label = statuses.get(case.status, case.status)
        case.risk_label = risks.get(case.risk_level, case.risk_level)
        case.url = f"{link}{case.pk}/"
        case.waiting = case.status in WAITING_STATUSES
    return rows


# --- Lists ----------------------------------------------------------------------------------------------

def _filtered(request, queryset):
    filterset = CaseFilter(request.GET or None, queryset=queryset, user=request.user)
    if not filterset.is_bound:
        return filterset, queryset
    if filterset.is_valid():
        return filterset, filterset.qs
    return filterset, queryset.none()


@login_required
@require_GET
def case_list(request):
    """The command centre's dispute list: the territory's open cases (closed or all on request), with risk and
    type filters. Open is the default of the page (a work list; ten years of closed cases are a filter away),
    written into the query so that the export and the links carry it too."""
    if "open" not in request.GET:
        query = request.GET.copy()
        query["open"] = "true"
        request.GET = query
    filterset, cases = _filtered(request, selectors.for_table(selectors.case_list(request.user)))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _table_rows(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(request, "mediation/list.html", {
        "filter": filterset, "page": page, "query": query.urlencode(),
        "risk_levels": RiskLevel.choices, "checked_risks": request.GET.getlist("risk"),
        "dispute_types": DisputeType.objects.filter(is_active=True),
        "export": export_controls(request, "mediation_cases"),
    })


@login_required
@require_GET
def workbench(request):
    """The mediator's workbench: my cases, sessions today, deadlines near."""
    if get_scope(request.user).is_empty(Action.MEDIATE):
        raise PermissionDenied
    now = timezone.now()
    mine = selectors.my_cases(request.user)
    rows = selectors.for_table(mine)  # the tables read ten columns, not a case's forty and its region's tree
    own = list(selectors.assigned_to(rows, request.user)[:selectors.WORKBENCH_LIMIT])
    unassigned = list(rows.filter(status=Status.REGISTERED)[:selectors.WORKBENCH_LIMIT])
    return render_page(request, "mediation/workbench.html", {
        "own": _table_rows(own, now), "unassigned": _table_rows(unassigned, now),
        "sessions": list(selectors.sessions_today(request.user, now)),
        "near": _table_rows(selectors.for_table(selectors.deadlines_near(request.user, now))
                            [:selectors.WORKBENCH_LIMIT], now),
        "open_count": mine.count(),
    })


@login_required
@require_GET
def figures(request):
    """Figures of the cases registered in a period: the last 365 days unless dates are given."""
    from datetime import timedelta

    from django.conf import settings

    if not request.GET.get("registered_after") and not request.GET.get("registered_before"):
        query = request.GET.copy()
        query["registered_after"] = (timezone.localdate() - timedelta(days=365)).isoformat()
        request.GET = query
    filterset, cases = _filtered(request, selectors.for_table(selectors.case_list(request.user)))
    regions = selectors.by_region(request.user, boundaries=True)
    return render_page(request, "mediation/figures.html", {
        "filter": filterset, "figures": selectors.figures(cases), "dispute_types": DisputeType.objects.all(),
        "regions": regions,
        # the map's two layers: open cases by street (polygons), red cases (circles at the street's centre)
        "map": {"tiles": settings.MAP_TILES_URL, "attribution": settings.MAP_TILES_ATTRIBUTION,
                # drawn over the city's tiles: in their coordinates, as the command map's layers are
                "regions": (selectors.in_gcj02(regions) if settings.MAP_TILES_URL and settings.MAP_TILES_GCJ02
                            else regions),
                "labels": {"open": _("Open cases by street"), "red": _("Red-risk cases")}},
    })



# --- Registering and transferring --------------------------------------------------------------------

def _parties_from_post(post) -> list[dict]:
    parties = []
    for n in range(4):
        name = post.get(f"party-{n}-name", "").strip()
        if name:
            parties.append({"role": post.get(f"party-{n}-role", PartyRole.APPLICANT), "name": name,
                            "id_number": post.get(f"party-{n}-id_number", ""),
                            "phone": post.get(f"party-{n}-phone", ""),
                            "address": post.get(f"party-{n}-address", "")})
    return parties


@login_required
@require_http_methods(["GET", "POST"])
def case_register(request):
    if not _nav(request)["register"]:
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {key: request.POST.get(key) for key in request.POST if not key.startswith("party-")}
        for key in ("amount", "court_referral_date"):
            if not data.get(key):
                data.pop(key, None)
        data["parties"] = _parties_from_post(request.POST)
        serializer = CaseRegisterInput(data=data, context={"request": request})
        if serializer.is_valid():
            try:
                case = services.case_register(acting_user=request.user, **serializer.validated_data)
            except PermissionDeniedError as exc:
                errors = {"": [str(exc.message)]}
            except DomainError as exc:
                errors = exc.field_errors or {"": [str(exc.message)]}
                errors.setdefault("", [str(exc.message)])
            else:
                messages.success(request, _("Case %(number)s was registered.") % {"number": case.number})
                return redirect("mediation:detail", pk=case.pk)
        else:
            errors = flatten_field_errors(serializer.errors)
    from grids.models import Level

    return render_page(request, "mediation/register.html", {
        "errors": errors, "post": request.POST,
        "sources": [c for c in Source.choices if c[0] != Source.INCIDENT],  # a transfer is the incident's button
        "dispute_types": DisputeType.objects.filter(is_active=True),
        "organisations": services.organisations_for(request.user),
        "regions": services.regions_for(request.user).exclude(level=Level.GRID).order_by("path")
                   .only("pk", "name", "depth", "path")[:500],
        "risk_levels": RiskLevel.choices, "party_roles": PartyRole.choices, "party_rows": range(2),
    }, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def transfer(request, incident_pk: int):
    """Transfer a dispute incident to mediation: the button the incident page shows (``incidents.handovers``)."""
    from incidents.models import Incident

    incident = access_object(Incident.objects.select_related("grid", "category"), request.user, pk=incident_pk)
    if not may(incident, request.user, Action.TRIAGE):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        serializer = TransferInput(data=request.POST, context={"request": request})
        if serializer.is_valid():
            try:
                case = services.case_transfer_from_incident(acting_user=request.user, incident=incident,
                                                            **serializer.validated_data)
            except NotFoundError:
                raise Http404 from None
            except DomainError as exc:
                errors = {"": [str(exc.message)], **exc.field_errors}
            else:
                messages.success(request, _("Incident %(incident)s was transferred to mediation as case %(case)s.")
                                 % {"incident": incident.number, "case": case.number})
                return redirect("mediation:detail", pk=case.pk)
        else:
            errors = flatten_field_errors(serializer.errors)
    organisations = [o for o in services.organisations_for(request.user)
                     if incident.grid.path.startswith(o.home_region.path)]
    return render_page(request, "mediation/transfer.html", {
        "incident": incident, "errors": errors, "organisations": organisations,
        "dispute_types": DisputeType.objects.filter(is_active=True), "risk_levels": RiskLevel.choices,
    }, status=400 if errors else 200)


# --- The case page -------------------------------------------------------------------------------------

def _reveal_key(case: Case) -> str:
    return f"revealed:{personal_data.SUBJECT_TYPE}:{case.pk}"


def form_fields(name: str, case: Case) -> list[dict]:
    """The fields of an action's form, drawn from its input serializer (the API's)."""
    fields = []
    for field_name, field in ACTION_INPUTS[name]().fields.items():
        if field_name == "version":
            continue
        spec = {"name": field_name, "label": FIELD_LABELS.get(field_name, field_name),
                "required": field.required and field_name != "note", "kind": "text"}
        if field_name == "note":
            spec["required"] = ACTIONS[name].needs_note
            spec["label"] = _("Reason") if ACTIONS[name].needs_note else _("Note")
            spec["kind"] = "textarea"
        elif field_name in ("notes", "terms"):
            spec["kind"] = "textarea"
        elif field_name == "mediators":
            spec["kind"] = "multi"
            spec["choices"] = [(a.user_id, str(a.user.get_full_name() or a.user.username)) for a in
                               RoleAssignment.objects.active().filter(role=Role.MEDIATOR, unit=case.organisation_id)
                               .select_related("user")]
        elif field_name == "obligations":
            spec["kind"] = "obligations"
            spec["choices"] = [(p.pk, f"{p.get_role_display()} {p.masked['name']}") for p in case.parties.all()]
            spec["rows"] = range(3)
        elif field_name == "obligation":
            spec["kind"] = "select"
            spec["choices"] = [(o.pk, f"{o.description} ({o.due_on:%Y-%m-%d})") for o in case.obligations
                               if o.done_at is None]
        elif isinstance(field, drf.ChoiceField):
            spec["kind"] = "select"
            spec["choices"] = list(field.choices.items())
        elif isinstance(field, drf.BooleanField):
            spec["kind"] = "select"
            spec["choices"] = [("", _("Unknown")), ("true", _("Yes")), ("false", _("No"))]
        elif isinstance(field, drf.DateTimeField):
            spec["kind"] = "datetime-local"
        elif isinstance(field, drf.DateField):
            spec["kind"] = "date"
        elif isinstance(field, drf.FileField):
            spec["kind"] = "file"
        fields.append(spec)
    return fields


def _detail_context(request, case: Case, *, errors: dict | None = None, failed: str = "") -> dict:
    _decorate([case])
    allowed = may_reveal(request.user, personal_data.SUBJECT_TYPE, case)
    whole = allowed and request.session.get(_reveal_key(case), 0) > time.time()
    parties = [{"party": p, "shown": ({"name": p.name, "id_number": p.id_number, "phone": p.phone} if whole
                                      else p.masked)} for p in case.parties.all()]
    actions = services.available_actions(request.user, case)
    for event in case.events.all():
        event.label = ACTIONS[event.action].label if event.action in ACTIONS else EVENT_LABELS.get(event.action,
                                                                                                   event.action)
    return {
        "case": case, "parties": parties, "whole": whole, "may_reveal": allowed and not whole,
        "actions": [{"action": a, "fields": form_fields(a.name, case)} for a in actions],
        "errors": errors or {}, "failed": failed,
        "agreement": getattr(case, "agreement", None),
    }


@login_required
@require_GET
def case_detail(request, pk: int):
    case = selectors.case_detail(request.user, pk)
    return render_page(request, "mediation/detail.html", _detail_context(request, case))


def _action_data(request, name: str) -> dict:
    prefix = f"{name}-"
    data = {key[len(prefix):]: request.POST.get(key) for key in request.POST if key.startswith(prefix)}
    if name == "accept":
        data["mediators"] = request.POST.getlist(f"{prefix}mediators")
    if name == "record_agreement":
        obligations = []
        for n in range(3):
            description = request.POST.get(f"{prefix}obligations-{n}-description", "").strip()
            if description:
                obligations.append({"description": description,
                                    "due_on": request.POST.get(f"{prefix}obligations-{n}-due_on", ""),
                                    "party": request.POST.get(f"{prefix}obligations-{n}-party") or None})
            for key in ("description", "due_on", "party"):
                data.pop(f"obligations-{n}-{key}", None)
        data["obligations"] = obligations
        data.pop("file", None)
        upload = request.FILES.get(f"{prefix}file")
        if upload is not None:
            data["file"] = upload
    if data.get("satisfied") == "":
        data.pop("satisfied")
    return data


@login_required
@require_POST
def case_act(request, pk: int, name: str):
    """Take one action on a case: its form (the API's input serializer), then its service."""
    case = access_object(Case.objects.select_related("organisation", "region"), request.user, pk=pk)
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    if not may(case, request.user, action.right):
        raise PermissionDenied
    serializer = ACTION_INPUTS[name](data=_action_data(request, name), context={"request": request})
    detail_url = reverse("mediation:detail", args=[case.pk])
    if not serializer.is_valid():
        case = selectors.case_detail(request.user, pk)
        return render_page(request, "mediation/detail.html", _detail_context(
            request, case, errors=flatten_field_errors(serializer.errors), failed=name), status=400)
    data = dict(serializer.validated_data)
    try:
        action.service(case=case, actor=request.user, expected_version=data.pop("version", None), **data)
    except ConflictError as exc:
        messages.warning(request, str(exc.message))
        return HttpResponseRedirect(detail_url)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except NotFoundError:
        raise Http404 from None
    except DomainError as exc:
        case = selectors.case_detail(request.user, pk)
        return render_page(request, "mediation/detail.html", _detail_context(
            request, case, errors={"": [str(exc.message)], **exc.field_errors}, failed=name), status=400)
    messages.success(request, _("%(action)s: case %(number)s.") % {"action": action.label, "number": case.number})
    return HttpResponseRedirect(detail_url)


@login_required
@require_POST
def reveal_parties(request, pk: int):
    case = access_object(Case.objects.select_related("region"), request.user, pk=pk)
    try:
        reveal(user=request.user, subject_type=personal_data.SUBJECT_TYPE, obj=case, fields=personal_data.FIELDS,
               reason=request.POST.get("reason", ""), channel=RevealChannel.PAGE)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        request.session[_reveal_key(case)] = time.time() + REVEAL_SECONDS
    return HttpResponseRedirect(reverse("mediation:detail", args=[case.pk]) + "#parties")


@login_required
@require_GET
def agreement_file(request, pk: int):
    """The scanned agreement, only to those who may see the case. Never a public URL."""
    case = access_object(Case.objects.select_related("agreement"), request.user, pk=pk)
    agreement = getattr(case, "agreement", None)
    if agreement is None or not agreement.file:
        raise Http404
    try:
        handle = agreement.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=agreement.file_content_type, as_attachment=False,
                            filename=f"{case.number}-agreement.{agreement.file_extension}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
