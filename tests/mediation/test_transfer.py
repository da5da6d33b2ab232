"""A dispute incident transferred to mediation in one action, the links both ways, and closing moves it on."""

from __future__ import annotations

import pytest
from django.utils import timezone

from governance.core.errors import PermissionDeniedError, TransitionNotAllowed
from governance.core.testing import api_client, page_client
from incidents.models import Event, Incident
from incidents.models import Status as IncidentStatus
from mediation import services
from mediation.models import Case, Source
from tests.incidents.conftest import categories, file_incident, road  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispute(categories, file_incident):  # noqa: F811
    return file_incident(category=categories.get(name="邻里纠纷"), title="邻居装修噪音纠纷", reporter_name="赵六",
                         reporter_phone="13612345678")


def test_a_dispute_incident_becomes_a_case_in_one_action(dispute, city, people, mw):
    case = services.case_transfer_from_incident(acting_user=people.s11_command, incident=dispute,
                                                dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)
    incident = Incident.objects.get(pk=dispute.pk)
    assert case.source == Source.INCIDENT and case.incident_id == incident.pk and case.region == incident.grid
    assert incident.status == IncidentStatus.PARKED and incident.parked_until == timezone.localdate(case.due_at)
    assert incident.handle_due_at is None  # its clock is paused while mediation works on it
    hand_over = Event.objects.get(incident=incident, action="hand_over")
    assert hand_over.data["reference"] == case.number
    # the reporting resident is the applicant
    assert case.parties.get().name == "赵六"
    # links both ways, on the pages
    incident_page = page_client(people.s11_command).get(f"/incidents/{incident.pk}/").content.decode()
    assert f"/mediation/{case.pk}/" in incident_page and case.number in incident_page
    case_page = page_client(people.s11_mediator).get(f"/mediation/{case.pk}/").content.decode()
    assert incident.number in case_page


def test_closing_the_case_closes_the_incident(dispute, city, people, mw):
    case = services.case_transfer_from_incident(acting_user=people.s11_command, incident=dispute,
                                                dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)
    services.case_accept(case=case, actor=people.s11_mediator)
    services.case_withdraw(case=case, actor=people.s11_mediator, note="申请人撤回")
    services.case_close(case=case, actor=people.s11_mediator)
    incident = Incident.objects.get(pk=dispute.pk)
    assert incident.status == IncidentStatus.CLOSED and incident.closed_at is not None
    concluded = Event.objects.get(incident=incident, action="handover_concluded")
    assert case.number in concluded.note and concluded.actor == people.s11_mediator


def test_an_incident_taken_back_meanwhile_is_not_closed_by_the_case(dispute, city, people, mw):
    from incidents.services import incident_unpark

    case = services.case_transfer_from_incident(acting_user=people.s11_command, incident=dispute,
                                                dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)
    incident_unpark(incident=dispute, actor=people.s11_command)
    services.case_withdraw(case=case, actor=people.s11_mediator, note="撤回")
    services.case_close(case=case, actor=people.s11_mediator)
    incident = Incident.objects.get(pk=dispute.pk)
    assert incident.status == IncidentStatus.ACCEPTED
    assert Event.objects.filter(incident=incident, action="handover_concluded").exists()


def test_only_the_command_centre_that_triages_it_may_transfer(dispute, city, people, mw):
    with pytest.raises(PermissionDeniedError):
        services.case_transfer_from_incident(acting_user=people.worker_g1111, incident=dispute,
                                             dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)
    assert Case.objects.count() == 0 and Incident.objects.get(pk=dispute.pk).status == IncidentStatus.REPORTED
    services.case_transfer_from_incident(acting_user=people.s11_command, incident=dispute,
                                         dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)
    with pytest.raises(TransitionNotAllowed):
        services.case_transfer_from_incident(acting_user=people.s11_command, incident=dispute,
                                             dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)


def test_the_incident_page_offers_the_transfer_and_the_page_does_it(dispute, road, file_incident, city, people, mw):  # noqa: F811
    client = page_client(people.s11_command)
    assert f"/mediation/transfer/{dispute.pk}/" in client.get(f"/incidents/{dispute.pk}/").content.decode()
    not_a_dispute = file_incident(category=road)
    assert "/mediation/transfer/" not in client.get(f"/incidents/{not_a_dispute.pk}/").content.decode()
    # the grid worker sees the incident, not the button
    assert "/mediation/transfer/" not in page_client(people.worker_g1111).get(
        f"/incidents/{dispute.pk}/").content.decode()
    assert page_client(people.worker_g1111).get(f"/mediation/transfer/{dispute.pk}/").status_code == 403
    response = client.post(f"/mediation/transfer/{dispute.pk}/", {
        "dispute_type": mw.neighbours.pk, "organisation": city.unit_s11_mediation.pk, "risk_level": "green"})
    assert response.status_code == 302
    case = Case.objects.get(incident=dispute)
    assert response["Location"] == f"/mediation/{case.pk}/"


def test_transfer_through_the_api(dispute, city, people, mw):
    import json

    from governance.core.testing import api_client

    response = api_client(people.s11_command).post(
        f"/api/v1/incidents/{dispute.pk}/transfer-to-mediation/",
        json.dumps({"dispute_type": mw.neighbours.pk, "organisation": city.unit_s11_mediation.pk}),
        content_type="application/json")
    assert response.status_code == 201 and response.json()["incident"] == dispute.number
    response = api_client(people.s12_command).post(
        f"/api/v1/incidents/{dispute.pk}/transfer-to-mediation/",
        json.dumps({"dispute_type": mw.neighbours.pk, "organisation": city.unit_s11_mediation.pk}),
        content_type="application/json")
    assert response.status_code == 404


def test_the_incident_api_answer_links_the_case_it_became(dispute, city, people, mw):
    case = services.case_transfer_from_incident(acting_user=people.s11_command, incident=dispute,
                                                dispute_type=mw.neighbours, organisation=city.unit_s11_mediation)
    answer = api_client(people.s11_command).get(f"/api/v1/incidents/{dispute.pk}/")
    assert answer.status_code == 200
    [link] = answer.json()["handovers"]
    assert link["kind"] == "mediation" and link["id"] == case.pk and link["number"] == case.number
    assert link["url"].endswith(f"/api/v1/mediation/cases/{case.pk}/")
    assert link["page_url"].endswith(f"/mediation/{case.pk}/")
    # the link leads somewhere the user may go
    assert api_client(people.s11_command).get(link["url"]).status_code == 200


def test_a_case_out_of_scope_is_not_named_on_the_incident(dispute, s12_case, people):
    # the incident's command centre (S11) sees the incident, but not a case of S12's committee
    Case.objects.filter(pk=s12_case.pk).update(incident=dispute)
    assert not Case.objects.restrict(people.s11_command).filter(pk=s12_case.pk).exists()
    answer = api_client(people.s11_command).get(f"/api/v1/incidents/{dispute.pk}/")
    assert answer.status_code == 200 and answer.json()["handovers"] == []
    assert s12_case.number not in answer.content.decode()
    page = page_client(people.s11_command).get(f"/incidents/{dispute.pk}/").content.decode()
    assert s12_case.number not in page and f"/mediation/{s12_case.pk}/" not in page
    # one who may see the case (the district above both streets) is shown it
    [link] = api_client(people.d1_command).get(f"/api/v1/incidents/{dispute.pk}/").json()["handovers"]
    assert link["number"] == s12_case.number
