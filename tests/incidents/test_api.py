"""The incidents REST API: filing, the closed loop through one endpoint per transition, errors, filters."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from governance.core.testing import page_client as as_user
from incidents.models import Attachment, Event, Incident, Source, Status
from tests.factories import point
from tests.incidents.conftest import photo

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"


def detail_url(incident) -> str:
    return f"/api/v1/incidents/{incident.pk}/"


def action_url(incident, action: str) -> str:
    return f"/api/v1/incidents/{incident.pk}/{action}/"


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def filing(category, /, at=(1, 2), **extra) -> dict:
    """A filing body; keywords replace its fields (``category=`` included)."""
    lat, lng = point(*at)
    return {"category": category.pk, "title": "路面塌陷", "description": "人行道塌了一个坑", "lat": lat, "lng": lng,
            "address": "南一路 8 号", **extra}


def post(client, url, data=None, **extra):
    return client.post(url, data or {}, content_type="application/json", **extra)


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- Filing -----------------------------------------------------------------

def test_grid_worker_files_an_incident_with_json(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road))
    assert response.status_code == 201, response.json()
    body = response.json()
    incident = Incident.objects.get()
    assert body["id"] == incident.pk
    assert body["status"] == Status.REPORTED
    assert body["category"]["code"] == road.code
    assert body["version"] == 1
    assert body["source"] == Source.GRID_WORKER  # the pages file through the session
    assert response["Location"] == detail_url(incident)
    assert [e["action"] for e in body["events"]] == ["report"]


def test_category_may_be_given_by_code(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road, category=road.code))
    assert response.status_code == 201
    assert Incident.objects.get().category == road


def test_grid_worker_files_with_photos_in_a_multipart_form(people, road, settings):
    data = filing(road)
    data["photos"] = [photo("a.jpg"), photo("b.jpg", color=(0, 0, 200))]
    response = as_user(people.worker_g1111).post(LIST, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["attachments"]) == 2
    first = body["attachments"][0]
    assert first["url"].endswith(f"/incidents/attachments/{first['id']}/")
    assert first["content_type"] == "image/jpeg"
    assert body["events"][0]["attachments"] == [a["id"] for a in body["attachments"]]
    assert first["thumbnail_url"].endswith(f"/incidents/attachments/{first['id']}/thumbnail/")
    assert len(stored_files(settings)) == 4  # each photo and its thumbnail


@pytest.mark.parametrize("persona", ["worker_g1111", "d1_command", "city_admin"])
def test_the_answer_to_a_filing_is_what_reading_it_back_gives(people, road, persona):
    """The filing answers from what it wrote, without reading back: it must not differ from a read."""
    client = as_user(getattr(people, persona))
    data = filing(road, reporter_name="李四", reporter_phone="13812345678")
    data["photos"] = [photo("a.jpg"), photo("b.jpg", color=(0, 0, 200))]
    filed = client.post(LIST, data)
    assert filed.status_code == 201, filed.json()
    read = client.get(detail_url(Incident.objects.get()))
    assert filed.json() == read.json()
    assert len(filed.json()["attachments"]) == 2 and filed.json()["available_actions"] == read.json()[
        "available_actions"]


def test_photos_bracket_name_is_accepted(people, road):
    data = filing(road)
    data["photos[]"] = [photo("a.jpg")]
    response = as_user(people.worker_g1111).post(LIST, data)
    assert response.status_code == 201
    assert Attachment.objects.count() == 1


def test_same_idempotency_key_twice_files_one_incident(people, road):
    client = as_user(people.worker_g1111)
    first = post(client, LIST, filing(road), HTTP_IDEMPOTENCY_KEY="phone-42-0001")
    again = post(client, LIST, filing(road), HTTP_IDEMPOTENCY_KEY="phone-42-0001")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Incident.objects.count() == 1
    assert Event.objects.count() == 1


def test_idempotency_key_may_be_a_form_field(people, road):
    client = as_user(people.worker_g1111)
    first = client.post(LIST, {**filing(road), "idempotency_key": "k1", "photos": [photo()]})
    again = client.post(LIST, {**filing(road), "idempotency_key": "k1", "photos": [photo()]})
    assert (first.status_code, again.status_code) == (201, 200)
    assert Incident.objects.count() == 1
    assert Attachment.objects.count() == 1


def test_idempotency_keys_belong_to_their_reporter(people, road):
    post(as_user(people.worker_g1111), LIST, filing(road), HTTP_IDEMPOTENCY_KEY="same")
    other = post(as_user(people.s11_command), LIST, filing(road), HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 201
    assert Incident.objects.count() == 2


def test_overlong_idempotency_header_is_refused(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road), HTTP_IDEMPOTENCY_KEY="x" * 65)
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["error"]["fields"]
    assert not Incident.objects.exists()


# --- Bad input: a clear 4xx and nothing stored --------------------------------

def test_coordinates_outside_the_city_answer_400_outside_city(people, road):
    response = post(as_user(people.worker_g1111), LIST, {**filing(road), "lat": 30.0, "lng": 120.0})
    assert response.status_code == 400
    assert error_code(response) == "outside_city"
    assert not Incident.objects.exists()


def test_filing_in_a_grid_not_the_workers_answers_403_not_your_grid(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road, at=(3, 2)))  # grid G1112
    assert response.status_code == 403
    assert error_code(response) == "not_your_grid"
    assert not Incident.objects.exists()


def test_a_non_image_photo_answers_400_and_stores_nothing(people, road, settings):
    data = filing(road)
    fake = photo("virus.jpg")
    fake.file.seek(0)
    fake.file.write(b"MZ this is not an image at all")
    fake.file.truncate()
    fake.file.seek(0)
    data["photos"] = [photo("good.jpg"), fake]
    response = as_user(people.worker_g1111).post(LIST, data)
    assert response.status_code == 400
    assert error_code(response) == "photo_not_image"
    assert not Incident.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_an_oversized_photo_answers_400_and_stores_nothing(people, road, settings):
    settings.INCIDENT_PHOTO_MAX_BYTES = 200
    data = filing(road)
    data["photos"] = [photo("big.jpg", size=(640, 480))]
    response = as_user(people.worker_g1111).post(LIST, data)
    assert response.status_code == 400
    assert error_code(response) == "photo_too_large"
    assert not Incident.objects.exists()
    assert stored_files(settings) == []


def test_missing_fields_are_named(people):
    response = post(as_user(people.worker_g1111), LIST, {})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert {"category", "title", "lat", "lng"} <= set(error["fields"])
    assert not Incident.objects.exists()


@pytest.mark.parametrize("category", ["9999", 999999, "no-such-code"])
def test_unknown_category_answers_400(people, road, category):
    response = post(as_user(people.worker_g1111), LIST, filing(road, category=category))
    assert response.status_code == 400
    assert "category" in response.json()["error"]["fields"]
    assert not Incident.objects.exists()


def test_unknown_category_message_names_it(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road, category="no-such-code"))
    [message] = response.json()["error"]["fields"]["category"]
    assert "no-such-code" in message


def test_absurd_ids_answer_4xx_not_500(people, file_incident, road):
    incident = file_incident()
    client = as_user(people.s11_command)
    huge = 10**30
    assert client.get(LIST, {"unit": huge}).status_code == 400
    assert client.get(LIST, {"unit": "1.5"}).status_code == 400
    assert client.get(LIST, {"region": huge}).status_code == 400
    assert client.get(f"{LIST}{huge}/").status_code == 404
    assert post(client, action_url(incident, "merge"), {"into": huge}).status_code == 400
    assert post(client, LIST, filing(road, category=huge)).status_code == 400
    assert client.get(f"{LIST}duplicates/", {"category": road.pk, "lat": 23, "lng": 116, "exclude": huge}
                      ).status_code == 400


def test_a_major_category_is_refused(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road, category=road.parent.code))
    assert response.status_code == 400
    assert "category" in response.json()["error"]["fields"]
    assert not Incident.objects.exists()


def test_json_with_photo_strings_is_refused(people, road):
    response = post(as_user(people.worker_g1111), LIST, filing(road, photos=["http://example.com/a.jpg"]))
    assert response.status_code == 400
    # a list item's error is named by its place, so ``fields`` stays a map of names to lists of messages
    assert list(response.json()["error"]["fields"]) == ["photos.0"]
    assert isinstance(response.json()["error"]["fields"]["photos.0"][0], str)
    assert not Incident.objects.exists()


# --- The closed loop, one endpoint per transition ----------------------------

def test_the_closed_loop_through_the_api(city, people, road, settings):
    worker, command, handler = (as_user(people.worker_g1111), as_user(people.s11_command),
                                as_user(people.d1_police_handler))
    incident_id = post(worker, LIST, filing(road)).json()["id"]
    incident = Incident.objects.get(pk=incident_id)

    body = post(command, action_url(incident, "accept"), {"version": 1}).json()
    assert (body["status"], body["version"]) == ("accepted", 2)
    assert body["handle_due_at"]

    response = post(command, action_url(incident, "dispatch"),
                    {"version": 2, "unit": city.unit_d1_police.pk, "assisting_units": [city.unit_city_urban.pk],
                     "note": "请公安处置"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "dispatched"
    assert body["lead_unit"]["id"] == city.unit_d1_police.pk
    assert {t["unit"]["id"] for t in body["unit_tasks"]} == {city.unit_d1_police.pk, city.unit_city_urban.pk}

    response = handler.post(action_url(incident, "report-back"),
                            {"version": 3, "note": "已设置围挡并修复", "photos": [photo("fixed.jpg")]})
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "dispatched"  # the assisting unit has not reported yet
    assert len(body["attachments"]) == 1

    urban = as_user(_handler_of(city.unit_city_urban))
    body = post(urban, action_url(incident, "report-back"), {"note": "配合完成"}).json()
    assert body["status"] == "handled"

    body = post(command, action_url(incident, "verify"),
                {"version": body["version"], "passed": True, "satisfaction": 5}).json()
    assert body["status"] == "closed"
    assert body["satisfaction"] == 5
    assert body["available_actions"] == []
    assert [e["action"] for e in body["events"]] == ["report", "accept", "dispatch", "report_back", "report_back",
                                                     "verify_pass"]


def _handler_of(unit):
    from governance.access.models import Role
    from tests.factories import make_user

    return make_user(f"handler_{unit.code}", role=Role.UNIT_HANDLER, unit=unit)


def test_detail_offers_the_actions_the_user_may_take(people, file_incident):
    incident = file_incident()
    body = as_user(people.s11_command).get(detail_url(incident)).json()
    names = [a["name"] for a in body["available_actions"]]
    assert names == ["accept", "return", "escalate", "void", "merge"]
    accept = body["available_actions"][0]
    assert accept["url"].endswith(action_url(incident, "accept"))


def test_verification_failure_sends_it_back_to_the_unit(city, people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    post(command, action_url(incident, "accept"))
    post(command, action_url(incident, "dispatch"), {"unit": city.unit_d1_police.pk})
    post(as_user(people.d1_police_handler), action_url(incident, "report-back"), {"note": "已处理"})
    missing = post(command, action_url(incident, "verify"), {"note": "未修好"})
    assert missing.status_code == 400
    assert "passed" in missing.json()["error"]["fields"]
    body = post(command, action_url(incident, "verify"), {"passed": False, "note": "未修好"}).json()
    assert body["status"] == "dispatched"


def test_unit_sends_it_back_and_command_reassigns(city, people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    post(command, action_url(incident, "accept"))
    post(command, action_url(incident, "dispatch"), {"unit": city.unit_d1_police.pk})
    reassigned = post(command, action_url(incident, "reassign"), {"unit": city.unit_city_urban.pk})
    assert reassigned.json()["lead_unit"]["id"] == city.unit_city_urban.pk
    urban = as_user(_handler_of(city.unit_city_urban))
    no_reason = post(urban, action_url(incident, "unit-return"))
    assert no_reason.status_code == 400
    assert "note" in no_reason.json()["error"]["fields"]
    body = post(urban, action_url(incident, "unit-return"), {"note": "不属于我局职责"}).json()
    assert body["status"] == "accepted"
    assert body["lead_unit"] is None


def test_grid_worker_closes_a_noise_report_on_the_spot(people, file_incident, noise):
    incident = file_incident(category=noise)
    response = as_user(people.worker_g1111).post(
        action_url(incident, "close-on-spot"), {"note": "已劝导", "satisfaction": 4, "photos": [photo()]})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"
    assert Attachment.objects.filter(incident=incident).count() == 1


def test_close_on_spot_of_a_category_that_forbids_it_answers_409(people, file_incident):
    incident = file_incident()  # 道路破损
    response = post(as_user(people.worker_g1111), action_url(incident, "close-on-spot"))
    assert response.status_code == 409
    assert error_code(response) == "transition_not_allowed"


def test_return_and_resubmit(people, file_incident):
    incident = file_incident()
    returned = post(as_user(people.s11_command), action_url(incident, "return"), {"note": "请补充照片"})
    assert returned.json()["status"] == "returned"
    resubmitted = post(as_user(people.worker_g1111), action_url(incident, "resubmit"), {"note": "已补充"})
    assert resubmitted.json()["status"] == "reported"


def test_void_needs_a_reason(people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    assert post(command, action_url(incident, "void")).status_code == 400
    assert post(command, action_url(incident, "void"), {"note": "测试数据"}).json()["status"] == "voided"


def test_park_until_a_review_date_and_unpark(people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    post(command, action_url(incident, "accept"))
    too_early = post(command, action_url(incident, "park"), {"note": "需立项", "review_on": "2000-01-01"})
    assert too_early.status_code == 400
    review_on = (timezone.localdate() + timedelta(days=30)).isoformat()
    body = post(command, action_url(incident, "park"), {"note": "需立项改造", "review_on": review_on}).json()
    assert (body["status"], body["parked_until"]) == ("parked", review_on)
    assert post(command, action_url(incident, "unpark")).json()["status"] == "accepted"


def test_escalate_hands_it_to_the_street(city, people, file_incident):
    incident = file_incident()
    body = post(as_user(people.s11_command), action_url(incident, "escalate"), {"note": "社区无法协调"}).json()
    assert body["responsible_region"]["id"] == city.s11.pk
    assert body["responsible_level"] == 3


def test_merge_a_duplicate_into_the_open_incident(people, file_incident):
    first, second = file_incident(), file_incident(title="同一个坑")
    body = post(as_user(people.s11_command), action_url(second, "merge"), {"into": first.pk}).json()
    assert body["status"] == "merged"
    assert body["duplicate_of"] == first.pk
    assert Event.objects.filter(incident=first, action="merged_in").exists()


def test_merge_into_itself_answers_400(people, file_incident):
    incident = file_incident()
    response = post(as_user(people.s11_command), action_url(incident, "merge"), {"into": incident.pk})
    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).status == Status.REPORTED


# --- Conflicts ----------------------------------------------------------------

def test_stale_version_answers_409_and_changes_nothing(people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    assert post(command, action_url(incident, "accept"), {"version": 1}).status_code == 200
    stale = post(command, action_url(incident, "return"), {"version": 1, "note": "信息不全"})
    assert stale.status_code == 409
    assert error_code(stale) == "conflict"
    incident.refresh_from_db()
    assert (incident.status, incident.version) == (Status.ACCEPTED, 2)
    assert incident.events.count() == 2


def test_transition_not_allowed_in_this_state_answers_409(city, people, file_incident):
    incident = file_incident()
    response = post(as_user(people.s11_command), action_url(incident, "dispatch"), {"unit": city.unit_d1_police.pk})
    assert response.status_code == 409
    assert error_code(response) == "transition_not_allowed"
    assert response.json()["error"]["message"]


def test_dispatch_to_a_unit_out_of_reach_answers_400(city, people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    post(command, action_url(incident, "accept"))
    response = post(command, action_url(incident, "dispatch"), {"unit": city.unit_d2_police.pk})
    assert response.status_code == 400
    assert "unit" in response.json()["error"]["fields"]
    assert Incident.objects.get(pk=incident.pk).status == Status.ACCEPTED


def test_dispatch_without_a_unit_answers_400(people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    post(command, action_url(incident, "accept"))
    response = post(command, action_url(incident, "dispatch"), {"version": 2})
    assert response.status_code == 400
    assert "unit" in response.json()["error"]["fields"]


# --- Authentication -------------------------------------------------------------

def test_token_authentication_works_and_files_as_an_api_client(people, road):
    token = Token.objects.create(user=people.worker_g1111)
    client = Client(enforce_csrf_checks=True)
    response = post(client, LIST, filing(road), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == Source.API
    listed = client.get(LIST, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert listed.json()["count"] == 1


def test_token_endpoint_gives_a_token_for_username_and_password(people):
    response = Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "pw-worker_g1111"})
    assert response.status_code == 200, response.content
    assert response.json()["token"] == Token.objects.get(user=people.worker_g1111).key


def test_wrong_password_gets_no_token(people):
    response = Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "wrong"})
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_token_endpoint_counts_towards_the_login_lockout(people, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "guess"})
    response = Client().post("/api/v1/auth/token/", {"username": "worker_g1111", "password": "pw-worker_g1111"})
    # locked out: the right password gets no token either, and the answer says so (as the login page does)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert not Token.objects.exists()


def test_session_writes_need_the_csrf_token(people, road):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.worker_g1111)
    response = post(client, LIST, filing(road))
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert not Incident.objects.exists()


def test_anonymous_gets_no_incidents(people, file_incident):
    file_incident()
    response = Client().get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert error_code(response) == "not_authenticated"


# --- Lists, filters and their cost --------------------------------------------

def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_list_is_newest_first_and_paginated(people, file_incident):
    incidents = [file_incident(title=f"第{i}件") for i in range(3)]
    for i, incident in enumerate(incidents):
        Incident.objects.filter(pk=incident.pk).update(reported_at=timezone.now() - timedelta(hours=3 - i))
    body = as_user(people.d1_command).get(LIST, {"page_size": 2}).json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [incidents[2].pk, incidents[1].pk]
    assert body["next"]


def test_filters_by_status_category_and_level(people, file_incident, noise, road):
    road_incident, noise_incident = file_incident(), file_incident(category=noise)
    command = as_user(people.d1_command)
    post(as_user(people.s11_command), action_url(noise_incident, "escalate"), {"note": "升级"})
    assert ids(command.get(LIST, {"category": noise.pk})) == {noise_incident.pk}
    assert ids(command.get(LIST, {"category": road.parent.pk})) == {road_incident.pk}  # a major selects its minors
    assert ids(command.get(LIST, {"level": 3})) == {noise_incident.pk}
    post(command, action_url(road_incident, "accept"))
    assert ids(command.get(LIST, {"status": "accepted"})) == {road_incident.pk}
    assert ids(command.get(f"{LIST}?status=accepted&status=reported")) == {road_incident.pk, noise_incident.pk}


def test_overdue_filter_and_flag_agree(people, file_incident):
    late, fresh = file_incident(), file_incident()
    Incident.objects.filter(pk=late.pk).update(accept_due_at=timezone.now() - timedelta(minutes=1))
    command = as_user(people.d1_command)
    assert ids(command.get(LIST, {"overdue": "true"})) == {late.pk}
    flags = {row["id"]: row["is_overdue"] for row in command.get(LIST).json()["results"]}
    assert flags == {late.pk: True, fresh.pk: False}


def test_filters_by_date_range(people, file_incident):
    old, new = file_incident(), file_incident()
    Incident.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(days=10))
    command = as_user(people.d1_command)
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert ids(command.get(LIST, {"reported_after": since})) == {new.pk}
    assert ids(command.get(LIST, {"reported_before": until})) == {old.pk}


def test_a_date_bound_is_the_portals_calendar_day_edge_to_edge(people, file_incident):
    """Days are Beijing days: the last microsecond belongs to its day, midnight to the next; the ends bound nothing."""
    late, early = file_incident(), file_incident()
    day = date(2026, 3, 9)
    midnight = timezone.make_aware(datetime(2026, 3, 10))  # Beijing midnight: 16:00 UTC on the 9th
    Incident.objects.filter(pk=late.pk).update(reported_at=midnight - timedelta(microseconds=1))
    Incident.objects.filter(pk=early.pk).update(reported_at=midnight)
    command = as_user(people.d1_command)
    assert ids(command.get(LIST, {"reported_before": day.isoformat()})) == {late.pk}
    assert ids(command.get(LIST, {"reported_after": (day + timedelta(days=1)).isoformat()})) == {early.pk}
    assert ids(command.get(LIST, {"reported_after": day.isoformat(), "reported_before": day.isoformat()})) == {late.pk}
    for edge in ({"reported_after": "0001-01-01"}, {"reported_before": "9999-12-31"},
                 {"reported_after": "0001-01-02", "reported_before": "9999-12-30"}):
        assert ids(command.get(LIST, edge)) == {late.pk, early.pk}, edge


def test_filters_by_region_within_scope(city, people, file_incident):
    in_g1111 = file_incident()
    in_g1211 = file_incident(reporter=people.d1_command, at=(1, 6))
    command = as_user(people.d1_command)
    assert ids(command.get(LIST, {"region": city.s11.pk})) == {in_g1111.pk}
    assert ids(command.get(LIST, {"region": city.s12.pk})) == {in_g1211.pk}


def test_bad_filter_values_answer_400(people):
    response = as_user(people.d1_command).get(LIST, {"status": "nonsense", "reported_after": "yesterday"})
    assert response.status_code == 400
    assert {"status", "reported_after"} <= set(response.json()["error"]["fields"])


def test_listing_30_incidents_takes_a_fixed_number_of_queries(people, file_incident, django_assert_max_num_queries):
    client = as_user(people.d1_command)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    file_incident()
    with_one = count_queries()
    for i in range(29):
        file_incident(at=(0.1 + i * 0.06, 1 + (i % 3)))
    post(as_user(people.s11_command), action_url(Incident.objects.first(), "accept"))
    with django_assert_max_num_queries(10):
        response = client.get(LIST)
    assert response.json()["count"] == 30
    assert count_queries() == with_one


def test_detail_cost_does_not_grow_with_the_timeline(city, people, file_incident):
    incident = file_incident(photos=[photo()])
    command = as_user(people.s11_command)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert command.get(detail_url(incident)).status_code == 200
        return len(captured)

    before = count_queries()
    # four more steps, back in the same state (so the same actions are offered)
    post(command, action_url(incident, "escalate"), {"note": "社区无法协调"})
    post(command, action_url(incident, "return"), {"note": "请补充照片"})
    as_user(people.worker_g1111).post(action_url(incident, "resubmit"), {"note": "已补充"})
    assert Event.objects.filter(incident=incident).count() == 4
    assert count_queries() == before


# --- Duplicates, categories, schema ---------------------------------------------

def test_possible_duplicates_are_offered_nearest_first(people, file_incident, road, noise):
    near = file_incident(at=(1, 2))
    file_incident(at=(1.5, 3))  # about 600 m away
    file_incident(category=noise, at=(1, 2))
    lat, lng = point(1.002, 2.002)
    response = as_user(people.worker_g1111).get("/api/v1/incidents/duplicates/",
                                                {"category": road.code, "lat": lat, "lng": lng})
    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [near.pk]
    assert rows[0]["distance_m"] < 100


def test_duplicates_need_category_and_position(people):
    response = as_user(people.worker_g1111).get("/api/v1/incidents/duplicates/", {"category": "nope"})
    assert response.status_code == 400
    assert {"category", "lat", "lng"} <= set(response.json()["error"]["fields"])


def test_categories_come_as_a_tree_with_time_limits(people, noise):
    response = as_user(people.worker_g1111).get("/api/v1/categories/")
    assert response.status_code == 200
    majors = response.json()
    assert all(major["children"] for major in majors)
    major = next(m for m in majors if m["id"] == noise.parent_id)
    minor = next(c for c in major["children"] if c["id"] == noise.pk)
    assert minor["on_spot_closable"] is True
    assert minor["handle_working_days"] == noise.handle_working_days
    assert minor["accept_hours"] == noise.accept_hours


def test_schema_endpoint_answers(people):
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ["/api/v1/incidents/{id}/dispatch/", "/api/v1/incidents/{id}/report-back/", "/api/v1/categories/",
                 "/api/v1/incidents/duplicates/", "/api/v1/auth/token/"]:
        assert path in text


def test_docs_page_uses_only_local_assets(people):
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "<script>" not in html  # the page's CSP allows no inline script
    script = Client().get(urls[-1])
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_personal_data_is_masked_in_every_answer_and_whole_only_on_a_recorded_request(people, file_incident):
    incident = file_incident(reporter=people.d1_command, reporter_name="张三丰", reporter_phone="13812345678")
    for user in (people.s11_command, people.d1_supervisor):
        body = as_user(user).get(detail_url(incident)).json()
        assert (body["reporter_name"], body["reporter_phone"]) == ("张**", "138****5678")
    assert as_user(people.s11_command).get(LIST).json()["results"][0]["reporter_name"] == "张**"
    whole = post(as_user(people.s11_command), f"{detail_url(incident)}reveal-contact/", {"reason": "回访"}).json()
    assert whole == {"reporter_name": "张三丰", "reporter_phone": "13812345678"}
    refused = post(as_user(people.d1_supervisor), f"{detail_url(incident)}reveal-contact/", {"reason": "看看"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "no_personal_data"


def test_park_needs_a_valid_date(people, file_incident):
    incident = file_incident()
    command = as_user(people.s11_command)
    post(command, action_url(incident, "accept"))
    response = post(command, action_url(incident, "park"), {"note": "x", "review_on": "soon"})
    assert response.status_code == 400
    assert "review_on" in response.json()["error"]["fields"]
    assert Incident.objects.get(pk=incident.pk).status == Status.ACCEPTED
