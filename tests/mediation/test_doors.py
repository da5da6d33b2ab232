"""Every door of a case through the permission matrix; party data masked by role; every reveal audited."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from governance.access.models import PersonalDataReveal
from governance.core.testing import PermissionMatrix, api_client, page_client
from mediation.models import Case, RiskLevel, Status

pytestmark = pytest.mark.django_db


def status_of(case):
    return lambda: Case.objects.get(pk=case.pk).status


def test_a_case_through_its_doors(s11_case, people, mw):
    # allowed: the street's mediator; read-only: the district command centre, the supervisor; outside: the
    # neighbour street's mediator and command centre, the other district
    matrix = PermissionMatrix(allowed=[people.s11_mediator],
                              read_only=[people.d1_command, people.s11_command, people.d1_supervisor],
                              outside=[mw.s12_mediator, people.s12_command, people.d2_command])
    matrix.read(f"/mediation/{s11_case.pk}/")
    matrix.read(f"/api/v1/mediation/cases/{s11_case.pk}/", api=True)
    matrix.act(f"/api/v1/mediation/cases/{s11_case.pk}/accept/", api=True, data={}, snapshot=status_of(s11_case))
    assert status_of(s11_case)() == Status.ACCEPTED
    matrix.act(f"/mediation/{s11_case.pk}/act/record_session/",
               data={"record_session-held_at": "2026-12-01T10:00", "record_session-place": "调解室",
                     "record_session-version": 2}, snapshot=status_of(s11_case))
    assert status_of(s11_case)() == Status.IN_MEDIATION


def test_a_grid_worker_sees_a_case_in_their_grid_and_no_other(register_case, city, people, s11_case):
    in_grid = register_case(region=city.g1111, title="网格内纠纷")
    PermissionMatrix(read_only=[people.worker_g1111]).read(f"/mediation/{in_grid.pk}/")
    PermissionMatrix(outside=[people.worker_g1111], anonymous=False).read(f"/mediation/{s11_case.pk}/")
    response = api_client(people.worker_g1111).post(f"/api/v1/mediation/cases/{in_grid.pk}/accept/", {},
                                                    content_type="application/json")
    assert response.status_code == 403


def test_lists_answer_only_what_the_door_allows(s11_case, s12_case, people, mw):
    def numbers(user):
        body = api_client(user).get("/api/v1/mediation/cases/").json()
        return {row["number"] for row in body["results"]}

    assert numbers(people.s11_mediator) == {s11_case.number}
    assert numbers(mw.s12_mediator) == {s12_case.number}
    assert numbers(people.d1_command) == {s11_case.number, s12_case.number}
    assert numbers(people.d2_command) == set()
    page = page_client(people.s11_mediator).get("/mediation/workbench/")
    assert page.status_code == 200 and s11_case.number in page.content.decode() and s12_case.number not in (
        page.content.decode())
    assert page_client(people.d1_supervisor).get("/mediation/workbench/").status_code == 403


def test_the_dispute_list_filters_by_risk_and_type(s11_case, s12_case, people, mw):
    client = page_client(people.d1_command)
    red = client.get("/mediation/", {"risk": "red"}).content.decode()
    assert s12_case.number in red and s11_case.number not in red
    typed = client.get("/api/v1/mediation/cases/", {"dispute_type": mw.labour.pk}).json()
    assert typed["count"] == 0
    bad = client.get("/api/v1/mediation/cases/", {"risk": "purple"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_party_data_is_masked_in_pages_and_api_for_everyone(s11_case, people):
    for user in (people.s11_mediator, people.d1_command):
        body = api_client(user).get(f"/api/v1/mediation/cases/{s11_case.pk}/").json()
        parties = {p["role"]: p for p in body["parties"]}
        assert parties["applicant"]["id_number"] == "440507********1234"
        assert parties["applicant"]["phone"] == "138****5678"
        assert parties["applicant"]["name"] == "张*"
        page = page_client(user).get(f"/mediation/{s11_case.pk}/").content.decode()
        assert "13812345678" not in page and "440507199001011234" not in page and "138****5678" in page


def test_the_cases_mediators_see_parties_whole_on_request_and_it_is_recorded(s11_case, people):
    from mediation import services

    services.case_accept(case=s11_case, actor=people.s11_mediator)
    response = api_client(people.s11_mediator).post(f"/api/v1/mediation/cases/{s11_case.pk}/reveal-parties/",
                                                    json.dumps({"reason": "电话通知调解时间"}),
                                                    content_type="application/json")
    assert response.status_code == 200
    assert {p["phone"] for p in response.json()} == {"13812345678", "13900001111"}
    reveal = PersonalDataReveal.objects.get(subject_type="mediation_case", subject_id=s11_case.pk)
    assert reveal.user == people.s11_mediator and reveal.reason == "电话通知调解时间" and reveal.channel == "api"
    client = page_client(people.s11_mediator)
    assert client.post(f"/mediation/{s11_case.pk}/reveal-parties/", {"reason": "核对身份"}).status_code == 302
    assert "440507199001011234" in client.get(f"/mediation/{s11_case.pk}/").content.decode()
    assert PersonalDataReveal.objects.filter(subject_id=s11_case.pk, channel="page").count() == 1


def test_who_sees_the_case_but_is_not_its_mediator_may_not_reveal(s11_case, people, mw):
    # the command centre sees the case; the organisation's other mediator is not on this case yet
    from mediation import services

    services.case_accept(case=s11_case, actor=people.s11_mediator)
    for user in (people.d1_command, mw.s11_mediator2):
        response = api_client(user).post(f"/api/v1/mediation/cases/{s11_case.pk}/reveal-parties/",
                                         json.dumps({"reason": "好奇"}), content_type="application/json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "no_personal_data"
    # the territory's administrator may
    response = api_client(mw.d1_admin).post(f"/api/v1/mediation/cases/{s11_case.pk}/reveal-parties/",
                                            json.dumps({"reason": "核查"}), content_type="application/json")
    assert response.status_code == 200
    assert PersonalDataReveal.objects.filter(subject_id=s11_case.pk).count() == 1


def test_api_errors_have_the_documented_shape(s11_case, people):
    client = api_client(people.s11_mediator)
    response = client.post(f"/api/v1/mediation/cases/{s11_case.pk}/fail/", {}, content_type="application/json")
    assert response.status_code == 400 and set(response.json()["error"]) == {"code", "message", "fields"}
    response = client.post(f"/api/v1/mediation/cases/{s11_case.pk}/close/", {}, content_type="application/json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "transition_not_allowed"
    response = client.post(f"/api/v1/mediation/cases/{s11_case.pk}/set-risk/",
                           json.dumps({"level": "red", "note": "升级", "version": 99}), content_type="application/json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert Case.objects.get(pk=s11_case.pk).risk_level == RiskLevel.GREEN


def test_registering_through_the_api(city, people, mw):
    client = api_client(people.s11_mediator)
    response = client.post("/api/v1/mediation/cases/", json.dumps({
        "title": "工资拖欠", "dispute_type": mw.labour.pk, "region": city.c111.pk,
        "organisation": city.unit_s11_mediation.pk, "amount": "12000.50", "risk_level": "yellow",
        "risk_reason": "人数较多", "parties": [{"role": "applicant", "name": "王五", "phone": "13700000000"}]}),
        content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "registered" and body["amount"] == "12000.50"
    assert body["parties"][0]["phone"] == "137****0000"
    # the neighbour street's organisation is not one a s11 mediator may pick
    response = client.post("/api/v1/mediation/cases/", json.dumps({
        "title": "x", "dispute_type": mw.labour.pk, "region": city.c111.pk, "organisation": mw.s12_org.pk}),
        content_type="application/json")
    assert response.status_code == 400 and "organisation" in response.json()["error"]["fields"]


def test_the_agreement_page_form_takes_obligations_and_a_scanned_file(s11_case, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mediation import services

    services.case_accept(case=s11_case, actor=people.s11_mediator)
    services.case_record_session(case=s11_case, actor=people.s11_mediator, held_at=timezone.now(), place="调解室")
    respondent = s11_case.parties.get(role="respondent")
    client = page_client(people.s11_mediator)
    response = client.post(f"/mediation/{s11_case.pk}/act/record_agreement/", {
        "record_agreement-version": 3, "record_agreement-terms": "赔偿 3000 元",
        "record_agreement-signed_on": timezone.localdate().isoformat(),
        "record_agreement-obligations-0-party": respondent.pk,
        "record_agreement-obligations-0-description": "支付 3000 元",
        "record_agreement-obligations-0-due_on": "2026-12-31",
        "record_agreement-file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf"),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(pk=s11_case.pk)
    assert case.status == Status.AGREEMENT and case.agreement.obligations.get().party == respondent
    download = client.get(f"/mediation/{case.pk}/agreement-file/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert page_client(people.s12_command).get(f"/mediation/{case.pk}/agreement-file/").status_code == 404


def test_a_scanned_agreement_that_is_not_a_pdf_or_image_is_refused(s11_case, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mediation import services

    services.case_accept(case=s11_case, actor=people.s11_mediator)
    services.case_record_session(case=s11_case, actor=people.s11_mediator, held_at=timezone.now(), place="调解室")
    response = page_client(people.s11_mediator).post(f"/mediation/{s11_case.pk}/act/record_agreement/", {
        "record_agreement-terms": "x", "record_agreement-signed_on": timezone.localdate().isoformat(),
        "record_agreement-file": SimpleUploadedFile("scan.pdf", b"MZ\x90\x00evil", content_type="application/pdf")})
    assert response.status_code == 400
    assert Case.objects.get(pk=s11_case.pk).status == Status.IN_MEDIATION


def test_pages_render_for_their_users(s11_case, s12_case, people):
    client = page_client(people.d1_command)
    for url in ("/mediation/", "/mediation/figures/", f"/mediation/{s11_case.pk}/", "/mediation/new/"):
        assert client.get(url).status_code == 200, url
    figures = client.get("/api/v1/mediation/figures/").json()
    assert figures["total"] == 2 and figures["red_open"] == 1
    assert page_client(people.d1_supervisor).get("/mediation/new/").status_code == 403


def test_the_map_counts_open_and_red_cases_by_street_within_scope(s11_case, s12_case, people, city):
    rows = {r["name"]: r for r in api_client(people.d1_command).get("/api/v1/mediation/map/").json()}
    assert rows == {city.s11.name: {**rows[city.s11.name], "open": 1, "red": 0},
                    city.s12.name: {**rows[city.s12.name], "open": 1, "red": 1}}
    assert api_client(people.s11_mediator).get("/api/v1/mediation/map/").json()[0]["name"] == city.s11.name
    assert api_client(people.d2_command).get("/api/v1/mediation/map/").json() == []


def test_the_agreement_through_the_api_is_a_form_with_obligations_as_json(s11_case, people):
    from mediation import services

    services.case_accept(case=s11_case, actor=people.s11_mediator)
    services.case_record_session(case=s11_case, actor=people.s11_mediator, held_at=timezone.now(), place="调解室")
    respondent = s11_case.parties.get(role="respondent")
    client = api_client(people.s11_mediator)
    response = client.post(f"/api/v1/mediation/cases/{s11_case.pk}/record-agreement/", {
        "terms": "赔偿 3000 元", "signed_on": timezone.localdate().isoformat(),
        "obligations": json.dumps([{"party": respondent.pk, "description": "支付", "due_on": "2026-12-31"}])})
    assert response.status_code == 200, response.content
    assert response.json()["obligations"][0]["description"] == "支付"
    assert response.json()["status"] == "agreement"


def test_the_dispute_cases_link_is_for_those_who_work_disputes_and_the_list_stays_open_to_viewers(
        register_case, city, people, mw):
    in_grid = register_case(region=city.g1111, title="网格内纠纷")
    link = 'href="/mediation/"'

    def top_bar(user) -> str:
        return page_client(user).get("/", follow=True).content.decode().split("</header>", 1)[0]

    for user in (people.s11_mediator, people.d1_command, people.d1_supervisor, mw.d1_admin):
        assert link in top_bar(user), user.username
    # A grid worker and a unit handler do not work disputes: no link in their bar, yet the list answers
    # them, scoped (the grid worker's own grid's case).
    for user in (people.worker_g1111, people.d1_police_handler):
        assert link not in top_bar(user), user.username
    response = page_client(people.worker_g1111).get("/mediation/")
    assert response.status_code == 200 and in_grid.number in response.content.decode()
    assert page_client(people.d1_police_handler).get("/mediation/").status_code == 200
