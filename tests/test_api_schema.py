"""The published OpenAPI schema says what the server does, and schemathesis proves it.

Schemathesis reads ``/api/v1/schema/`` as the server serves it, makes requests from it (the
schema's examples, the coverage of each constraint and its boundaries, fuzzing) with valid and
invalid data, and sends them in-process through the WSGI application, as a grid worker and as a
district's command-centre staff (token authentication) over the small test city with incidents in
every state and alerts. Every answer goes through every check schemathesis offers: not a server
error, documented status code, content type and headers, the response schema, invalid data
refused, valid data accepted, required headers, undeclared methods (405 with ``Allow``), ignored
authentication, use after free, resource availability, object-level authorization. Only
``max_response_time`` stays off: the suite never asserts timings (bench/ measures them).

The seed is fixed and generation deterministic, the examples per operation bounded, and the
coverage phase (most of the requests) runs for one persona: the same requests every run, inside
the suite's time budget.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import date, timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import strategies as st
from PIL import Image
from rest_framework.authtoken.models import Token
from schemathesis.transport.wsgi import WSGI_TRANSPORT
from schemathesis.transport.wsgi import multipart_serializer as wsgi_multipart_serializer
from werkzeug.datastructures import FileStorage

from governance.alerts.models import Alert
from incidents.models import Category, Incident
from tests.dashboards.conftest import world  # noqa: F401  (fixture)
from tests.factories import LAT0, LNG0, SIZE
from tests.incidents.conftest import categories, fire_exit, noise, road  # noqa: F401  (fixtures)

SEED = 20261202
MAX_EXAMPLES = 5  # per operation and generation mode, in the fuzzing phase

# Schema-valid input that the server refuses for a reason the schema cannot say, because it depends on the
# data (does this category exist? does the point lie in the city? is this unit one you may dispatch to?).
# Only these operations may answer valid data with 400, and only naming one of these reasons (an error code
# or the input field at fault): ``domain_refusals_name_their_reason`` holds them to it.
DOMAIN_REFUSALS: dict[str, set[str]] = {
    # credentials that do not exist (schemathesis allows this itself for an operation it knows grants tokens)
    "auth_token_obtain": {"non_field_errors"},
    # an id that is no category, or no region of your territory
    "incidents_list": {"category", "region"},
    "map_regions": {"category", "region", "bbox"},  # and a box whose min is not below its max
    "map_incidents": {"category", "region", "bbox"},
    "map_stats": {"category", "region"},
    # no such (active, minor) category; a point outside the city
    "incidents_file": {"category", "outside_city"},
    "incidents_duplicates": {"category"},
    "locate": {"outside_city"},
    # units you may not dispatch to, an incident you may not see or that is not open
    "incidents_dispatch": {"unit", "assisting_units"},
    "incidents_reassign": {"unit", "assisting_units"},
    "incidents_merge": {"into"},
    "incidents_report_back": {"unit"},
    "incidents_park": {"review_on"},  # a day that is not after today
    "incidents_verify": {"note"},  # required when the verification fails
    # mediation: ids out of your territory or inactive; the services' rules of dates, parties and state
    "mediation_cases_list": {"region", "dispute_type"},
    "mediation_figures": {"region", "dispute_type"},
    "mediation_cases_register": {"region", "organisation", "dispute_type", "source", "court_name", "court_case_number",
                                 "court_referral_date", "risk_reason", "id_number", "phone", "parties", "title"},
    "mediation_transfer_incident": {"dispute_type", "organisation"},
    "mediation_cases_accept": {"mediators"},
    "mediation_cases_record_session": {"held_at", "place"},
    "mediation_cases_record_agreement": {"signed_on", "obligations", "file", "terms"},
    "mediation_cases_record_follow_up": {"visited_on", "notes"},
    "mediation_cases_obligation_done": {"obligation"},
    "mediation_cases_set_risk": {"level"},
    "mediation_cases_add_party": {"id_number", "phone", "name"},
}


def _operation_id(case) -> str:
    return case.operation.definition.raw.get("operationId", case.operation.label)


@schemathesis.check
def domain_refusals_name_their_reason(ctx, response, case):
    """Valid data refused with 400 only where DOMAIN_REFUSALS allows it, and only for the reasons it names."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    if not _numbers_are_numbers(case):
        return None
    error = response.json()["error"]
    reasons = ({error["code"]} | set(error["fields"])) - {"invalid"}
    allowed = DOMAIN_REFUSALS.get(_operation_id(case), set())
    assert reasons and reasons <= allowed, (
        f"valid data refused for {sorted(reasons)}; the schema should say so (allowed here: {sorted(allowed)})")
    return None


def _numbers_are_numbers(case) -> bool:
    """Whether each body field the schema types as a number holds one.

    schemathesis 4.32 sometimes labels a multipart body "valid" while sending a number field
    empty (``lat=""``), when the body also has encoded parts (the photos): that is not valid data,
    and it is no refusal of valid data to refuse it.
    """
    body = case.operation.get_body_for_media_type(case.media_type) if case.media_type else None
    properties = ((body.resolved_schema if body is not None else None) or {}).get("properties", {})
    if not isinstance(case.body, dict):
        return True
    for name, value in case.body.items():
        kind = properties.get(name, {}).get("type")
        if kind in ("number", "integer") and (isinstance(value, bool) or not isinstance(value, int | float)):
            return False
    return True


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (20, 120, 200)).save(out, fmt)
    return out.getvalue()


# Photos are real images (the schema names the content types a photo part may take).
schemathesis.openapi.media_type("image/jpeg", st.just(_image("JPEG")))
schemathesis.openapi.media_type("image/png", st.just(_image("PNG")))
schemathesis.openapi.media_type("image/webp", st.just(_image("WEBP")))


@WSGI_TRANSPORT.serializer("multipart/form-data")
def multipart_as_clients_send_it(ctx, value):
    """Schemathesis's own multipart encoding, with numbers written out and a filename on every file part.

    In-process, schemathesis 4.32 encodes a float field as an empty part, and hands werkzeug file
    parts without a filename, which Django reads as plain fields (as the RFC says). Every real
    client (a browser, curl -F) writes ``lat=23.005`` and names its files: so are they sent here.
    """
    if isinstance(value, dict):
        value = {name: _number_text(item) for name, item in value.items()}
    prepared = wsgi_multipart_serializer(ctx, value)
    data = prepared.get("data")
    for parts in data.values() if isinstance(data, dict) else ():
        for part in parts:
            if isinstance(part, FileStorage) and not part.filename:
                part.filename = f"{part.name}.bin"
    return prepared


def _number_text(item):
    if isinstance(item, float):
        return json.dumps(item)
    if isinstance(item, list):
        return [_number_text(each) for each in item]
    return item


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, inside the test's transaction.

    Django's test client keeps the connection open across requests; a bare WSGI call would
    close it at the end of every request (``close_old_connections``) and with it the test's
    transaction on PostgreSQL. The same is done here, for this test only.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    quiet = logging.getLogger("django.request")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # thousands of expected 4xx; a 500 is still logged (and fails the check)
    try:
        yield get_wsgi_application()
    finally:
        quiet.setLevel(level)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _dictionaries(city) -> dict:
    """Values of the test world that generation draws from, besides random ones, so that requests reach
    real incidents, categories, units, regions and places in the city."""
    step = SIZE / 8
    return {
        "incidents": {"values": sorted(Incident.objects.values_list("pk", flat=True))},
        "alerts": {"values": sorted(Alert.objects.values_list("pk", flat=True))},
        "regions": {"values": [city.d1.pk, city.s11.pk, city.g1111.pk, city.d2.pk]},
        "units": {"values": [city.unit_d1_police.pk, city.unit_city_urban.pk, city.unit_d2_police.pk]},
        "categories": {"values": [c for pk, code in Category.objects.filter(parent__isnull=False)
                                  .values_list("pk", "code")[:6] for c in (pk, code)]},
        "category_ids": {"values": sorted(Category.objects.values_list("pk", flat=True))[:8]},
        # grid G1111 (the grid worker's) and the other grids of the city
        "lat": {"values": [round(LAT0 + k * step, 5) for k in (0.5, 1.5, 3.5, 6.5)]},
        "lng": {"values": [round(LNG0 + k * step, 5) for k in (0.5, 1.5, 2.5, 6.5)]},
        "future_days": {"values": [(date.today() + timedelta(days=d)).isoformat() for d in (2, 30)]},
    }


def _bind(*pairs: tuple[str, str], p: float = 0.6) -> dict:
    return {key: {"dictionary": name, "probability": p} for key, name in pairs}


def _operations() -> list[dict]:
    ids_by_path = [
        (r"^/api/v1/incidents/\{id\}/", "incidents"),
        (r"^/api/v1/regions/\{id\}/$", "regions"),
        (r"^/api/v1/map/alerts/\{id\}/", "alerts"),
    ]
    operations: list[dict] = [
        {"include-path-regex": pattern, "parameters": _bind(("path.id", name), p=0.7)}
        for pattern, name in ids_by_path
    ]
    # Valid data may be refused with 400 where DOMAIN_REFUSALS says why (the custom check holds the reason).
    operations.append({
        "include-operation-id": sorted(DOMAIN_REFUSALS),
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]}},
    })
    return operations


def _config(*, token: str, city, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "phases": {"coverage": {"enabled": coverage}},
        "continue-on-failure": True,  # report every failure of an operation, not the first one
        "dictionaries": _dictionaries(city),
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {token}"}}},
        "parameters": _bind(
            ("query.category", "category_ids"), ("query.region", "regions"), ("query.unit", "units"),
            ("query.lat", "lat"), ("query.lng", "lng"),
            ("body.category", "categories"), ("body.lat", "lat"), ("body.lng", "lng"),
            ("body.unit", "units"), ("body.into", "incidents"), ("body.review_on", "future_days"),
        ),
        "operations": _operations(),
    })


# Who is tried, and whether the coverage phase (every boundary of every input: most of the requests, and
# much the same whoever sends them) runs for them too; examples and fuzzing run for both.
PERSONAS = {"d1_command": True, "worker_g1111": False}


@pytest.fixture(params=sorted(PERSONAS))
def api_schema(request, city, people, world, wsgi_app):  # noqa: F811
    # schemathesis 4.32 renames the test node per operation through `_nodeid`, which pytest 9.2 no longer
    # has (it reads `nodeid`): give it one, or the run stops before the first request.
    request.node._nodeid = request.node.nodeid
    token = Token.objects.create(user=getattr(people, request.param))
    config = _config(token=token.key, city=city, coverage=PERSONAS[request.param])
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_the_api_does_what_its_schema_says(case):
    case.call_and_validate()
