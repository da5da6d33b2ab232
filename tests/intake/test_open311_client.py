"""A real Open311 client from PyPI, ``georeport`` 0.3.1, against the running portal, in JSON and XML.

georeport sends no key when it reads requests (it only passes ``jurisdiction_id``); like any client
built on ``requests`` it sends the credentials of a netrc file, which is how the key reaches the
portal here: HTTP Basic auth, password = the key (the portal's second way to present a key).
"""

import pytest
from georeport import GeoReport

from governance.core.authority import SYSTEM
from incidents.services import incident_file
from intake import services
from tests.factories import point

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(live_server, city, people, categories, tmp_path, monkeypatch):
    issued = services.api_key_issue(name="市民热线", unit=city.unit_d1_police, territory=city.d1, acting_user=SYSTEM)
    noise = categories.get(name="噪音扰民")
    filed = [incident_file(reporter=people.worker_g1111, category=noise, title=f"噪音{i}", description=f"第{i}处",
                           lat=point(1, 1 + i)[0], lng=point(1, 1 + i)[1]).incident for i in range(2)]
    east = incident_file(reporter=people.d2_command, category=noise, title="东区", lat=point(5, 1)[0],
                         lng=point(5, 1)[1]).incident
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine localhost login open311 password {issued.key}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    return {"root": f"{live_server.url}/open311/v2", "filed": filed, "east": east}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_services_and_reads_requests(served, fmt):
    client = GeoReport(served["root"], jurisdiction="440000", output_format=fmt)

    services_list = client.get_service_list()
    codes = {s["service_code"] for s in services_list}
    assert {"0502", "0601", "0701"} <= codes
    noise = next(s for s in services_list if s["service_code"] == "0502")
    assert noise["service_name"] == "噪音扰民" and str(noise["metadata"]).lower() == "true"

    definition = client.get_service_definition("0502")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert [a["code"] for a in attributes] == ["title", "severity"]

    requests_ = client.get_service_requests(status="open", service_code="0502")
    if isinstance(requests_, dict):  # xmltodict gives one request as a dict
        requests_ = [requests_]
    numbers = {r["service_request_id"] for r in requests_}
    assert numbers == {i.number for i in served["filed"]}  # the east district's is outside the key's territory

    one = client.get_service_request(served["filed"][0].number)
    assert one["service_request_id"] == served["filed"][0].number and one["description"] == "第0处"
    assert one["status"] == "open" and float(one["lat"]) == pytest.approx(served["filed"][0].lat)


def test_georeport_without_the_key_is_refused(served, monkeypatch):
    import requests

    monkeypatch.delenv("NETRC")
    monkeypatch.setenv("HOME", "/nonexistent")
    client = GeoReport(served["root"], output_format="json")
    assert client.get_service_list()  # services are public
    with pytest.raises(requests.HTTPError) as refused:
        client.get_service_requests()
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()[0]["code"] == 403
