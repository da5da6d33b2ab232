"""Incident pages: filing, the lists and queues, the detail page with its actions, and photos.

Thin: every read goes through ``incidents.selectors`` (the scoping door), every
write through one ``incidents.services`` function. A hidden incident answers
404; an action the user may see but not take answers 403.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.access import selectors as governance_selectors
from governance.access.models import RevealChannel, Role
from governance.access.personal_data import may_reveal, reveal
from governance.core.authority import access_object, may
from governance.core.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from governance.core.masking import mask_name, mask_phone
from governance.core.scoping import Action, get_scope
from governance.exports.views import export_controls
from incidents import handovers, personal_data, selectors, services
from incidents.actions import ACTIONS, IncidentAction, offered
from incidents.deadlines import DeadlineChange
from incidents.filters import IncidentFilter
from incidents.forms import (
    ActionForm,
    DispatchForm,
    IncidentFileForm,
    action_prefix,
    category_tree,
    unit_choices,
)
from incidents.models import OPEN_STATUSES, Incident, Status, is_overdue, waiting_deadline
from incidents.workflow import TRANSITIONS

PAGE_SIZE = 25
# The queues hold open incidents only, so they offer only the open statuses as filters.
OPEN_CHOICES = [(value, label) for value, label in Status.choices if value in OPEN_STATUSES]
# The REST API the filing page's script posts to (incidents/api.py).
API_FILE_URL = "/api/v1/incidents/"
API_DUPLICATES_URL = "/api/v1/incidents/duplicates/"

EVENT_LABELS = {
    "report": gettext_lazy("Filed"),
    "merged_in": gettext_lazy("A duplicate was merged in"),
    **handovers.EVENT_LABELS,
}


# --- Helpers ------------------------------------------------------------------

def decorate(incidents, now: datetime | None = None):
    """Give each incident on a page its current deadline and whether it is overdue."""
    now = now or timezone.now()
    for incident in incidents:
        incident.due_at = waiting_deadline(incident.status, incident.accept_due_at, incident.handle_due_at)
        incident.is_overdue = is_overdue(incident.status, incident.accept_due_at, incident.handle_due_at, now)
    return incidents


def render_page(request, template: str, context: dict, *, status: int = 200):
    """Render an incident page (the top bar's links come from ``governance.access.navigation``)."""
    return render(request, template, context, status=status)


def paginate(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = decorate(list(page.object_list))
    return page


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def safe_next(request, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return None


def map_config(regions, *, point: tuple[float, float] | None = None) -> dict:
    """What the page's map script draws: the regions' polygons, a point, and the tile server if any."""
    return {
        "tiles": settings.MAP_TILES_URL,
        "attribution": settings.MAP_TILES_ATTRIBUTION,
        "regions": [{"id": r.pk, "name": r.name, "boundary": r.boundary} for r in regions],
        "point": list(point) if point else None,
    }


def offered_actions(user, incident: Incident) -> list[IncidentAction]:
    """The actions this user may take now (the two outcomes of a verification are one form)."""
    return offered(selectors.available_transitions(user, incident))


# How long a recorded reveal keeps the contact shown on the page for its viewer.
REVEAL_SECONDS = 600


def _reveal_key(incident: Incident) -> str:
    return f"revealed:{personal_data.SUBJECT_TYPE}:{incident.pk}"


def reporter_contact(request, incident: Incident) -> dict | None:
    """A resident reporter's name and phone as this user sees them: masked, or whole for a few minutes after a
    recorded reveal (``governance.access.personal_data``); and whether they may ask to see them whole."""
    if not (incident.reporter_name or incident.reporter_phone):
        return None
    allowed = may_reveal(request.user, personal_data.SUBJECT_TYPE, incident)
    whole = allowed and request.session.get(_reveal_key(incident), 0) > time.time()
    if whole:
        text = f"{incident.reporter_name} {incident.reporter_phone}".strip()
    else:
        text = f"{mask_name(incident.reporter_name)} {mask_phone(incident.reporter_phone)}".strip()
    return {"text": text, "whole": whole, "may_reveal": allowed and not whole}


@login_required
@require_POST
def reveal_contact(request, pk: int):
    """Show the reporting resident's contact whole, for a reason, recorded in the audit trail."""
    incident = access_object(Incident.objects.select_related("grid"), request.user, pk=pk)
    try:
        reveal(user=request.user, subject_type=personal_data.SUBJECT_TYPE, obj=incident,
               fields=personal_data.FIELDS, reason=request.POST.get("reason", ""), channel=RevealChannel.PAGE)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        request.session[_reveal_key(incident)] = time.time() + REVEAL_SECONDS
    return HttpResponseRedirect(reverse("incidents:detail", args=[incident.pk]) + "#reporter")


# --- Filing -------------------------------------------------------------------

def _report_regions(user):
    """The territory the user may file in, drawn as the filing map: a grid worker's grids, else scope roots."""
    from governance.access.selectors import grids_of_worker

    grids = list(grids_of_worker(user))
    return grids or list(governance_selectors.top_regions(user, Action.REPORT))


LOCATION_ERRORS = {"outside_city", "not_your_grid"}


def error_field(exc: DomainError, form) -> str | None:
    """The form field a service's refusal belongs next to, or None for the top of the form."""
    if exc.code in LOCATION_ERRORS:
        return "lat"
    if exc.code.startswith("photo_"):
        return "photos"
    return next((name for name in exc.field_errors if name in form.fields), None)


@login_required
@require_http_methods(["GET", "POST"])
def incident_file(request):
    """File an incident. The page script posts to the API; without script this form posts here."""
    if get_scope(request.user).is_empty(Action.REPORT):
        raise PermissionDenied
    form = IncidentFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            filing = services.incident_file(
                reporter=request.user, category=data["category"], title=data["title"], lat=data["lat"],
                lng=data["lng"], description=data["description"], address=data["address"], photos=data["photos"],
                idempotency_key=data["idempotency_key"],
            )
        except DomainError as exc:
            form.add_error(error_field(exc, form), str(exc.message))
        else:
            incident = filing.incident
            if filing.created:
                messages.success(request, _("Incident %(number)s was filed.") % {"number": incident.number})
            else:
                messages.info(request, _("This submission was already received as incident %(number)s; "
                                         "nothing was filed twice.") % {"number": incident.number})
            return redirect("incidents:detail", pk=incident.pk)
    regions = _report_regions(request.user)
    return render_page(request, "incidents/file.html", {
        "form": form,
        "category_tree": category_tree(),
        "map": map_config(regions),
        "api_url": API_FILE_URL,
        "duplicates_url": API_DUPLICATES_URL,
        "messages_js": filing_messages(),
        # How long the page waits: the limits of the proxy in front (deploy/nginx/portal-proxy.conf).
        "upload_idle_seconds": settings.UPLOAD_IDLE_SECONDS,
        "upload_answer_seconds": settings.UPLOAD_ANSWER_SECONDS,
    })


def filing_messages() -> dict[str, str]:
    """What the filing page's script says, translated here so the script holds no words of its own."""
    return {
        "sending": _("Sending… keep this page open."),
        "sending_progress": _("Sending: %(percent)s%% of %(size)s. Keep this page open."),
        "waiting": _("Sent. Waiting for the answer…"),
        "preparing": _("Preparing the photos: %(done)s of %(total)s…"),
        "network": _("The submission did not get through (no connection, or the network is too slow). "
                     "Nothing you entered is lost: press Retry. It will not be filed twice."),
        "server": _("The server could not take the submission just now (error %(status)s). Press Retry; "
                    "it will not be filed twice."),
        "invalid": _("Please correct the fields marked below."),
        "done": _("Filed as %(number)s. Opening it…"),
        "need_category": _("Choose a category."),
        "need_location": _("Pick the place on the map or use your location."),
        "need_title": _("The title is required."),
        "too_many_photos": _("At most %(n)d photos.") % {"n": services.MAX_PHOTOS},
        "in_region": _("In %(name)s"),
        "outside_regions": _("This point lies outside your grids; you can only file in your own grids."),
        "locating": _("Finding your location…"),
        "geo_unsupported": _("This browser cannot tell your location: tap the map instead."),
        # One message per reason the browser gives (its own error text is English whatever the page's language).
        "geo_denied": _("This page may not know your location: allow it in the browser's settings, or tap the map."),
        "geo_unavailable": _("Your location cannot be found right now (no satellite or network fix): tap the map."),
        "geo_timeout": _("Finding your location took too long: try again, or tap the map."),
        "geo_failed": _("Your location is not available: tap the map instead."),
        "accuracy": _("accurate to about %(m)s m"),
        "distance": _("%(m)s m away"),
    }


# --- Lists and queues ---------------------------------------------------------

ADVANCED_FILTERS = ("category", "level", "region", "reported_after", "reported_before", "q")


def _filter_form_labels(filterset) -> None:
    """Say "all" rather than Django's dashes where a filter is left empty."""
    fields = filterset.form.fields
    labels = {"category": _("All categories"), "level": _("All levels"), "region": _("All my territory")}
    for name, label in labels.items():
        field = fields.get(name)
        if field is None:
            continue
        if hasattr(field, "queryset"):
            field.empty_label = label  # a model choice: its options stay lazy
        elif hasattr(field, "empty_label"):
            # django-filter's choice field puts its own empty option first, through an iterator the
            # form's copy of the widget still holds from the class's field: set the label, then the
            # choices again so that the widget iterates this field
            field.empty_label = label
            field.choices = [(v, lbl) for v, lbl in field.choices if v != ""]
        else:
            field.choices = [("", label), *[(v, lbl) for v, lbl in field.choices if v != ""]]


def _list_page(request, queryset, *, template: str, extra: dict, statuses=None):
    filterset = IncidentFilter(request.GET or None, queryset=queryset, user=request.user)
    _filter_form_labels(filterset)
    if not filterset.is_bound:
        incidents = queryset
    elif filterset.is_valid():
        incidents = filterset.qs
    else:
        incidents = queryset.none()  # a filter that cannot be read shows nothing rather than everything
    return render_page(request, template, {
        "filter": filterset,
        "page": paginate(request, incidents),
        "query": query_without_page(request),
        "statuses": statuses or Status.choices,
        "advanced_filters_used": any(request.GET.get(name) for name in ADVANCED_FILTERS),
        "checked_statuses": request.GET.getlist("status"),
        "filter_errors": filterset.errors if filterset.is_bound else {},
        **extra,
    })


@login_required
@require_GET
def incident_list(request):
    """Incidents the user may see; for a grid worker, those of their grids."""
    roles = governance_selectors.roles_of(request.user)
    title = _("Incidents in my grids") if roles == [Role.GRID_WORKER] else _("Incidents")
    return _list_page(request, selectors.incident_list(request.user), template="incidents/list.html", extra={
        "title": title,
        "may_file": not get_scope(request.user).is_empty(Action.REPORT),
        "export": export_controls(request, "incidents"),  # incidents/exports.py
    })


@login_required
@require_GET
def triage_queue(request):
    """The command centre's queue: open incidents it holds now."""
    if get_scope(request.user).is_empty(Action.TRIAGE):
        raise PermissionDenied
    return _list_page(request, selectors.triage_queue(request.user), template="incidents/queue.html", extra={
        "units": unit_choices(request.user),
        "next": request.get_full_path(),
        "export": export_controls(request, "triage_queue"),  # incidents/exports.py
    }, statuses=OPEN_CHOICES)


@login_required
@require_GET
def unit_queue(request):
    """Incidents dispatched to the user's units."""
    if get_scope(request.user).is_empty(Action.HANDLE):
        raise PermissionDenied
    return _list_page(request, selectors.unit_queue(request.user), template="incidents/unit_queue.html", extra={
        "units": governance_selectors.units_of(request.user, Action.HANDLE),
        "next": request.get_full_path(),
    }, statuses=[(value, label) for value, label in Status.choices if value in selectors.UNIT_QUEUE_STATUSES])


# --- Detail and actions -------------------------------------------------------

def _detail_context(request, incident: Incident, *, bound: ActionForm | None = None) -> dict:
    decorate([incident])
    actions = offered_actions(request.user, incident)
    units = None
    forms = []
    for action in actions:
        if bound is not None and bound.action.name == action.name:
            forms.append(bound)
            continue
        form_class = action.form
        kwargs = {"incident": incident, "action": action, "user": request.user}
        if issubclass(form_class, DispatchForm):
            units = units if units is not None else unit_choices(request.user)
            kwargs["units"] = units
        forms.append(form_class(**kwargs))
    events = incident.timeline
    for event in events:
        event.label = TRANSITIONS[event.action].label if event.action in TRANSITIONS else EVENT_LABELS.get(
            event.action, event.action)
        event.deadline = DeadlineChange.from_data(event.data)  # the deadline's history, event by event
    tasks = incident.active_tasks
    return {
        "incident": incident,
        "action_forms": forms,
        "danger_actions": {a.name for a in ACTIONS.values() if a.danger},
        "events": events,
        "tasks": tasks,
        "first_photos": [a for a in incident.photos if events and a.event_id == events[0].pk],
        "map": map_config([incident.grid], point=(incident.lat, incident.lng)),
        "reporter_contact": reporter_contact(request, incident),
        # what apps above incidents offer (a dispute's transfer to mediation), and what it became
        "handovers": [(h.label, h.url(incident)) for h in handovers.offered_handovers(request.user, incident)],
        "handover_links": handovers.links(request.user, incident),
    }


@login_required
@require_GET
def incident_detail(request, pk: int):
    incident = selectors.incident_detail(request.user, pk)
    return render_page(request, "incidents/detail.html", _detail_context(request, incident))


@login_required
@require_POST
def incident_act(request, pk: int, transition: str):
    """Take one action on an incident: the form of that action, then its service."""
    incident = access_object(Incident.objects.select_related("category", "grid"), request.user, pk=pk)
    action = ACTIONS.get(transition)
    if action is None:
        raise Http404
    if not may(incident, request.user, action.action):
        raise PermissionDenied
    form = action.form(request.POST, request.FILES, incident=incident, action=action, user=request.user)
    back = safe_next(request, request.POST.get(f"{action_prefix(action.name)}-next"))
    detail_url = reverse("incidents:detail", args=[incident.pk])
    if not form.is_valid():
        if back and back != detail_url:
            # A quick action from a queue: say what was missing, then go back there.
            problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
            messages.error(request, _("%(action)s on %(number)s was not done: %(problems)s")
                           % {"action": action.label, "number": incident.number, "problems": problems})
            return HttpResponseRedirect(back)
        incident = selectors.incident_detail(request.user, pk)
        return render_page(request, "incidents/detail.html", _detail_context(request, incident, bound=form), status=400)
    try:
        action.service(incident=incident, actor=request.user,
                             expected_version=form.cleaned_data["expected_version"], **form.service_kwargs())
    except ConflictError:
        current = Incident.objects.get(pk=incident.pk)
        messages.warning(request, _(
            "Someone else changed incident %(number)s meanwhile (it is now %(status)s). Your action was not "
            "saved and nothing was overwritten; check its current state below.")
            % {"number": current.number, "status": current.get_status_display()})
        return HttpResponseRedirect(detail_url)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except NotFoundError:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(back or detail_url)
    messages.success(request, _("%(action)s: incident %(number)s.") % {"action": action.label,
                                                                        "number": incident.number})
    if back:
        return HttpResponseRedirect(back)
    if not Incident.objects.restrict(request.user).filter(pk=incident.pk).exists():
        # the action took the incident out of this user's sight: no detail page to go back to
        return redirect("home")
    return HttpResponseRedirect(detail_url)


# --- Photos -------------------------------------------------------------------

@login_required
@require_GET
def attachment(request, pk: int, thumbnail: bool = False):
    """A photo, or its thumbnail, only to those who may see its incident. There is no public URL for uploads.

    A photo stored before thumbnails existed and not yet given one (``make_photo_thumbnails``) answers its
    thumbnail URL with the photo itself: heavier, never broken."""
    photo = selectors.attachment_for(request.user, pk)
    small = thumbnail and bool(photo.thumbnail)
    try:
        handle = (photo.thumbnail if small else photo.file).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = f"{photo.incident.number}-{photo.pk}" + ("-thumb.jpg" if small else f".{photo.extension}")
    response = FileResponse(handle, content_type="image/jpeg" if small else photo.content_type, as_attachment=False,
                            filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
