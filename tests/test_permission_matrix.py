"""Every door of an incident, a region, an alert and an export job, tried by every kind of persona.

The matrix (``governance.core.testing.PermissionMatrix``): the allowed persona acts, the read-only one
sees and gets 403 on writes, the outsider gets 404 everywhere, the anonymous visitor is sent to log in
(pages) or gets 401 (API). Later apps run their own objects through the same helper.
"""

from __future__ import annotations

import pytest

from governance.alerts.models import Alert
from governance.core.testing import PermissionMatrix
from governance.exports.models import ExportJob
from grids.models import Region
from incidents.models import Incident
from tests.dashboards.conftest import world  # noqa: F401  (the incident world)
from tests.incidents.conftest import categories, fire_exit, noise, road  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_reported_incident_through_its_doors(request, people):
    incident = request.getfixturevalue("world").reported  # G1111, held by community C111
    matrix = PermissionMatrix(allowed=[people.s11_command], read_only=[people.d1_supervisor],
                              outside=[people.d2_command])
    matrix.read(f"/incidents/{incident.pk}/")
    matrix.read(f"/api/v1/incidents/{incident.pk}/", api=True)
    status = lambda: Incident.objects.get(pk=incident.pk).status  # noqa: E731
    matrix.act(f"/api/v1/incidents/{incident.pk}/accept/", api=True, data={}, snapshot=status)
    assert status() == "accepted"
    matrix.act(f"/incidents/{incident.pk}/act/park/", data={"act-park-expected_version": 2, "act-park-note": "长期",
                                                            "act-park-review_on": "2099-01-01"}, snapshot=status)
    assert status() == "parked"


def test_a_region_through_its_doors(city, people):
    matrix = PermissionMatrix(allowed=[people.d1_command], read_only=[people.d1_supervisor],
                              outside=[people.d2_command])
    matrix.read(f"/territory/regions/{city.s11.pk}/")
    matrix.read(f"/api/v1/regions/{city.s11.pk}/", api=True)


def test_a_region_in_the_admin_for_its_administrator(city, people):
    from tests.factories import make_user

    d1_admin = make_user("d1_admin", role="administrator", region=city.d1)
    d2_admin = make_user("d2_admin", role="administrator", region=city.d2)
    matrix = PermissionMatrix(allowed=[d1_admin], outside=[d2_admin])
    matrix.read(f"/admin/grids/region/{city.s11.pk}/history/")
    name = lambda: Region.objects.get(pk=city.s11.pk).name  # noqa: E731
    history = city.s11.history.latest("history_date").history_id
    # a past version is read, never posted back; the neighbour district's administrator does not find it
    PermissionMatrix(read_only=[d1_admin], outside=[d2_admin]).act(
        f"/admin/grids/region/{city.s11.pk}/history/{history}/", data={"name": "改名"}, snapshot=name)


def test_an_alert_through_its_doors(request, people):
    alert = request.getfixturevalue("world").alert_d1  # addressed to community C111's command centre
    matrix = PermissionMatrix(allowed=[people.s11_command], read_only=[people.d1_supervisor, people.worker_g1111],
                              outside=[people.d2_command])
    matrix.read(f"/alerts/{alert.pk}/")
    acknowledged = lambda: Alert.objects.get(pk=alert.pk).acknowledged_by_id  # noqa: E731
    matrix.act(f"/api/v1/map/alerts/{alert.pk}/acknowledge/", api=True, data={}, snapshot=acknowledged)
    assert acknowledged() == people.s11_command.pk


def test_an_alert_acknowledged_on_its_page_by_the_district(request, people):
    alert = request.getfixturevalue("world").alert_d1
    matrix = PermissionMatrix(allowed=[people.d1_command], read_only=[people.d1_supervisor],
                              outside=[people.s12_command])
    acknowledged = lambda: Alert.objects.get(pk=alert.pk).acknowledged_by_id  # noqa: E731
    matrix.act(f"/alerts/{alert.pk}/acknowledge/", data={}, snapshot=acknowledged)
    assert acknowledged() == people.d1_command.pk


def test_an_export_belongs_to_its_owner_alone(request, people):
    request.getfixturevalue("world")
    export = ExportJob.objects.create(owner=people.d1_command, kind="incidents", fmt="csv",
                                      options={"columns": ["number"]}, file_name="incidents.csv")
    matrix = PermissionMatrix(allowed=[people.d1_command], outside=[people.d1_supervisor, people.d2_command])
    matrix.read(f"/exports/{export.pk}/")
    matrix.read(f"/api/v1/exports/{export.pk}/", api=True)
    matrix.read(f"/exports/{export.pk}/download/", ok=302)  # not written yet: its page says so


def test_an_export_file_through_its_doors(request, people):
    request.getfixturevalue("world")
    jobs = ExportJob.objects.count
    # Asking for the triage queue's export: those who triage may; a supervisor sees the incidents but may not.
    matrix = PermissionMatrix(allowed=[people.d1_command], read_only=[people.d1_supervisor])
    matrix.act("/exports/new/triage_queue/", data={"format": "csv"}, ok=[200], snapshot=jobs)
    export = ExportJob.objects.get()
    assert export.status == "done"
    # The file is its owner's alone; a superuser does not open it either.
    matrix = PermissionMatrix(allowed=[people.d1_command], outside=[people.d2_command, people.city_admin])
    matrix.read(f"/exports/{export.pk}/download/")
    matrix.read(f"/exports/{export.pk}/")
    matrix.read(f"/api/v1/exports/{export.pk}/", api=True)


def test_a_photo_and_its_thumbnail_through_their_doors(people, road):  # noqa: F811
    from incidents import services
    from tests.factories import point
    from tests.incidents.conftest import photo

    lat, lng = point(1, 2)  # G1111
    incident = services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                      photos=[photo()]).incident
    attachment = incident.attachments.get()
    matrix = PermissionMatrix(allowed=[people.s11_command, people.worker_g1111], read_only=[people.d1_supervisor],
                              outside=[people.d2_command, people.s12_command])
    matrix.read(f"/incidents/attachments/{attachment.pk}/")
    matrix.read(f"/incidents/attachments/{attachment.pk}/thumbnail/")
