"""The published OpenAPI schema says what the server does (governance.core.openapi); schemathesis tries it for real
in tests/test_api_schema.py, these pin what it must say."""

from __future__ import annotations

import inspect
import re

import pytest
from django.test import Client

import dashboards.map.api
import governance.core.api
import grids.api
import incidents.api
import incidents.serializers
from governance.core.testing import api_client as token_client
from governance.core.text import MEANINGFUL_TEXT_PATTERN, NON_BLANK_PATTERN, clean_text
from incidents.actions import ACTIONS
from incidents.workflow import TRANSITIONS

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_every_operation_that_needs_a_login_documents_401_with_its_header(schema):
    for label, operation in operations(schema):
        if label == "POST /api/v1/auth/token/":
            assert "401" not in operation["responses"]
            continue
        assert operation["security"] and {} not in operation["security"], label
        unauthorized = operation["responses"].get("401")
        assert unauthorized, label
        assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True


def test_every_error_is_the_one_error_shape_with_a_description(schema):
    for label, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status >= "400":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
                assert response["description"], (label, status)
        assert "406" in operation["responses"], label


def test_errors_follow_from_what_an_operation_reads(schema):
    for label, operation in operations(schema):
        responses = operation["responses"]
        parameters = operation.get("parameters", [])
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), label
        if any(p["in"] == "query" for p in parameters):
            assert "400" in responses, label
        if any(p["in"] == "path" for p in parameters):
            assert "404" in responses, label
    actions = [op for label, op in operations(schema)
               if re.match(r"POST /api/v1/incidents/\{id\}/", label) and not label.endswith("/reveal-contact/")]
    assert len(actions) == len(ACTIONS)
    assert all({"403", "409"} <= set(op["responses"]) for op in actions)
    filing = schema["paths"]["/api/v1/incidents/"]["post"]["responses"]
    assert {"403", "422"} <= set(filing) and "outside_city" in filing["400"]["description"]
    assert "429" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert "404" in schema["paths"]["/api/v1/locate/"]["get"]["responses"]


def _docstrings() -> set[str]:
    found = set()
    for module in (incidents.api, incidents.serializers, grids.api, dashboards.map.api, governance.core.api):
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            doc = inspect.getdoc(obj)
            if doc and obj.__module__ == module.__name__:
                found.add(doc.splitlines()[0].strip())
    for view in incidents.api.ACTION_VIEWS.values():
        found.add(inspect.getdoc(view).splitlines()[0].strip())
    return found


def _descriptions(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _descriptions(item)


def test_no_description_is_a_docstring_of_the_code(schema):
    docstrings = _docstrings()
    assert "The one error shape of the API (governance.core.api)." in docstrings  # the probe sees the docstrings
    leaked = [d for d in _descriptions(schema) if any(doc in d for doc in docstrings)]
    assert leaked == []


def test_a_reason_is_required_exactly_where_the_transition_table_requires_one(schema):
    for endpoint in ACTIONS.values():
        operation = schema["paths"][f"/api/v1/incidents/{{id}}/{endpoint.path}/"]["post"]
        body = resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
        required = "note" in body.get("required", [])
        # a report back is its note (incident_report_back requires it), not a reason
        assert required == (endpoint.needs_note or endpoint.path == "report-back"), \
            endpoint.path
        if required:
            assert body["properties"]["note"]["pattern"] == MEANINGFUL_TEXT_PATTERN
    # verify_fail needs a reason and verify_pass none: the one rule the schema cannot say, said in words
    assert TRANSITIONS["verify_fail"].needs_note
    assert "`note`" in schema["paths"]["/api/v1/incidents/{id}/verify/"]["post"]["description"]
    assert "after today" in schema["paths"]["/api/v1/incidents/{id}/park/"]["post"]["description"]


def test_filing_constraints_are_published(schema):
    operation = schema["paths"]["/api/v1/incidents/"]["post"]
    content = operation["requestBody"]["content"]
    json_body = resolve(schema, content["application/json"]["schema"])
    multipart = resolve(schema, content["multipart/form-data"]["schema"])
    assert "photos" not in json_body["properties"] and "photos" in multipart["properties"]
    assert content["multipart/form-data"]["encoding"]["photos"]["contentType"] == "image/jpeg, image/png, image/webp"
    title = json_body["properties"]["title"]
    assert (title["minLength"], title["maxLength"], title["pattern"]) == (1, 200, MEANINGFUL_TEXT_PATTERN)
    key = json_body["properties"]["idempotency_key"]
    assert (key["minLength"], key["maxLength"], key["pattern"]) == (1, 64, NON_BLANK_PATTERN)
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 64)


@pytest.mark.parametrize("text", ["a", " 路面 ", "\u202e", "\u202eabc", "\x01", " \t\n", "\u3000", "x\x00y", "\ufeff",
                                  "\u2066\u2069", "\u200b", "\x85a", "\u00a0"])
def test_the_meaningful_text_pattern_is_the_rule_of_clean_text(text):
    keeps_a_character = bool(clean_text(text.strip())) and "\x00" not in text
    assert bool(re.search(MEANINGFUL_TEXT_PATTERN, text)) == keeps_a_character


def test_integers_are_integers_in_the_map_filters(schema):
    for path in ["/api/v1/map/incidents/", "/api/v1/map/stats/"]:
        parameters = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["level"] == {"type": "integer", "enum": [1, 2, 3, 4]}
        for name in ("category", "region", "unit"):
            assert parameters[name]["type"] == "integer" and parameters[name]["minimum"] == 1
        assert parameters["status"]["type"] == "array"


def test_the_maps_answers_are_typed(schema):
    def body(path: str, method: str = "get") -> dict:
        return resolve(schema, schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]
                       ["schema"])

    regions = body("/api/v1/map/regions/")
    assert regions["properties"]["type"] and "features" in regions["required"]
    feature = resolve(schema, regions["properties"]["features"]["items"])
    properties = resolve(schema, feature["properties"]["properties"])
    assert {"id", "code", "name", "level", "total", "open", "overdue", "closed", "on_time_rate", "value"} <= set(
        properties["required"])
    assert resolve(schema, feature["properties"]["geometry"])["oneOf"]
    stats = body("/api/v1/map/stats/")
    assert {"new_today", "open", "overdue", "trend", "by_category", "by_region", "as_of"} <= set(stats["required"])
    assert stats["properties"]["open"]["type"] == "integer"
    alerts = body("/api/v1/map/alerts/")
    alert = resolve(schema, alerts["properties"]["alerts"]["items"])
    assert alert["properties"]["subject_id"]["type"] == "integer"
    assert body("/api/v1/map/alerts/{id}/acknowledge/", "post")["properties"]["acknowledged_at"]["format"] == \
        "date-time"


def test_a_box_is_four_plain_decimals(people):
    client = token_client(people.d1_command)
    assert client.get("/api/v1/map/incidents/", {"bbox": "116.0,23.0,116.1,23.1"}).status_code == 200
    for bbox in ["1e2,23,116.1,23.1", "nan,23,116.1,23.1", "116,23,inf,23.1", " 116,23,116.1,23.1"]:
        response = client.get("/api/v1/map/incidents/", {"bbox": bbox})
        assert response.status_code == 400 and "bbox" in response.json()["error"]["fields"], bbox


def test_an_empty_page_parameter_is_not_given_like_every_other_parameter(people):
    client = token_client(people.d1_command)
    for query in ["page=", "page_size=", "page=&page_size=", "open="]:
        assert client.get(f"/api/v1/incidents/?{query}").status_code == 200, query
    assert client.get("/api/v1/incidents/?page=0").status_code == 400


def test_a_merge_refused_names_the_field_at_fault(people, file_incident):
    incident = file_incident()
    client = token_client(people.d1_command)
    response = client.post(f"/api/v1/incidents/{incident.pk}/merge/", {"into": incident.pk},
                           content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["into"]
