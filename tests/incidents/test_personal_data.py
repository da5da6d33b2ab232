"""A reporting resident's name and phone: masked everywhere, whole on request to those the policy allows, and
every reveal recorded (who saw whose data, when, why) on the page, in the API and in exports alike."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from governance.access.models import PersonalDataReveal
from governance.access.personal_data import may_reveal
from governance.core.testing import PermissionMatrix, api_client, body_of, page_client
from incidents import personal_data, services
from tests.dashboards.conftest import world  # noqa: F401
from tests.factories import make_user

pytestmark = pytest.mark.django_db

NAME, PHONE = "张三", "13812345678"


@pytest.fixture
def incident(request):
    return request.getfixturevalue("world").reported  # filed by the G1111 worker with 张三 13812345678


def test_the_policy_is_the_reporter_and_those_who_act_on_it_now(incident, people, city):
    allowed = [people.worker_g1111, people.s11_command, people.d1_command, people.city_admin]
    refused = [people.d1_supervisor, people.s12_command, people.d2_command, people.d1_police_handler, people.nobody]
    assert [may_reveal(u, "incident", incident) for u in allowed] == [True] * len(allowed)
    assert [may_reveal(u, "incident", incident) for u in refused] == [False] * len(refused)
    services.incident_accept(incident=incident, actor=people.s11_command)
    services.incident_dispatch(incident=incident, actor=people.s11_command, unit=city.unit_d1_police)
    assert may_reveal(people.d1_police_handler, "incident", incident), "the unit handling it now"


@pytest.mark.parametrize("who", ["s11_command", "d1_supervisor", "worker_g1111"])
def test_pages_and_the_api_mask_the_contact_for_everyone_until_asked(incident, people, who):
    user = getattr(people, who)
    page = page_client(user).get(reverse("incidents:detail", args=[incident.pk]))
    assert PHONE not in page.content.decode() and "138****5678" in page.content.decode()
    body = api_client(user).get(f"/api/v1/incidents/{incident.pk}/").json()
    assert (body["reporter_name"], body["reporter_phone"]) == ("张*", "138****5678")


def test_revealing_on_the_page_needs_a_reason_and_is_recorded(incident, people):
    client = page_client(people.s11_command)
    url = reverse("incidents:reveal-contact", args=[incident.pk])
    client.post(url, {"reason": "  \u202e "})  # nothing but what cleaning removes
    assert not PersonalDataReveal.objects.exists()
    assert client.post(url, {"reason": "回访群众"}).status_code == 302
    reveal = PersonalDataReveal.objects.get()
    assert (reveal.user, reveal.subject_id, reveal.subject_label, reveal.reason, reveal.channel, reveal.fields) == (
        people.s11_command, incident.pk, incident.number, "回访群众", "page", list(personal_data.FIELDS))
    assert reveal.region == incident.grid
    html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert f"{NAME} {PHONE}" in html
    assert PHONE not in page_client(people.d1_command).get(reverse("incidents:detail", args=[incident.pk])) \
        .content.decode(), "one person's reveal shows nothing to anyone else"


def test_the_reveal_through_every_door(incident, people):
    recorded = lambda: PersonalDataReveal.objects.count()  # noqa: E731
    matrix = PermissionMatrix(allowed=[people.s11_command], read_only=[people.d1_supervisor],
                              outside=[people.d2_command])
    answer = matrix.act(f"/api/v1/incidents/{incident.pk}/reveal-contact/", api=True, data={"reason": "核实"},
                        ok=(200,), snapshot=recorded)
    assert answer.json() == {"reporter_name": NAME, "reporter_phone": PHONE}
    assert PersonalDataReveal.objects.get().channel == "api"
    PermissionMatrix(allowed=[people.d1_command], read_only=[people.d1_supervisor], outside=[people.d2_command]) \
        .act(reverse("incidents:reveal-contact", args=[incident.pk]), data={"reason": "回访"}, snapshot=recorded)
    assert recorded() == 2


def test_the_api_refuses_a_reveal_without_a_reason(incident, people):
    response = api_client(people.s11_command).post(f"/api/v1/incidents/{incident.pk}/reveal-contact/", {},
                                                  content_type="application/json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    assert not PersonalDataReveal.objects.exists()


def test_an_export_shows_whole_only_what_the_policy_allows_and_records_it(request, people):
    w = request.getfixturevalue("world")
    response = page_client(people.d1_command).post("/dashboards/map/export/", {
        "format": "csv", "columns": ["number", "reporter_name", "reporter_phone"]})
    rows = {r[0]: r for r in csv.reader(io.StringIO(body_of(response).decode("utf-8-sig")))}
    assert rows[w.reported.number][1:] == [NAME, PHONE]
    reveal = PersonalDataReveal.objects.get()
    assert reveal.channel == "export" and w.reported.pk in reveal.subjects and reveal.count == len(reveal.subjects)
    supervisor = page_client(people.d1_supervisor).post("/dashboards/map/export/", {
        "format": "csv", "columns": ["number", "reporter_name", "reporter_phone"]})
    rows = {r[0]: r for r in csv.reader(io.StringIO(body_of(supervisor).decode("utf-8-sig")))}
    assert rows[w.reported.number][1:] == ["张*", "138****5678"]
    assert PersonalDataReveal.objects.count() == 1, "nothing shown whole, nothing recorded"


def test_administrators_read_the_reveals_of_their_territory_on_the_audit_page(incident, people, city):
    page_client(people.s11_command).post(reverse("incidents:reveal-contact", args=[incident.pk]), {"reason": "回访"})
    d1_admin = make_user("d1_admin", role="administrator", region=city.d1)
    d2_admin = make_user("d2_admin", role="administrator", region=city.d2)
    assert incident.number in page_client(d1_admin).get("/audit/").content.decode()
    assert incident.number not in page_client(d2_admin).get("/audit/").content.decode()
