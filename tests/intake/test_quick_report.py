"""The resident's page behind a grid's QR code: files into that grid, answers a tracking code, leaks nothing."""

import re

import pytest
from django.urls import reverse

from governance.core.authority import SYSTEM
from governance.core.testing import page_client
from incidents.models import Attachment, Incident, Source, Status
from incidents.services import incident_accept
from intake import services
from intake.models import Submission

from .conftest import jpeg, photo, stored_files

pytestmark = pytest.mark.django_db


def url(token):
    return reverse("intake:quick-report", args=[token])


def report(client, token, category, **extra):
    data = {"category": category.pk, "description": "小区门口深夜施工噪音很大\n持续一周", **extra}
    return client.post(url(token), data, **{k: v for k, v in extra.items() if k.isupper()})


def test_the_page_opens_without_login_and_offers_resident_categories(client, token, noise, suspicious):
    response = client.get(url(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "南一网格" in html and 'name="viewport"' in html
    assert f'value="{noise.pk}"' in html and f'value="{suspicious.pk}"' not in html


def test_a_revoked_or_forged_sign_is_a_404(client, sign, token, noise):
    assert client.get(url(token[:-2] + "xx")).status_code == 404
    services.sign_revoke(sign=sign, acting_user=SYSTEM)
    assert client.get(url(token)).status_code == 404
    assert client.post(url(token), {"category": noise.pk, "description": "x"}).status_code == 404
    assert not Incident.objects.exists()


def test_a_report_lands_in_the_signs_grid_with_a_tracking_code(client, city, sign, token, noise, settings):
    response = client.post(url(token), {"category": noise.pk, "description": "深夜施工噪音", "phone": "13800001234",
                                        "photo": photo(), "lat": "", "lng": ""})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert response["Location"] == reverse("intake:track-code", args=[submission.tracking_code]) + "?new=1"
    incident = submission.incident
    assert (incident.grid, incident.source, incident.status) == (city.g1111, Source.QUICK_REPORT, Status.REPORTED)
    assert incident.reporter is None and incident.reporter_phone == "13800001234"
    assert (incident.lat, incident.lng) == (city.g1111.centroid_lat, city.g1111.centroid_lng)  # no location given
    assert submission.sign == sign and submission.client and "127.0.0.1" not in submission.client
    assert Attachment.objects.filter(incident=incident).count() == 1
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{12}", submission.tracking_code)


def test_a_location_across_the_border_still_goes_to_the_signs_grid(client, city, token, noise):
    from tests.factories import point

    lat, lng = point(2.5, 1)  # in the neighbour grid G1112
    assert client.post(url(token), {"category": noise.pk, "description": "x", "lat": lat, "lng": lng}).status_code \
        == 302
    incident = Incident.objects.get()
    assert incident.grid == city.g1111 and (incident.lat, incident.lng) == (lat, lng)


def test_nobody_outside_the_territory_sees_it(client, city, people, token, noise):
    client.post(url(token), {"category": noise.pk, "description": "噪音"})
    incident = Incident.objects.get()
    for insider in (people.worker_g1111, people.s11_command, people.d1_command, people.city_admin):
        assert Incident.objects.restrict(insider).filter(pk=incident.pk).exists()
        assert page_client(insider).get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    for outsider in (people.s12_command, people.d2_command, people.d1_police_handler, people.nobody):
        assert not Incident.objects.restrict(outsider).filter(pk=incident.pk).exists()
        assert page_client(outsider).get(reverse("incidents:detail", args=[incident.pk])).status_code == 404
    assert page_client(None).get(reverse("incidents:detail", args=[incident.pk])).status_code in (302, 404)


def test_the_tracking_page_shows_status_and_final_reply_only(client, city, people, token, noise):
    client.post(url(token), {"category": noise.pk, "description": "噪音扰民严重", "phone": "13800001234"})
    submission = Submission.objects.get()
    incident = submission.incident
    people.s11_command.first_name, people.s11_command.last_name = "伟", "张"
    people.s11_command.save()
    page = client.get(reverse("intake:track-code", args=[submission.tracking_code])).content.decode()
    assert "等待受理" in page or "Received" in page
    incident_accept(incident=incident, actor=people.s11_command, note="内部备注：交城管")
    from incidents.services import incident_void

    incident_void(incident=Incident.objects.get(pk=incident.pk), actor=people.s11_command,
                  note="经核实为持证夜间施工，已告知施工方控制噪音。")
    page = client.get(reverse("intake:track-code", args=[submission.tracking_code.lower()])).content.decode()
    assert "经核实为持证夜间施工" in page  # the final reply
    for secret in ("内部备注", "张伟", "s11_command", "13800001234", incident.number, "南街道"):
        assert secret not in page


def test_an_unknown_tracking_code_says_so(client):
    response = client.get(reverse("intake:track-code", args=["AAAABBBBCCCC"]))
    body = response.content.decode()
    assert response.status_code == 404
    assert "tracking code" in body.lower() or "查询码" in body


def test_a_category_residents_may_not_use_is_refused(client, token, suspicious):
    response = client.post(url(token), {"category": suspicious.pk, "description": "x"})
    assert response.status_code == 400 and not Incident.objects.exists()


def test_the_honeypot_files_nothing(client, token, noise):
    response = client.post(url(token), {"category": noise.pk, "description": "buy now", "website": "http://spam"})
    assert response.status_code == 400
    assert not Incident.objects.exists() and not Submission.objects.exists()


def test_a_photo_over_the_limit_is_refused_and_nothing_is_written(client, token, noise, settings):
    settings.INTAKE_PHOTO_MAX_BYTES = 2000
    big = jpeg(size=(400, 300), color=(10, 200, 90))
    assert len(big) > 2000
    response = client.post(url(token), {"category": noise.pk, "description": "x", "photo": photo(content=big)})
    assert response.status_code == 400
    assert not Incident.objects.exists() and not Submission.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_failure_after_the_photo_was_stored_leaves_nothing_behind(client, token, noise, settings, monkeypatch):
    def broken(**fields):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_new_submission", broken)
    client.raise_request_exception = False
    response = client.post(url(token), {"category": noise.pk, "description": "x", "photo": photo()})
    assert response.status_code == 500
    assert not Incident.objects.exists() and not Attachment.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_not_an_image_is_refused_with_a_message(client, token, noise, settings):
    response = client.post(url(token), {"category": noise.pk, "description": "x",
                                        "photo": photo(name="x.jpg", content=b"not an image at all")})
    assert response.status_code == 400 and not Incident.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_burst_from_one_client_is_cut_at_its_limit(client, token, noise, settings):
    settings.INTAKE_RATE_PER_CLIENT = "3/86400"  # a day: a burst never straddles two windows
    answers = [client.post(url(token), {"category": noise.pk, "description": f"第{i}次"}).status_code
               for i in range(8)]
    assert answers == [302, 302, 302, 429, 429, 429, 429, 429]
    assert Incident.objects.count() == 3


def test_a_burst_on_one_grid_from_many_clients_is_cut_at_the_grids_limit(client, city, token, noise, settings):
    settings.INTAKE_RATE_PER_GRID = "4/86400"  # a day: a burst never straddles two windows
    answers = [client.post(url(token), {"category": noise.pk, "description": f"第{i}次"},
                           REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(7)]
    assert answers == [302] * 4 + [429] * 3
    other = services.sign_token(services.sign_in_force(grid=city.g1112, acting_user=SYSTEM))
    assert client.post(url(other), {"category": noise.pk, "description": "别的网格"},
                       REMOTE_ADDR="10.0.1.1").status_code == 302  # another grid has its own budget
    assert Incident.objects.count() == 5


def test_tracking_lookups_are_rate_limited(client, settings):
    settings.INTAKE_RATE_TRACKING = "3/86400"  # a day: a burst never straddles two windows
    codes = [client.get(reverse("intake:track-code", args=[f"AAAABBBBCC{i:02d}"])).status_code for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_staff_see_the_report_came_from_a_resident(client, people, token, noise):
    client.post(url(token), {"category": noise.pk, "description": "噪音"})
    incident = Incident.objects.get()
    page = page_client(people.s11_command, language="en").get(reverse("incidents:detail", args=[incident.pk]))
    timeline = page.content.decode().split('class="event-meta"')[1]
    assert "Resident quick report" in timeline.split("</div>")[0]


def test_a_refused_flood_costs_no_query(client, token, noise, settings, django_assert_num_queries):
    settings.INTAKE_RATE_PER_CLIENT = "1/86400"  # a day: a burst never straddles two windows
    assert client.post(url(token), {"category": noise.pk, "description": "一"}).status_code == 302
    with django_assert_num_queries(0):
        assert client.post(url(token), {"category": noise.pk, "description": "二"}).status_code == 429
    # made-up tokens count towards the same client's limit
    assert client.post(url("1.abc.forged"), {"description": "x"}).status_code == 429


def test_the_client_is_the_proxys_last_address_only_behind_a_trusted_proxy(rf, settings):
    from intake.ratelimit import client_address

    request = rf.post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.INTAKE_TRUST_PROXY = False
    assert client_address(request) == "10.0.0.1"  # a client cannot pick its own address
    settings.INTAKE_TRUST_PROXY = True
    assert client_address(request) == "203.0.113.9"  # what nginx appended: the address it saw


def test_the_report_is_in_the_grids_queues_and_only_there(client, people, token, noise):
    client.post(url(token), {"category": noise.pk, "description": "噪音"})
    number = Incident.objects.get().number
    for who, page in [(people.s11_command, "incidents:queue"), (people.d1_command, "incidents:queue"),
                      (people.worker_g1111, "incidents:list")]:
        assert number in page_client(who).get(reverse(page)).content.decode(), (who, page)
    for who in (people.s12_command, people.d2_command):
        assert number not in page_client(who).get(reverse("incidents:queue")).content.decode()


def resident_header_and_links(page: str) -> tuple[str, list[str]]:
    header = re.search(r"<header[^>]*>(.*?)</header>", page, re.S).group(1)
    return header, re.findall(r'href="([^"]*)"', page)


def test_the_residents_pages_have_the_city_and_title_and_no_staff_menu_or_links(client, people, token, noise,
                                                                                 settings):
    settings.CITY_NAME = "汕头市"
    settings.INTAKE_RATE_PER_CLIENT = "1/86400"  # one report a day from this client: its second is refused
    client.post(url(token), {"category": noise.pk, "description": "噪音扰民严重"})
    code = Submission.objects.get().tracking_code
    pages = {url(token): "Quick report",  # the form, the thank-you page, the look-up form
             reverse("intake:track-code", args=[code]) + "?new=1": "Follow a report",
             reverse("intake:track"): "Follow a report"}
    for visitor in (client, page_client(people.s11_command, language="en")):  # staff, too, see the resident's page
        for path, title in pages.items():
            page = visitor.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            header, links = resident_header_and_links(page)
            assert "汕头市" in header and f'<p class="resident-title">{title}</p>' in header, path
            for staff in ("menu-toggle", "nav-links", 'id="topnav"', "<nav", "js/topbar.js", "Log out",
                          "set_language", "/i18n/"):
                assert staff not in page, (path, staff)
            assert links and all(link == "#main" or link.startswith(("/static/", "/q/")) for link in links), links
    refused = client.post(url(token), {"category": noise.pk, "description": "再报一次"})
    assert refused.status_code == 429
    header, links = resident_header_and_links(refused.content.decode())
    assert "menu-toggle" not in refused.content.decode() and 'class="resident-title"' in header
    assert all(link == "#main" or link.startswith(("/static/", "/q/")) for link in links), links
