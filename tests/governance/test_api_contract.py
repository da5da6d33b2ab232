"""Every error under /api/ is the one documented JSON shape, whatever the client sends.

    {"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}}
"""

import io
import json

import pytest
from django.test import Client, override_settings
from PIL import Image
from rest_framework.authtoken.models import Token

from governance.core.api import flatten_field_errors
from governance.core.testing import api_client as token_client
from incidents.models import Incident
from tests.factories import point

LIST = "/api/v1/incidents/"


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    for name, messages in error["fields"].items():
        assert isinstance(name, str)
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    if code is not None:
        assert error["code"] == code
    return error


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_deeply_nested_json_is_a_parse_error_not_a_500_even_anonymously(db):
    response = Client().post("/api/v1/auth/token/", deep_json(1000), content_type="application/json")
    assert_error_shape(response, 400, "parse_error")


def test_deeply_nested_json_is_a_parse_error_on_filings_and_actions(people, file_incident):
    incident = file_incident()
    for user, url in [(people.worker_g1111, LIST), (people.d1_command, f"{LIST}{incident.pk}/accept/")]:
        response = token_client(user).post(url, deep_json(1000), content_type="application/json")
        assert_error_shape(response, 400, "parse_error")
    incident.refresh_from_db()
    assert incident.status == "reported" and Incident.objects.count() == 1


def test_json_nested_past_the_limit_is_refused_by_a_logged_in_client_too(people):
    nested = {"title": "x"}
    for _level in range(40):
        nested = {"a": nested}
    response = token_client(people.worker_g1111).post(LIST, json.dumps(nested), content_type="application/json")
    assert_error_shape(response, 400, "parse_error")
    assert not Incident.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_json_body_over_the_size_limit_answers_413_in_the_shape(people):
    body = json.dumps({"title": "x" * 5000})
    response = token_client(people.worker_g1111).post(LIST, body, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_form_over_the_size_limit_answers_413_in_the_shape(people):
    response = token_client(people.worker_g1111).post(LIST, {"title": "x" * 5000, "description": "y" * 5000})
    assert_error_shape(response, 413, "request_too_large")


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=5)
def test_too_many_fields_answer_400_in_the_shape(people):
    data = {f"f{i}": "v" for i in range(20)}
    response = token_client(people.worker_g1111).post(LIST, data)
    assert_error_shape(response, 400, "too_many_fields")


@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=2)
def test_too_many_files_answer_400_in_the_shape(people):
    files = {f"photos{i}": io.BytesIO(b"x") for i in range(5)}
    for i, handle in enumerate(files.values()):
        handle.name = f"p{i}.jpg"
    response = token_client(people.worker_g1111).post(LIST, files)
    assert_error_shape(response, 400, "too_many_files")


@pytest.mark.parametrize("url", ["/api/v1/incidents/abc/", "/api/v1/nothing-here/", "/api/v2/incidents/"])
def test_unmatched_api_urls_answer_404_in_the_shape(people, url):
    assert_error_shape(token_client(people.worker_g1111).get(url), 404, "not_found")


def test_unmatched_page_urls_still_answer_the_portal_page(people):
    client = Client()
    client.force_login(people.worker_g1111)
    response = client.get("/incidents/abc/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_server_error_under_api_is_json(people, monkeypatch):
    from incidents import api

    def boom(self, request):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api.CategoryTreeView, "get", boom)
    client = token_client(people.worker_g1111)
    client.raise_request_exception = False
    error = assert_error_shape(client.get("/api/v1/categories/"), 500, "server_error")
    assert "simulated" not in error["message"]


def test_errors_of_list_items_keep_fields_a_map_of_lists():
    nested = {"photos": {0: ["Not an image."], 2: ["Too large."]}, "unit": ["Unknown."],
              "assisting_units": [[], ["Does not exist."]]}
    assert flatten_field_errors(nested) == {"photos.0": ["Not an image."], "photos.2": ["Too large."],
                                            "unit": ["Unknown."], "assisting_units.1": ["Does not exist."]}


def test_a_locked_out_account_is_told_so_with_the_right_password(people, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _attempt in range(2):
        Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "wrong"})
    response = Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "pw-worker_g1111"})
    error = assert_error_shape(response, 429, "locked_out")
    assert "登录失败次数过多" in error["message"]  # the login page's words
    assert not Token.objects.exists()


def test_wrong_credentials_before_any_lockout_are_a_400_in_the_shape(people):
    response = Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "wrong"})
    assert_error_shape(response, 400, "invalid")


# --- Idempotency keys --------------------------------------------------------------------------------

def filing(category, **extra) -> dict:
    lat, lng = point(1, 2)
    return {"category": category.pk, "title": "路面塌陷", "lat": lat, "lng": lng, **extra}


def jpeg(color=(200, 30, 30)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, "JPEG")
    out.seek(0)
    out.name = "p.jpg"
    return out


def test_the_same_key_with_another_report_answers_422_and_files_nothing_new(people, road):
    client = token_client(people.worker_g1111)
    first = client.post(LIST, json.dumps(filing(road)), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    retry = client.post(LIST, json.dumps(filing(road)), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    other = client.post(LIST, json.dumps(filing(road, title="另一件事")), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="k-1")
    error = assert_error_shape(other, 422, "idempotency_key_reused")
    assert first.json()["number"] in error["message"]
    assert Incident.objects.count() == 1 and Incident.objects.get().title == "路面塌陷"


def test_a_retry_with_another_photo_is_a_different_report(people, road):
    client = token_client(people.worker_g1111)
    first = client.post(LIST, {**filing(road), "photos": jpeg()}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == 201
    same = client.post(LIST, {**filing(road), "photos": jpeg()}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert same.status_code == 200
    other = client.post(LIST, {**filing(road), "photos": jpeg((0, 0, 255))}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert_error_shape(other, 422, "idempotency_key_reused")


# --- Query parameters: garbage is a 400, the same everywhere ----------------------------------------

GARBAGE = [
    (LIST, "open=abc"), (LIST, "overdue=maybe"), (LIST, "unit=1.5"), (LIST, "unit=abc"), (LIST, "region=xyz"),
    (LIST, "page=abc"), (LIST, "page_size=-3"), (LIST, "reported_after=yesterday"), (LIST, "status=lost"),
    ("/api/v1/regions/", "parent=1.5"), ("/api/v1/regions/", "parent=abc"), ("/api/v1/regions/", "level=9"),
    ("/api/v1/regions/", "page=0"),
    ("/api/v1/map/alerts/", "coords=AAA"), ("/api/v1/map/regions/", "coords=AAA"),
    ("/api/v1/map/regions/", "open=abc"), ("/api/v1/map/stats/", "overdue=abc"), ("/api/v1/map/stats/", "unit=1.5"),
    ("/api/v1/map/incidents/", "bbox=116,23,116.1,23.1&open=abc"),
    ("/api/v1/incidents/duplicates/", "category=abc&lat=23&lng=116"),
]


@pytest.mark.parametrize(("url", "query"), GARBAGE)
def test_garbage_in_a_query_parameter_answers_400_invalid(people, url, query):
    response = token_client(people.d1_command).get(f"{url}?{query}")
    error = assert_error_shape(response, 400, "invalid")
    assert error["fields"], "the answer names the parameter at fault"


@pytest.mark.parametrize("query", ["open=true", "open=false", "open=1", "overdue=0", "unit=1", "page=1"])
def test_well_formed_parameters_are_accepted(people, query):
    assert token_client(people.d1_command).get(f"{LIST}?{query}").status_code == 200


def test_the_queue_page_shows_a_filter_it_cannot_read_and_lists_nothing(people, road):
    client = Client()
    client.force_login(people.d1_command)
    response = client.get("/incidents/queue/?overdue=maybe")
    assert response.status_code == 200
    assert "overdue" in response.context["filter_errors"]
    assert list(response.context["page"].object_list) == []
