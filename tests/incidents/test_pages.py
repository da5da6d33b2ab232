"""The incident pages: filing without script, the lists and queues, the detail page and its actions, photos.

Every page is tried by its own user, by an outsider (404, hidden is missing) and
by the read-only supervisor (sees, but 403 on any action).
"""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from governance.access.models import Role
from governance.core.testing import page_client
from incidents import services
from incidents.models import Attachment, Event, Incident, Status
from tests.factories import make_user, point
from tests.incidents.conftest import photo

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    # English, so that assertions on wording survive the Chinese translation.
    return page_client(user, language="en")


def detail(incident) -> str:
    return f"/incidents/{incident.pk}/"


def act(incident, action: str) -> str:
    return f"/incidents/{incident.pk}/act/{action}/"


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def filing_form(category, *, at=(1, 2), key="key-0001", **extra) -> dict:
    lat, lng = point(*at)
    return {"category": category.pk if category else "", "title": "路面塌陷", "description": "人行道塌了一个坑",
            "address": "南一路 8 号", "lat": lat, "lng": lng, "idempotency_key": key, **extra}


@pytest.fixture
def accepted(file_incident, people):
    incident = file_incident()
    return services.incident_accept(incident=incident, actor=people.d1_command)


@pytest.fixture
def dispatched(accepted, people, city):
    return services.incident_dispatch(incident=accepted, actor=people.d1_command, unit=city.unit_d1_police)


# --- Each page answers its own user --------------------------------------------------

def test_grid_worker_sees_the_filing_page_with_their_grid_as_the_map(people, city, road):
    response = as_user(people.worker_g1111).get("/incidents/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="file-form"' in html
    assert 'accept="image/*"' in html and 'capture="environment"' in html and "multiple" in html
    assert response.context["map"]["regions"] == [
        {"id": city.g1111.pk, "name": city.g1111.name, "boundary": city.g1111.boundary}]
    assert 'id="file-map-config"' in html  # data for the script, not an executed script
    assert "<script>" not in html  # CSP: scripts come from static files only
    assert road.name in html


def test_grid_worker_lists_the_incidents_of_their_grids_with_status_filters(people, file_incident):
    mine = file_incident(title="井盖缺失")
    closed = file_incident(title="路灯不亮")
    Incident.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    client = as_user(people.worker_g1111)

    response = client.get("/incidents/")
    assert response.status_code == 200
    assert {i.pk for i in response.context["page"].object_list} == {mine.pk, closed.pk}

    response = client.get("/incidents/", {"status": "reported"})
    assert [i.pk for i in response.context["page"].object_list] == [mine.pk]
    assert mine.number in response.content.decode()


def test_grid_worker_sees_the_detail_page_with_timeline_photos_and_their_actions(people, file_incident, noise):
    incident = file_incident(category=noise, photos=[photo()], description="楼下广场舞")
    response = as_user(people.worker_g1111).get(detail(incident))
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.number in html and "楼下广场舞" in html
    photo_pk = Attachment.objects.get(incident=incident).pk
    assert f"/incidents/attachments/{photo_pk}/" in html
    # a noise complaint may be closed on the spot by the grid worker; triage is not theirs
    assert [f.action.name for f in response.context["action_forms"]] == ["close_on_spot"]
    assert len(response.context["events"]) == 1


def test_command_centre_sees_the_new_incident_in_the_triage_queue(people, file_incident):
    incident = file_incident()
    response = as_user(people.d1_command).get("/incidents/queue/")
    assert response.status_code == 200
    assert [i.pk for i in response.context["page"].object_list] == [incident.pk]
    html = response.content.decode()
    assert act(incident, "accept") in html  # the inline accept form


def test_triage_queue_filters_by_status_overdue_region_and_search(people, file_incident, city):
    late = file_incident(title="路面塌陷")
    fresh = file_incident(title="垃圾满溢", at=(1, 3))
    Incident.objects.filter(pk=late.pk).update(accept_due_at=timezone.now() - timedelta(hours=1))
    client = as_user(people.d1_command)

    def listed(**query):
        return [i.pk for i in client.get("/incidents/queue/", query).context["page"].object_list]

    assert listed(overdue="true") == [late.pk]
    assert set(listed(status="reported")) == {late.pk, fresh.pk}
    assert listed(status="dispatched") == []
    assert listed(q="垃圾") == [fresh.pk]
    assert set(listed(region=city.s11.pk)) == {late.pk, fresh.pk}
    assert listed(region=city.s12.pk) == []
    # a region outside the user's scope is not a choice: nothing is shown rather than everything
    assert listed(region=city.d2.pk) == []
    html = client.get("/incidents/queue/", {"overdue": "true"}).content.decode()
    assert 'class="is-overdue"' in html


def test_unit_handler_sees_what_was_dispatched_to_their_unit(people, dispatched):
    response = as_user(people.d1_police_handler).get("/incidents/unit-queue/")
    assert response.status_code == 200
    assert [i.pk for i in response.context["page"].object_list] == [dispatched.pk]
    detail_page = as_user(people.d1_police_handler).get(detail(dispatched))
    assert [f.action.name for f in detail_page.context["action_forms"]] == ["report_back", "unit_return"]


def test_dashboards_link_the_incident_pages_and_count_open_and_overdue(people, file_incident, dispatched):
    late = file_incident(title="晚了")
    Incident.objects.filter(pk=late.pk).update(accept_due_at=timezone.now() - timedelta(hours=1))

    worker = as_user(people.worker_g1111).get("/dashboards/grid-worker/")
    assert worker.status_code == 200
    assert worker.context["counts"] == {"open": 2, "overdue": 1, "reported": 1}
    assert "/incidents/new/" in worker.content.decode()

    command = as_user(people.d1_command).get("/dashboards/command/")
    assert command.context["counts"]["open"] == 2
    assert "/incidents/queue/" in command.content.decode()

    unit = as_user(people.d1_police_handler).get("/dashboards/unit/")
    assert unit.context["counts"] == {"open": 1, "overdue": 0, "reported": 0}
    assert "/incidents/unit-queue/" in unit.content.decode()


def test_pages_ask_an_anonymous_visitor_to_log_in(file_incident):
    incident = file_incident()
    client = Client()
    for url in ["/incidents/", "/incidents/new/", "/incidents/queue/", detail(incident)]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_queues_refuse_users_without_the_role(people):
    assert as_user(people.worker_g1111).get("/incidents/queue/").status_code == 403
    assert as_user(people.d1_command).get("/incidents/unit-queue/").status_code == 403
    assert as_user(people.d1_supervisor).get("/incidents/new/").status_code == 403


# --- Hidden is missing; seeing is not acting ---------------------------------------

def test_neighbour_street_and_other_district_get_404_on_detail_photo_and_action(people, file_incident):
    incident = file_incident(photos=[photo()])
    photo_pk = Attachment.objects.get(incident=incident).pk
    for outsider in (people.s12_command, people.d2_command, people.nobody):
        client = as_user(outsider)
        assert client.get(detail(incident)).status_code == 404
        assert client.get(f"/incidents/attachments/{photo_pk}/").status_code == 404
        response = client.post(act(incident, "accept"), {"act-accept-expected_version": incident.version})
        assert response.status_code == 404
    assert Incident.objects.get(pk=incident.pk).status == Status.REPORTED


def test_missing_incident_and_unknown_action_answer_404(people, file_incident):
    incident = file_incident()
    client = as_user(people.d1_command)
    assert client.get("/incidents/999999/").status_code == 404
    assert client.post(act(incident, "teleport"), {}).status_code == 404
    assert client.post(act(incident, "verify_pass"), {}).status_code == 404  # only through the verify form


def test_supervisor_sees_the_detail_without_actions_and_a_forged_post_gets_403(people, file_incident):
    incident = file_incident()
    client = as_user(people.d1_supervisor)
    response = client.get(detail(incident))
    assert response.status_code == 200
    assert response.context["action_forms"] == []
    assert "/act/" not in response.content.decode()

    response = client.post(act(incident, "accept"), {"act-accept-expected_version": incident.version})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED and incident.version == 1


def test_grid_worker_gets_403_on_a_triage_action(people, file_incident):
    incident = file_incident()
    response = as_user(people.worker_g1111).post(act(incident, "accept"),
                                                 {"act-accept-expected_version": incident.version})
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == Status.REPORTED


# --- Actions ---------------------------------------------------------------------

def test_command_centre_accepts_from_the_queue_and_returns_to_it(people, file_incident):
    incident = file_incident()
    response = as_user(people.d1_command).post(act(incident, "accept"), {
        "act-accept-expected_version": incident.version, "act-accept-next": "/incidents/queue/?status=reported",
    })
    assert response.status_code == 302 and response.url == "/incidents/queue/?status=reported"
    incident.refresh_from_db()
    assert incident.status == Status.ACCEPTED and incident.accepted_at is not None


def test_a_next_address_off_the_site_is_ignored(people, file_incident):
    incident = file_incident()
    response = as_user(people.d1_command).post(act(incident, "accept"), {
        "act-accept-expected_version": incident.version, "act-accept-next": "https://evil.example/",
    })
    assert response.url == detail(incident)


def test_stale_version_shows_the_conflict_message_and_changes_nothing(people, file_incident, city):
    incident = file_incident()
    seen_version = incident.version
    # someone else accepts it first
    services.incident_accept(incident=incident, actor=people.s11_command)
    incident.refresh_from_db()
    before = (incident.status, incident.version, incident.lead_unit_id, Event.objects.filter(incident=incident).count())

    response = as_user(people.d1_command).post(act(incident, "escalate"), {
        "act-escalate-expected_version": seen_version, "act-escalate-note": "街道处理不了",
    }, follow=True)
    assert response.status_code == 200
    [message] = page_messages(response)
    assert "Someone else changed incident" in message and "nothing was overwritten" in message
    incident.refresh_from_db()
    after = (incident.status, incident.version, incident.lead_unit_id, Event.objects.filter(incident=incident).count())
    assert after == before
    assert incident.responsible_level == 4  # not escalated


def test_dispatch_needs_a_unit_and_says_so_on_the_page(people, accepted):
    response = as_user(people.d1_command).post(act(accepted, "dispatch"), {
        "act-dispatch-expected_version": accepted.version,
    })
    assert response.status_code == 400
    form = next(f for f in response.context["action_forms"] if f.action.name == "dispatch")
    assert "unit" in form.errors
    assert Incident.objects.get(pk=accepted.pk).status == Status.ACCEPTED


def test_a_state_that_forbids_the_action_shows_the_message(people, dispatched):
    response = as_user(people.d1_command).post(act(dispatched, "accept"), {
        "act-accept-expected_version": dispatched.version,
    }, follow=True)
    [message] = page_messages(response)
    assert "cannot be given" in message
    assert Incident.objects.get(pk=dispatched.pk).status == Status.DISPATCHED


def test_the_closed_loop_through_the_pages(people, file_incident, city, settings):
    incident = file_incident()
    command = as_user(people.d1_command)
    handler = as_user(people.d1_police_handler)

    command.post(act(incident, "accept"), {"act-accept-expected_version": 1})
    response = command.post(act(incident, "dispatch"), {
        "act-dispatch-expected_version": 2, "act-dispatch-unit": city.unit_d1_police.pk,
        "act-dispatch-assisting_units": [city.unit_city_urban.pk], "act-dispatch-note": "请尽快处理",
    })
    assert response.status_code == 302, response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.DISPATCHED and incident.lead_unit == city.unit_d1_police
    assert sorted(t.unit_id for t in incident.unit_tasks.all()) == sorted([city.unit_d1_police.pk,
                                                                           city.unit_city_urban.pk])

    response = handler.post(act(incident, "report_back"), {
        "act-report_back-expected_version": incident.version, "act-report_back-note": "已修复路面",
        "act-report_back-photos": [photo("a.jpg"), photo("b.jpg", color=(0, 90, 200))],
    })
    assert response.status_code == 302
    incident.refresh_from_db()
    # the assisting unit has not reported yet
    assert incident.status == Status.DISPATCHED
    report = Event.objects.filter(incident=incident, action="report_back").get()
    assert report.attachments.count() == 2

    urban = as_user(make_user("urban_handler", role=Role.UNIT_HANDLER, unit=city.unit_city_urban))
    urban.post(act(incident, "report_back"), {"act-report_back-expected_version": incident.version,
                                              "act-report_back-note": "配合完成"})
    incident.refresh_from_db()
    assert incident.status == Status.HANDLED

    response = command.post(act(incident, "verify"), {
        "act-verify-expected_version": incident.version, "act-verify-result": "pass",
        "act-verify-satisfaction": "5", "act-verify-note": "现场核查通过",
    })
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED and incident.satisfaction == 5

    page = command.get(detail(incident))
    labels = [str(e.label) for e in page.context["events"]]
    assert labels[0] == "Filed" and labels[-1] == "Verify and close"
    assert page.context["action_forms"] == []


def test_verification_failure_needs_a_reason(people, dispatched):
    services.incident_report_back(incident=dispatched, actor=people.d1_police_handler, note="已处理")
    dispatched.refresh_from_db()
    response = as_user(people.d1_command).post(act(dispatched, "verify"), {
        "act-verify-expected_version": dispatched.version, "act-verify-result": "fail",
    })
    assert response.status_code == 400
    assert Incident.objects.get(pk=dispatched.pk).status == Status.HANDLED


def test_merge_by_number_and_park_with_a_review_date(people, file_incident, accepted):
    duplicate = file_incident(title="同一个坑")
    client = as_user(people.d1_command)
    response = client.post(act(duplicate, "merge"), {
        "act-merge-expected_version": duplicate.version, "act-merge-into": accepted.number.lower(),
    })
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED and duplicate.duplicate_of_id == accepted.pk

    response = client.post(act(accepted, "park"), {
        "act-park-expected_version": accepted.version, "act-park-note": "需要财政立项",
        "act-park-review_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
    })
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == Status.PARKED and accepted.parked_until is not None


def test_merge_into_an_incident_the_user_cannot_see_is_refused(people, file_incident, city, road):
    hidden = services.incident_file(reporter=people.d2_command, category=road, title="东区的坑",
                                    lat=point(6, 2)[0], lng=point(6, 2)[1]).incident
    incident = file_incident()
    response = as_user(people.d1_command).post(act(incident, "merge"), {
        "act-merge-expected_version": incident.version, "act-merge-into": hidden.number,
    })
    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).status == Status.REPORTED


def test_a_unit_that_sends_an_incident_back_still_reads_it_but_may_no_longer_act(people, dispatched):
    handler = as_user(people.d1_police_handler)
    response = handler.post(act(dispatched, "unit_return"), {
        "act-unit_return-expected_version": dispatched.version, "act-unit_return-note": "不属于我局职责",
    })
    assert response.status_code == 302 and response.url == detail(dispatched)
    assert Incident.objects.get(pk=dispatched.pk).status == Status.ACCEPTED
    assert handler.get(detail(dispatched)).context["action_forms"] == []
    assert list(handler.get("/incidents/unit-queue/").context["page"].object_list) == []


def test_a_unit_whose_task_was_reassigned_is_offered_nothing_and_refused(people, dispatched, city):
    services.incident_reassign(incident=dispatched, actor=people.d1_command, unit=city.unit_city_urban)
    dispatched.refresh_from_db()
    handler = as_user(people.d1_police_handler)
    assert handler.get(detail(dispatched)).context["action_forms"] == []
    assert list(handler.get("/incidents/unit-queue/").context["page"].object_list) == []
    response = handler.post(act(dispatched, "report_back"), {
        "act-report_back-expected_version": dispatched.version, "act-report_back-note": "已处理",
    })
    assert response.status_code == 403
    assert Incident.objects.get(pk=dispatched.pk).lead_unit == city.unit_city_urban


# --- Photos ----------------------------------------------------------------------

def test_attachment_is_streamed_inline_privately_and_not_sniffed(people, file_incident):
    incident = file_incident(photos=[photo()])
    attachment = Attachment.objects.get(incident=incident)
    response = as_user(people.d1_command).get(f"/incidents/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    # the supervisor reads too; the neighbour street does not
    assert as_user(people.d1_supervisor).get(f"/incidents/attachments/{attachment.pk}/").status_code == 200
    assert as_user(people.s12_command).get(f"/incidents/attachments/{attachment.pk}/").status_code == 404


def test_uploads_have_no_public_address(people, file_incident, settings):
    incident = file_incident(photos=[photo()])
    name = Attachment.objects.get(incident=incident).file.name
    assert as_user(people.d1_command).get(f"{settings.MEDIA_URL}{name}").status_code == 404


# --- Filing without script -----------------------------------------------------------

def test_the_plain_form_files_one_incident_and_a_resent_form_no_second(people, road, settings):
    client = as_user(people.worker_g1111)
    data = filing_form(road, key="form-key-1")
    response = client.post("/incidents/new/", {**data, "photos": [photo()]})
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert response.url == detail(incident)
    assert incident.reporter == people.worker_g1111 and incident.idempotency_key == "form-key-1"
    assert incident.attachments.count() == 1

    again = client.post("/incidents/new/", {**data, "photos": [photo()]}, follow=True)
    assert again.status_code == 200
    assert Incident.objects.count() == 1 and Attachment.objects.count() == 1
    assert any("already received" in m for m in page_messages(again))
    # a new form is a new key: a new incident
    client.post("/incidents/new/", filing_form(road, key="form-key-2"))
    assert Incident.objects.count() == 2


def test_the_filing_form_gives_each_form_a_fresh_key(people):
    client = as_user(people.worker_g1111)
    first = client.get("/incidents/new/").context["form"]["idempotency_key"].value()
    second = client.get("/incidents/new/").context["form"]["idempotency_key"].value()
    assert first and second and first != second


@pytest.mark.parametrize("change, field, words", [
    ({"lat": 40.0, "lng": 100.0}, "lat", "outside the city"),
    ({"category": ""}, "category", "required"),
    ({"title": ""}, "title", "required"),
    ({"lat": ""}, "lat", "Pick the place"),
])
def test_bad_input_re_renders_the_form_and_stores_nothing(people, road, settings, change, field, words):
    response = as_user(people.worker_g1111).post("/incidents/new/", {**filing_form(road), **change,
                                                                    "photos": [photo()]})
    assert response.status_code == 200
    form = response.context["form"]
    assert words in " ".join(form.errors[field])
    assert words in response.content.decode()
    assert form["idempotency_key"].value() == "key-0001"  # the retry keeps the key
    assert Incident.objects.count() == 0 and Attachment.objects.count() == 0
    assert stored_files(settings) == []


def test_a_file_that_is_not_an_image_is_refused_and_nothing_stored(people, road, settings):
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a picture", content_type="image/jpeg")
    response = as_user(people.worker_g1111).post("/incidents/new/", {**filing_form(road), "photos": [photo(), fake]})
    assert response.status_code == 200
    assert "not an image" in " ".join(response.context["form"].errors["photos"])
    assert Incident.objects.count() == 0 and Attachment.objects.count() == 0
    assert stored_files(settings) == []


def test_a_grid_worker_cannot_file_in_a_neighbour_grid(people, road):
    response = as_user(people.worker_g1111).post("/incidents/new/", filing_form(road, at=(3, 2)))
    assert response.status_code == 200
    assert "only file incidents in your own grids" in " ".join(response.context["form"].errors["lat"])
    assert Incident.objects.count() == 0


def test_a_major_category_is_not_a_choice(people, road):
    response = as_user(people.worker_g1111).post("/incidents/new/", {**filing_form(road),
                                                                    "category": road.parent_id})
    assert response.status_code == 200
    assert "category" in response.context["form"].errors
    assert Incident.objects.count() == 0


def test_an_oversized_photo_is_refused_next_to_the_photos(people, road, settings):
    settings.INCIDENT_PHOTO_MAX_BYTES = 200
    response = as_user(people.worker_g1111).post("/incidents/new/", {**filing_form(road),
                                                                    "photos": [photo(size=(400, 300))]})
    assert response.status_code == 200
    assert "larger than" in " ".join(response.context["form"].errors["photos"])
    assert Incident.objects.count() == 0 and stored_files(settings) == []


def test_empty_filters_say_all_not_dashes(people, settings):
    from django.utils import translation

    client = Client()
    client.force_login(people.d1_command)
    with translation.override("en"):
        html = client.get("/incidents/queue/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name, label in [("category", "All categories"), ("level", "All levels"), ("region", "All my territory")]:
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
        first = re.search(r"<option[^>]*>([^<]*)</option>", select).group(1)
        assert first == label, (name, first)
        assert "---------" not in select
