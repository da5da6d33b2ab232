"""Open311 GeoReport v2 conformance: every endpoint, both formats, the spec's examples field by field."""

import json
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from governance.core.authority import SYSTEM
from incidents.models import Category, Incident, Severity, Source
from incidents.services import incident_accept, incident_file, incident_void
from intake import services
from intake.models import Submission
from tests.factories import point

from . import open311_examples as spec

pytestmark = pytest.mark.django_db
ROOT = "/open311/v2"
# The spec's optional fields, which may be empty (null in JSON) when there is nothing to say.
OPTIONAL = {"description", "agency_responsible", "service_notice", "expected_datetime", "updated_datetime",
            "address", "address_id", "zipcode", "media_url", "status_notes", "account_id", "datatype_description"}


# --- Comparing with the spec's examples -------------------------------------------------------------

def same_json(example, ours, *, extra=(), path="$"):
    """The same fields in the same order, each with the same kind of value, recursively."""
    if isinstance(example, list):
        assert isinstance(ours, list) and ours, f"{path}: expected a non-empty list, got {ours!r}"
        for i, item in enumerate(ours):
            same_json(example[0], item, extra=extra, path=f"{path}[{i}]")
    elif isinstance(example, dict):
        assert isinstance(ours, dict), f"{path}: expected an object"
        assert [k for k in ours if k not in extra] == list(example), f"{path}: fields {list(ours)} != {list(example)}"
        for key in example:
            if key in OPTIONAL and ours[key] is None:
                continue
            same_json(example[key], ours[key], extra=extra, path=f"{path}.{key}")
    elif isinstance(example, bool):
        assert isinstance(ours, bool), f"{path}: expected true/false, got {ours!r}"
    elif isinstance(example, float):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), f"{path}: expected a number"
    elif example is None:
        assert ours is None or isinstance(ours, (str, int, float)), f"{path}: expected a value or null"
    else:  # the spec writes ids and codes as numbers or strings alike
        assert isinstance(ours, (str, int)) and not isinstance(ours, bool), f"{path}: expected a value, got {ours!r}"


def same_xml(example: ET.Element, ours: ET.Element, *, extra=(), path=""):
    path = f"{path}/{example.tag}"
    assert ours.tag == example.tag, f"{path}: <{ours.tag}> instead"
    example_children, our_children = list(example), [c for c in ours if c.tag not in extra]
    if not example_children:
        assert not our_children, f"{path}: a value, not elements"
        if (example.text or "").strip() in ("true", "false"):
            assert (ours.text or "").strip() in ("true", "false"), f"{path}: expected true/false"
        return
    tags = [c.tag for c in example_children]
    if len(set(tags)) == 1 and len(tags) >= 1 and example.tag in ("services", "service_requests", "attributes",
                                                                  "values", "endpoints", "formats", "errors"):
        assert our_children, f"{path}: expected items"
        for child in our_children:
            same_xml(example_children[0], child, extra=extra, path=path)
        return
    assert [c.tag for c in our_children] == tags, f"{path}: {[c.tag for c in our_children]} != {tags}"
    for mine, theirs in zip(our_children, example_children, strict=True):
        same_xml(theirs, mine, extra=extra, path=path)


def as_xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def as_json(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def w3c(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, "W3C datetimes carry their offset"
    return parsed


# --- Fixtures -----------------------------------------------------------------------------------------

@pytest.fixture
def world(city, people, categories, issued_key):
    noise = categories.get(name="噪音扰民")
    inside = incident_file(reporter=people.worker_g1111, category=noise, title="西区噪音", description="夜间施工",
                           lat=point(1, 1)[0], lng=point(1, 1)[1], address="南一路1号",
                           reporter_phone="13800001234", reporter_name="李四").incident
    outside = incident_file(reporter=people.d2_command, category=noise, title="东区噪音",
                            lat=point(5, 1)[0], lng=point(5, 1)[1]).incident
    return {"noise": noise, "inside": inside, "outside": outside, "key": issued_key.key, "people": people,
            "city": city}


def keyed(world):
    return {"api_key": world["key"]}


# --- Discovery, services, definitions ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_matches_the_spec(client, fmt, categories):
    response = client.get(f"{ROOT}/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        ours = as_json(response)
        same_json(spec.DISCOVERY_JSON, ours)
        endpoint = ours["endpoints"][0]
    else:
        ours = as_xml(response)
        same_xml(ET.fromstring(spec.DISCOVERY_XML), ours)
        endpoint = {e.tag: e.text for e in ours.find("endpoints/endpoint")}
        endpoint["formats"] = [f.text for f in ours.find("endpoints/endpoint/formats")]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_are_the_minor_categories(client, fmt, city, categories):
    response = client.get(f"{ROOT}/services.{fmt}", {"jurisdiction_id": "440000"})
    assert response.status_code == 200
    minors = list(Category.objects.filter(parent__isnull=False, is_active=True))
    if fmt == "json":
        ours = as_json(response)
        same_json(spec.SERVICES_JSON, ours)
        rows = ours
    else:
        root = as_xml(response)
        same_xml(ET.fromstring(spec.SERVICES_XML), root)
        rows = [{c.tag: c.text for c in s} for s in root]
    assert {r["service_code"] for r in rows} == {c.code for c in minors}
    noise = next(r for r in rows if r["service_code"] == "0502")
    assert noise["service_name"] == "噪音扰民" and noise["group"] == "社会治安秩序"
    assert noise["metadata"] in (True, "true") and noise["type"] == "realtime"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_service_definition_lists_its_attributes(client, fmt, categories):
    response = client.get(f"{ROOT}/services/0502.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        ours = as_json(response)
        # the spec's example attribute has values; "title" (a string) has none, so compare the list one
        same_json({**spec.SERVICE_DEFINITION_JSON}, {**ours, "attributes": [ours["attributes"][1]]})
        attributes = ours["attributes"]
        assert ours["service_code"] == "0502"
        assert [a["code"] for a in attributes] == ["title", "severity"]
        assert [v["key"] for v in attributes[1]["values"]] == list(Severity.values)
        assert attributes[1]["datatype"] == "singlevaluelist" and attributes[1]["required"] is False
        assert attributes[0]["datatype"] == "string" and attributes[0]["order"] == 1
    else:
        root = as_xml(response)
        severity = root.find("attributes")[1]
        trimmed = ET.fromstring(ET.tostring(root))
        attrs = trimmed.find("attributes")
        attrs.remove(attrs[0])
        same_xml(ET.fromstring(spec.SERVICE_DEFINITION_XML), trimmed)
        assert root.findtext("service_code") == "0502"
        assert severity.findtext("code") == "severity" and severity.findtext("variable") == "true"
        assert [v.findtext("key") for v in severity.find("values")] == list(Severity.values)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_is_the_specs_404(client, fmt, categories):
    response = client.get(f"{ROOT}/services/NOPE.{fmt}")
    assert response.status_code == 404
    check_error(response, fmt, 404)


def check_error(response, fmt, code):
    if fmt == "json":
        ours = as_json(response)
        same_json(spec.ERROR_JSON, ours)
        assert ours[0]["code"] == code and ours[0]["description"]
    else:
        root = as_xml(response)
        same_xml(ET.fromstring(spec.ERROR_XML), root)
        assert root.findtext("error/code") == str(code) and root.findtext("error/description")


# --- POST requests ------------------------------------------------------------------------------------------

def post_example(client, world, fmt, **overrides):
    lat, lng = point(1.5, 2)
    values = {"api_key": world["key"], "jurisdiction_id": "440000", "service_code": "0502", "lat": lat,
              "long": lng, "attribute": "severity", "value": "urgent", **overrides}
    body = spec.POST_REQUEST_BODY.format(**values)
    return client.post(f"{ROOT}/requests.{fmt}", body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_request_files_an_incident_and_answers_as_the_spec(client, world, fmt):
    response = post_example(client, world, fmt)
    assert response.status_code == 200, response.content
    submission = Submission.objects.get()
    incident = submission.incident
    if fmt == "json":
        ours = as_json(response)
        same_json(spec.POST_RESPONSE_JSON, ours, extra=("token",))
        answer = ours[0]
        assert answer["account_id"] == "123456"
    else:
        root = as_xml(response)
        same_xml(ET.fromstring(spec.POST_RESPONSE_XML), root, extra=("token",))
        answer = {c.tag: c.text for c in root[0]}
        assert answer["account_id"] == "123456"
    assert answer["service_request_id"] == incident.number and answer["token"] == submission.tracking_code
    assert answer["service_notice"]
    city = world["city"]
    assert (incident.grid, incident.source, incident.severity) == (city.g1111, Source.API, Severity.URGENT)
    assert incident.reporter is None and incident.reporter_name == "john smith"
    assert incident.reporter_phone == "111111111"
    assert incident.description == "A large sinkhole is destroying the street" and incident.address == "1234 5th street"
    assert submission.attributes["media_url"] == "http://media.city.gov/media/sinkhole.jpg"
    assert submission.attributes["severity"] == "urgent" and submission.api_key.prefix in world["key"]


def test_post_with_an_address_and_no_point_goes_to_the_keys_intake_grid(client, world):
    body = spec.POST_REQUEST_BODY.format(api_key=world["key"], jurisdiction_id="440000", service_code="0502", lat="",
                                         long="", attribute="title", value="深夜噪音")
    response = client.post(f"{ROOT}/requests.json", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    incident = Incident.objects.get(number=as_json(response)[0]["service_request_id"])
    assert incident.grid == world["city"].g1111 and incident.title == "深夜噪音"


POST_ERRORS = [  # (case, the spec's status); the revoked key last, since it ends the key
    ("bad_key", 403), ("no_key", 403), ("unknown_service", 404), ("no_service", 400), ("no_location", 400),
    ("outside_territory", 403), ("bad_attribute", 400), ("bad_severity", 400), ("bad_lat", 400),
    ("unknown_jurisdiction", 404), ("foreign_jurisdiction", 404), ("point_outside_jurisdiction", 400),
    ("address_outside_jurisdiction", 400), ("revoked_key", 403),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_are_the_specs(client, world, fmt):
    """Each wrong request, one after the other on one world (building a city per case costs seconds)."""
    for case, status in POST_ERRORS:
        overrides = {
            "bad_key": {"api_key": "o311_nope_nope"}, "no_key": {"api_key": ""},
            "unknown_service": {"service_code": "9999"}, "no_service": {"service_code": ""},
            "outside_territory": dict(zip(("lat", "long"), point(5, 1), strict=True)),
            "bad_attribute": {"attribute": "WHISHETN", "value": "123"}, "bad_severity": {"value": "apocalyptic"},
            "bad_lat": {"lat": "nan"}, "unknown_jurisdiction": {"jurisdiction_id": "999999"},
            # the east district exists but the key (west district) does not file there: as unknown
            "foreign_jurisdiction": {"jurisdiction_id": "440200"},
            # the point is in the south street's G1111, the jurisdiction named is the north street
            "point_outside_jurisdiction": {"jurisdiction_id": "440102"},
            # no point: the key's intake grid G1111, again not in the north street
            "address_outside_jurisdiction": {"jurisdiction_id": "440102", "lat": "", "long": ""},
        }.get(case, {})
        if case == "revoked_key":
            services.api_key_revoke(api_key=services.api_key_from_key(world["key"]), acting_user=SYSTEM)
        if case == "no_location":
            body = f"api_key={world['key']}&service_code=0502&description=x"
            response = client.post(f"{ROOT}/requests.{fmt}", body, content_type="application/x-www-form-urlencoded")
        else:
            response = post_example(client, world, fmt, **overrides)
        assert response.status_code == status, (case, response.content)
        check_error(response, fmt, status)
        assert not Submission.objects.exists(), case
        assert Incident.objects.count() == 2, case  # the world's two, nothing half-written


# --- GET requests, one request, tokens --------------------------------------------------------------------

def example_query(**changes):
    now = timezone.now()
    query = dict(part.split("=") for part in spec.REQUESTS_QUERY.split("&"))
    query.update(start_date=(now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 end_date=(now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), **changes)
    return query


def request_rows(response, fmt):
    if fmt == "json":
        ours = as_json(response)
        if ours:
            same_json(spec.REQUESTS_JSON, ours)
        return ours
    root = as_xml(response)
    if len(root):
        same_xml(ET.fromstring(spec.REQUESTS_XML), root)
    return [{c.tag: c.text for c in r} for r in root]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_answers_the_keys_territory_field_by_field(client, world, fmt):
    response = client.get(f"{ROOT}/requests.{fmt}", {**example_query(), **keyed(world)})
    assert response.status_code == 200
    rows = request_rows(response, fmt)
    inside = world["inside"]
    assert [r["service_request_id"] for r in rows] == [inside.number]  # the east district's is not shown
    row = rows[0]
    assert row["status"] == "open" and row["service_code"] == "0502" and row["service_name"] == "噪音扰民"
    assert row["description"] == "夜间施工" and row["address"] == "南一路1号"
    assert float(row["lat"]) == pytest.approx(inside.lat) and float(row["long"]) == pytest.approx(inside.lng)
    assert w3c(row["requested_datetime"]) == inside.reported_at.replace(microsecond=0)
    assert w3c(row["expected_datetime"]) == inside.accept_due_at.replace(microsecond=0)
    assert "+08:00" in row["requested_datetime"]
    body = response.content.decode()
    assert "13800001234" not in body and "李四" not in body and "worker_g1111" not in body


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_filters(client, world, fmt):
    people, inside = world["people"], world["inside"]
    incident_accept(incident=inside, actor=people.s11_command)
    incident_void(incident=Incident.objects.get(pk=inside.pk), actor=people.s11_command, note="重复上报。")
    get = lambda **q: request_rows(client.get(f"{ROOT}/requests.{fmt}", {**example_query(**q), **keyed(world)}), fmt)  # noqa: E731
    assert get() == []  # the spec's example asks for open ones
    closed = get(status="closed")
    assert [r["service_request_id"] for r in closed] == [inside.number]
    assert closed[0]["status"] == "closed" and closed[0]["status_notes"] == "重复上报。"
    assert get(status="open,closed", service_code="0101") == []
    assert len(get(status="open,closed", service_code="0101,0502")) == 1
    old = {"start_date": "2010-05-24T00:00:00Z", "end_date": "2010-06-24T00:00:00Z"}
    assert request_rows(client.get(f"{ROOT}/requests.{fmt}", {**old, "status": "closed", **keyed(world)}), fmt) == []
    by_id = request_rows(client.get(f"{ROOT}/requests.{fmt}", {"service_request_id": f"{inside.number},"
                                                               f"{world['outside'].number}", **keyed(world)}), fmt)
    assert [r["service_request_id"] for r in by_id] == [inside.number]  # the other is outside the territory


def test_get_requests_limits(client, world, noise_batch):
    rows = as_json(client.get(f"{ROOT}/requests.json", {**keyed(world), "limit": "2"}))
    assert len(rows) == 2
    assert [r["service_request_id"] for r in rows] == sorted((r["service_request_id"] for r in rows), reverse=True)
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"status": "pending"},
                {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
                {"start_date": "yesterday"},
                {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}):
        response = client.get(f"{ROOT}/requests.json", {**keyed(world), **bad})
        assert response.status_code == 400, bad
        check_error(response, "json", 400)


@pytest.fixture
def noise_batch(world):
    people = world["people"]
    for i in range(3):
        incident_file(reporter=people.worker_g1111, category=world["noise"], title=f"第{i}件", lat=point(1, 1)[0],
                      lng=point(1, 1)[1])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_reading_requests_needs_a_key(client, world, fmt):
    for params in ({}, {"api_key": "o311_wrong"}):
        response = client.get(f"{ROOT}/requests.{fmt}", params)
        assert response.status_code == 403
        check_error(response, fmt, 403)
        response = client.get(f"{ROOT}/requests/{world['inside'].number}.{fmt}", params)
        assert response.status_code == 403


def test_the_key_may_come_as_http_basic_auth(world):
    import base64

    auth = base64.b64encode(f"open311:{world['key']}".encode()).decode()
    response = Client(HTTP_AUTHORIZATION=f"Basic {auth}").get(f"{ROOT}/requests.json")
    assert response.status_code == 200 and len(as_json(response)) == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_one_request(client, world, fmt):
    inside = world["inside"]
    rows = request_rows(client.get(f"{ROOT}/requests/{inside.number}.{fmt}", keyed(world)), fmt)
    assert len(rows) == 1 and rows[0]["service_request_id"] == inside.number
    for missing in (world["outside"].number, "SJ00000000-000000"):  # hidden is missing
        response = client.get(f"{ROOT}/requests/{missing}.{fmt}", keyed(world))
        assert response.status_code == 404
        check_error(response, fmt, 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens(client, world, fmt):
    answer = as_json(post_example(client, world, "json"))[0]
    response = client.get(f"{ROOT}/tokens/{answer['token']}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        ours = as_json(response)
        same_json(spec.TOKEN_RESPONSE_JSON, ours)
        row = ours[0]
    else:
        root = as_xml(response)
        same_xml(ET.fromstring(spec.TOKEN_RESPONSE_XML), root)
        row = {c.tag: c.text for c in root[0]}
    assert row == {"service_request_id": answer["service_request_id"], "token": answer["token"]}
    response = client.get(f"{ROOT}/tokens/NOSUCHTOKEN.{fmt}")
    assert response.status_code == 404
    check_error(response, fmt, 404)


def test_a_residents_tracking_code_is_not_an_open311_token(client, world, city):
    sign = services.sign_in_force(grid=city.g1111, acting_user=SYSTEM)
    submission = services.quick_report_file(sign=sign, category=world["noise"], description="噪音")
    assert client.get(f"{ROOT}/tokens/{submission.tracking_code}.json").status_code == 404


def test_unknown_formats_and_paths_answer_the_specs_error(client, categories):
    for path in ("/services.yaml", "/nothing.json", "/requests/x/y.json"):
        response = client.get(ROOT + path)
        assert response.status_code == 404
        check_error(response, "json", 404)


def test_open311_posts_are_rate_limited_per_key(client, world, settings):
    settings.INTAKE_RATE_PER_KEY = "2/86400"  # a day: a burst never straddles two windows
    codes = [post_example(client, world, "json").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    assert Submission.objects.count() == 2


def test_reading_many_requests_costs_a_fixed_number_of_queries(client, world, noise_batch,
                                                               django_assert_max_num_queries):
    people = world["people"]
    for incident in Incident.objects.filter(grid=world["city"].g1111):
        incident_accept(incident=incident, actor=people.s11_command)
        incident_void(incident=Incident.objects.get(pk=incident.pk), actor=people.s11_command,
                      note=f"答复{incident.pk}")
    with django_assert_max_num_queries(5):
        rows = as_json(client.get(f"{ROOT}/requests.json", keyed(world)))
    assert len(rows) == 4 and all(r["status_notes"].startswith("答复") for r in rows)


def test_post_multipart_with_media_stores_the_photo(client, world):
    from incidents.models import Attachment

    from .conftest import photo

    lat, lng = point(1.5, 2)
    response = client.post(f"{ROOT}/requests.json", {
        "api_key": world["key"], "service_code": "0601", "lat": lat, "long": lng, "description": "垃圾",
        "media": photo()})
    assert response.status_code == 200, response.content
    incident = Incident.objects.get(number=as_json(response)[0]["service_request_id"])
    assert Attachment.objects.filter(incident=incident).count() == 1 and incident.category.code == "0601"


def test_post_into_a_jurisdiction_that_holds_the_point(client, world):
    for code in ("440100", "440101", "440101001001"):  # the key's district, a street and the grid of the point
        response = post_example(client, world, "json", jurisdiction_id=code)
        assert response.status_code == 200, (code, response.content)
    assert Submission.objects.count() == 3
    assert {i.grid for i in Incident.objects.filter(submission__isnull=False)} == {world["city"].g1111}


def test_a_post_outside_its_jurisdiction_leaves_no_photo_behind(client, world, settings):
    from incidents.models import Attachment

    from .conftest import photo, stored_files

    lat, lng = point(1.5, 2)
    response = client.post(f"{ROOT}/requests.json", {
        "api_key": world["key"], "jurisdiction_id": "440102", "service_code": "0601", "lat": lat, "long": lng,
        "description": "垃圾", "media": photo()})
    assert response.status_code == 400, response.content
    assert as_json(response)[0]["code"] == 400 and "440102" in as_json(response)[0]["description"]
    assert not Submission.objects.exists() and not Attachment.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_jurisdiction_id_narrows_the_requests(client, world, noise_batch):
    everything = as_json(client.get(f"{ROOT}/requests.json", {**keyed(world), "jurisdiction_id": "440000"}))
    south = as_json(client.get(f"{ROOT}/requests.json", {**keyed(world), "jurisdiction_id": "440101"}))
    north = as_json(client.get(f"{ROOT}/requests.json", {**keyed(world), "jurisdiction_id": "440102"}))
    assert len(everything) == len(south) == 4 and north == []
    east = as_json(client.get(f"{ROOT}/requests.json", {**keyed(world), "jurisdiction_id": "440200"}))
    assert east == []  # the east district is outside the key's territory, named or not
