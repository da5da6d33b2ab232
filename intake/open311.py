"""Open311 GeoReport v2 under ``/open311/v2/`` (http://wiki.open311.org/GeoReport_v2).

Plain Django views, not DRF: the spec fixes its own answers (bare lists, XML, its error list),
none of which is the portal's API shape. Every answer comes in the format the path ends with
(``.json`` or ``.xml``); errors are the spec's ``[{"code": 404, "description": "…"}]`` /
``<errors><error>…`` with the HTTP status equal to the code.

Who may do what: discovery, services and service definitions are public (they are the
categories); ``POST requests`` and reading requests need an API key (``api_key`` in the query
or form, or as the password of HTTP Basic auth), whose territory bounds what it files and reads;
``tokens/{token}`` answers only for requests filed by Open311. The spec leaves reading requests
open; this portal's rule that nothing is shown outside a caller's territory wins (docs/decisions.md).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from governance.core.errors import DomainError
from governance.core.scoping import Action
from grids.models import Region
from incidents.models import Category, Incident, Severity, waiting_deadline
from intake import ratelimit, selectors, services
from intake.models import Submission
from intake.principals import ApiKeyPrincipal

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00Z"
MAX_RESULTS = 1000  # the most requests one GET returns (the spec's usual limit)
MAX_SPAN = timedelta(days=90)  # the spec's: a date range may not span more than 90 days
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The tag of each item of a list, by the list's tag (XML).
ITEM_TAGS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
             "endpoints": "endpoint", "formats": "format", "errors": "error"}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        self.status, self.description = status, description
        super().__init__(description)


# --- Rendering ---------------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _xml_fill(ET.SubElement(element, tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _xml_fill(element, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")


def answer(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    response["Cache-Control"] = "no-store"
    return response


def error_answer(fmt: str, status: int, description: str) -> HttpResponse:
    return answer(fmt if fmt in CONTENT_TYPES else "json", "errors", [{"code": status, "description": description}],
                  status=status)


def w3c(value: datetime | None) -> str | None:
    """A W3C datetime with the portal's offset, as the spec's examples write it: 2010-04-14T06:37:38+08:00."""
    if value is None:
        return None
    return timezone.localtime(value, timezone.get_default_timezone()).replace(microsecond=0).isoformat()


def endpoint(view):
    """Format check, the spec's errors for everything that goes wrong, no 500 for bad input."""

    def wrapped(request, *args, fmt: str, **kwargs):
        if fmt not in CONTENT_TYPES:
            return error_answer("json", 404, _("Unknown format: use .json or .xml."))
        try:
            return view(request, fmt, *args, **kwargs)
        except Open311Error as exc:
            return error_answer(fmt, exc.status, exc.description)
        except DomainError as exc:
            details = "; ".join(f"{field}: {' '.join(str(m) for m in messages)}"
                                for field, messages in exc.field_errors.items())
            return error_answer(fmt, exc.status_code, f"{exc.message} {details}".strip())

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


# --- Reading the request ----------------------------------------------------------------------------

def _param(request, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def _api_key_given(request) -> str:
    key = _param(request, "api_key") or request.GET.get("api_key", "").strip()
    if key:
        return key
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2].strip()
    return ""


def _principal(request, what: str) -> ApiKeyPrincipal:
    key = _api_key_given(request)
    if not key:
        raise Open311Error(403, _("An api_key is required to %(what)s.") % {"what": what})
    api_key = services.api_key_from_key(key)
    if api_key is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed with %(what)s.") % {"what": what})
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=5):  # a write every 5 min
        type(api_key).objects.filter(pk=api_key.pk).update(last_used_at=now)
    return ApiKeyPrincipal(api_key)


def _jurisdiction(request) -> Region | None:
    code = _param(request, "jurisdiction_id")
    if not code:
        return None
    region = Region.objects.defer("boundary").filter(code=code).first()
    if region is None:
        raise Open311Error(404, _("jurisdiction_id not found: %(code)s") % {"code": code[:40]})
    return region


def _services():
    return (Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
            .select_related("parent").order_by("parent__sort_order", "sort_order", "code"))


def _service(code: str) -> Category:
    category = _services().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code not found: %(code)s") % {"code": code[:40]})
    return category


def _float(request, name: str) -> float | None:
    raw = _param(request, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, _("%(name)s is not a number.") % {"name": name}) from None
    if not math.isfinite(value):
        raise Open311Error(400, _("%(name)s is not a number.") % {"name": name})
    return value


def _date(request, name: str) -> datetime | None:
    raw = _param(request, name)
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # a "+" of an offset arrives as a space when unescaped
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s is not a W3C datetime (e.g. 2010-01-01T00:00:00Z).") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


# --- Views --------------------------------------------------------------------------------------------

@endpoint
def discovery(request, fmt: str):
    base = request.build_absolute_uri(reverse("open311:root"))
    return answer(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": _("%(city)s social-governance command centre, hotline %(phone)s") % {
            "city": settings.CITY_NAME, "phone": settings.INTAKE_SIGN_HOTLINE},
        "key_service": _("API keys are issued by the command centre's administrators."),
        "endpoints": [{"specification": SPEC_URL, "url": base.rstrip("/"), "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    })


def service_entry(category: Category) -> dict:
    return {"service_code": category.code, "service_name": category.name,
            "description": _("%(major)s: %(minor)s") % {"major": category.parent.name, "minor": category.name},
            "metadata": True, "type": "realtime", "keywords": category.parent.name, "group": category.parent.name}


@endpoint
def service_list(request, fmt: str):
    _jurisdiction(request)
    return answer(fmt, "services", [service_entry(c) for c in _services()])


def service_attributes(category: Category) -> list[dict]:
    """The attributes every service takes: a short title, and the severity (the category's by default)."""
    return [
        {"variable": True, "code": "title", "datatype": "string", "required": False, "datatype_description":
            _("At most 200 characters; the description's first line when not given."),
         "order": 1, "description": _("A short title"), "values": []},
        {"variable": True, "code": "severity", "datatype": "singlevaluelist", "required": False,
         "datatype_description": _("Default: %(default)s") % {"default": Severity(category.default_severity).label},
         "order": 2, "description": _("How serious is it?"),
         "values": [{"key": value, "name": str(label)} for value, label in Severity.choices]},
    ]


@endpoint
def service_definition(request, fmt: str, service_code: str):
    _jurisdiction(request)
    category = _service(service_code)
    return answer(fmt, "service_definition", {"service_code": category.code,
                                              "attributes": service_attributes(category)})


@endpoint
def requests_collection(request, fmt: str):
    if request.method == "POST":
        return _create(request, fmt)
    if request.method != "GET":
        raise Open311Error(405, _("Use GET or POST."))
    return _list(request, fmt)


def _create(request, fmt: str):
    principal = _principal(request, "create_request")
    jurisdiction = _jurisdiction(request)
    territory = principal.key.territory.path
    if jurisdiction is not None and not (jurisdiction.path.startswith(territory)
                                         or territory.startswith(jurisdiction.path)):
        # A jurisdiction that shares no ground with the key's territory is not one this key files into; it is
        # answered as an unknown one (the spec's 404 for jurisdiction_id), so a key learns nothing outside it.
        raise Open311Error(404, _("jurisdiction_id not found: %(code)s") % {"code": jurisdiction.code[:40]})
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    category = _service(code)
    lat, lng = _float(request, "lat"), _float(request, "long")
    address = _param(request, "address_string")
    if (lat is None or lng is None) and not address:
        raise Open311Error(400, _("A location is required: lat and long, or address_string."))
    attributes = {key[len("attribute["):-1]: request.POST.getlist(key)[-1] for key in request.POST
                  if key.startswith("attribute[") and key.endswith("]")}
    known = {a["code"]: a for a in service_attributes(category)}
    unknown = sorted(set(attributes) - set(known))
    if unknown:
        raise Open311Error(400, _("Unknown attribute: %(codes)s") % {"codes": ", ".join(unknown)[:100]})
    severity = attributes.get("severity") or None
    if severity is not None and severity not in Severity.values:
        raise Open311Error(400, _("attribute[severity] must be one of: %(values)s") % {
            "values": ", ".join(Severity.values)})
    description = _param(request, "description")
    if len(description) > 4000:
        raise Open311Error(400, _("description is longer than 4000 characters."))
    extra = {name: _param(request, name)[:200] for name in ("email", "device_id", "account_id", "address_id",
                                                            "media_url") if _param(request, name)}
    name = " ".join(part for part in (_param(request, "first_name"), _param(request, "last_name")) if part)[:50]
    ratelimit.check((f"key:{principal.key.pk}", settings.INTAKE_RATE_PER_KEY))
    submission = services.open311_file(
        api_key=principal.key, category=category, description=description, lat=lat, lng=lng, address=address,
        attributes={**attributes, **extra}, name=name, phone=_param(request, "phone")[:20],
        title=attributes.get("title", ""), severity=severity, media=request.FILES.getlist("media"),
        jurisdiction=jurisdiction)
    return answer(fmt, "service_requests", [{
        "service_request_id": submission.incident.number, "token": submission.tracking_code,
        "service_notice": _("Received by the %(city)s command centre.") % {"city": settings.CITY_NAME},
        "account_id": extra.get("account_id")}])


def request_entry(incident: Incident, reply: str = "") -> dict:
    return {
        "service_request_id": incident.number,
        "status": "closed" if incident.status in selectors.OPEN311_CLOSED else "open",
        "status_notes": reply or str(selectors.PUBLIC_STATUS.get(incident.status, "")),
        "service_name": incident.category.name,
        "service_code": incident.category.code,
        "description": incident.description,
        "agency_responsible": incident.lead_unit.name if incident.lead_unit_id else incident.responsible_region.name,
        "service_notice": "",
        "requested_datetime": w3c(incident.reported_at),
        "updated_datetime": w3c(incident.updated_at),
        "expected_datetime": w3c(waiting_deadline(incident.status, incident.accept_due_at, incident.handle_due_at)),
        "address": incident.address,
        "address_id": "",
        "zipcode": "",
        "lat": incident.lat,
        "long": incident.lng,
        "media_url": "",
    }


def _readable(principal: ApiKeyPrincipal):
    return (Incident.objects.restrict(principal, Action.VIEW)
            .select_related("category", "lead_unit", "responsible_region")
            .defer("responsible_region__boundary"))


def _entries(incidents) -> list[dict]:
    incidents = list(incidents)
    replies = selectors.final_replies(incidents)  # one query for all, not one per request
    return [request_entry(incident, replies.get(incident.pk, ("", None))[0]) for incident in incidents]


def _list(request, fmt: str):
    principal = _principal(request, "read requests")
    region = _jurisdiction(request)
    incidents = _readable(principal)
    if region is not None:
        incidents = incidents.filter(grid__path__startswith=region.path)
    ids = [i.strip() for i in _param(request, "service_request_id").split(",") if i.strip()]
    if ids:  # the spec: service_request_id overrides every other parameter
        return answer(fmt, "service_requests", _entries(incidents.filter(number__in=ids[:MAX_RESULTS])))
    codes = [c.strip() for c in _param(request, "service_code").split(",") if c.strip()]
    if codes:
        incidents = incidents.filter(category__code__in=codes)
    statuses = {s.strip().lower() for s in _param(request, "status").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open, closed, or both (comma-separated)."))
    if statuses == {"open"}:
        incidents = incidents.exclude(status__in=selectors.OPEN311_CLOSED)
    elif statuses == {"closed"}:
        incidents = incidents.filter(status__in=selectors.OPEN311_CLOSED)
    start, end = _date(request, "start_date"), _date(request, "end_date")
    if start and end and end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if start and end and end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    end = end or (start + MAX_SPAN if start else timezone.now())
    start = start or end - MAX_SPAN
    incidents = incidents.filter(Q(reported_at__gte=start) & Q(reported_at__lte=end))
    limit = MAX_RESULTS
    if _param(request, "limit"):
        try:
            limit = int(_param(request, "limit"))
        except ValueError:
            raise Open311Error(400, _("limit is not a whole number.")) from None
        if not 1 <= limit <= MAX_RESULTS:
            raise Open311Error(400, _("limit must be between 1 and %(max)d.") % {"max": MAX_RESULTS})
    return answer(fmt, "service_requests", _entries(incidents.order_by("-reported_at", "-pk")[:limit]))


@endpoint
def request_detail(request, fmt: str, service_request_id: str):
    principal = _principal(request, "read requests")
    _jurisdiction(request)
    incident = _readable(principal).filter(number=service_request_id).first()
    if incident is None:  # hidden is missing
        raise Open311Error(404, _("service_request_id not found: %(id)s") % {"id": service_request_id[:40]})
    return answer(fmt, "service_requests", _entries([incident]))


@endpoint
def token_lookup(request, fmt: str, token: str):
    _jurisdiction(request)
    submission = (Submission.objects.filter(tracking_code=token.upper()[:16], channel=Submission.Channel.OPEN311)
                  .select_related("incident").only("tracking_code", "incident__number").first())
    if submission is None:
        raise Open311Error(404, _("token not found: %(token)s") % {"token": token[:40]})
    return answer(fmt, "service_requests", [{"service_request_id": submission.incident.number,
                                             "token": submission.tracking_code}])


@endpoint
def not_found(request, fmt: str, rest: str = ""):
    raise Open311Error(404, _("No such Open311 resource."))
