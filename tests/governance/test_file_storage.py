"""Files where several nodes reach them: photos and exports in an S3-compatible store, as configured.

The store is a real S3 server on this machine (moto's, over HTTP), reached through django-storages
exactly as a city's MinIO or object storage would be. Every file goes in and out through the
storage API, and out to a browser only through the views that check scope: no URL of the store
is ever handed out.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.utils import timezone

from governance.exports import services as export_services
from governance.exports.models import ExportJob, ExportStatus
from governance.settings import file_storage
from incidents.attachments import reclaim_orphan_photos
from incidents.services import incident_file
from tests.dashboards.helpers import body_of, client_for
from tests.factories import point
from tests.incidents.conftest import categories, photo, road  # noqa: F401  (fixtures)
from tests.servers import S3Server, SilentServer, free_port

pytestmark = pytest.mark.django_db
PREFIX = "portal"


@pytest.fixture(scope="module")
def s3_server():
    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server, settings) -> str:
    """A fresh bucket, and the portal's default storage pointed at it (as FILE_STORAGE=s3 does)."""
    name = s3_server.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": file_storage(
        "s3", bucket=name, endpoint_url=s3_server.url, access_key=S3Server.ACCESS_KEY,
        secret_key=S3Server.SECRET_KEY, region=S3Server.REGION, prefix=PREFIX)}
    return name


def point_storage_at(settings, endpoint_url: str, bucket: str = "gone") -> None:
    settings.STORAGES = {**settings.STORAGES, "default": file_storage(
        "s3", bucket=bucket, endpoint_url=endpoint_url, access_key="x", secret_key="x", region="us-east-1",
        prefix=PREFIX, timeout=1)}


def test_the_default_storage_is_the_bucket(bucket, s3_server):
    name = default_storage.save("probe/a.txt", io.BytesIO(b"ok"))
    assert s3_server.read(bucket, f"{PREFIX}/{name}") == b"ok"
    assert default_storage.save("probe/a.txt", io.BytesIO(b"again")) != name, "never overwritten"


def test_a_photo_goes_to_the_bucket_and_comes_back_only_through_the_scoped_view(bucket, s3_server, city, people,
                                                                                 road, settings):  # noqa: F811
    lat, lng = point(1, 2)
    filing = incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                           photos=[photo()])
    attachment = filing.attachments[0]
    key, thumb = f"{PREFIX}/{attachment.file.name}", f"{PREFIX}/{attachment.thumbnail.name}"
    assert sorted(s3_server.keys(bucket, f"{PREFIX}/incidents/")) == sorted([key, thumb]), "the photo and its thumbnail"
    assert not (settings.MEDIA_ROOT / "incidents").exists(), "nothing on the web node's disk"
    for path, stored in ((f"/incidents/attachments/{attachment.pk}/", key),
                         (f"/incidents/attachments/{attachment.pk}/thumbnail/", thumb)):
        seen = client_for(people.d1_command).get(path)
        assert seen.status_code == 200
        assert body_of(seen) == s3_server.read(bucket, stored)
        assert client_for(people.d2_command).get(path).status_code == 404


def test_an_export_is_stored_in_the_bucket_and_served_through_its_view(bucket, s3_server, people, request):
    request.getfixturevalue("world")
    client = client_for(people.d1_command)
    answer = client.post("/exports/new/incidents/", {"format": "csv", "columns": ["number"]})
    assert answer.status_code == 200
    job = ExportJob.objects.get()
    key = f"{PREFIX}/{job.file.name}"
    assert s3_server.keys(bucket, f"{PREFIX}/exports/") == [key]
    assert body_of(answer) == s3_server.read(bucket, key)
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200, "streamed by the portal, not a redirect to the store"
    assert body_of(download) == s3_server.read(bucket, key)
    for page in (client.get(f"/exports/{job.pk}/"), client.get("/exports/"), client.get(f"/api/v1/exports/{job.pk}/")):
        assert s3_server.url not in page.content.decode() and "X-Amz" not in page.content.decode()
    assert client_for(people.d2_command).get(f"/exports/{job.pk}/download/").status_code == 404


def test_expired_exports_are_deleted_from_the_bucket(bucket, s3_server, people, request):
    request.getfixturevalue("world")
    client_for(people.d1_command).post("/exports/new/incidents/", {"format": "xlsx"})
    job = ExportJob.objects.get()
    assert s3_server.keys(bucket, f"{PREFIX}/exports/") == [f"{PREFIX}/{job.file.name}"]
    result = export_services.exports_expire(now=job.expires_at + timedelta(minutes=1))
    assert result.expired == 1
    assert s3_server.keys(bucket, f"{PREFIX}/exports/") == []
    assert ExportJob.objects.get().status == ExportStatus.EXPIRED


def test_orphan_photos_are_found_and_deleted_in_the_bucket(bucket, s3_server, city, people, road):  # noqa: F811
    lat, lng = point(1, 2)
    attachment = incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                               photos=[photo()]).attachments[0]
    kept, thumb = attachment.file.name, attachment.thumbnail.name
    folder = kept.rsplit("/", 1)[0]
    orphan = default_storage.save(f"{folder}/left-by-a-killed-process.jpg", io.BytesIO(b"\xff\xd8"))
    assert reclaim_orphan_photos() == [], "younger than an hour: a filing may still be committing it"
    deleted = reclaim_orphan_photos(now=timezone.now() + timedelta(seconds=2), grace=timedelta(0))
    assert deleted == [orphan]
    stays = sorted([f"{PREFIX}/{kept}", f"{PREFIX}/{thumb}"])
    assert sorted(s3_server.keys(bucket, f"{PREFIX}/incidents/")) == stays, "a photo and its row's thumbnail stay"


def test_a_store_that_refuses_connections_fails_the_export_saying_so(people, request, settings):
    request.getfixturevalue("world")
    point_storage_at(settings, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    client = client_for(people.d1_command, language="en")
    answer = client.post("/exports/new/incidents/", {"format": "csv"})
    job = ExportJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/exports/{job.pk}/"
    assert job.status == ExportStatus.FAILED and not job.file
    assert "the file store does not answer" in job.error
    assert "the file store does not answer" in client.get(answer["Location"]).content.decode()


def test_a_filing_whose_photos_cannot_be_stored_is_refused_whole_with_503(city, people, road, settings):  # noqa: F811
    from governance.core.testing import api_client
    from incidents.models import Incident

    point_storage_at(settings, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    lat, lng = point(1, 2)
    answer = api_client(people.worker_g1111).post("/api/v1/incidents/", {
        "category": road.pk, "title": "路面塌陷", "lat": lat, "lng": lng, "photos": [photo()]},
        HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "storage_unavailable"
    assert "The file store does not answer" in answer.json()["error"]["message"]
    assert not Incident.objects.exists(), "nothing half-written: the phone's retry files it once"


def test_the_schema_says_which_operations_may_meet_a_file_store_that_does_not_answer():
    from django.test import Client

    schema = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    takes_files = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method, op in item.items()
                   if isinstance(op, dict) and "multipart/form-data" in op.get("requestBody", {}).get("content", {})}
    assert "POST /api/v1/incidents/" in takes_files
    for label in takes_files:
        method, path = label.split(" ", 1)
        assert "storage_unavailable" in schema["paths"][path][method.lower()]["responses"]["503"]["description"]


def test_a_store_that_never_answers_costs_a_download_seconds_and_says_so(bucket, people, request, settings):
    request.getfixturevalue("world")
    client = client_for(people.d1_command, language="en")
    client.post("/exports/new/incidents/", {"format": "csv"})
    job = ExportJob.objects.get()
    silent = SilentServer()
    try:
        point_storage_at(settings, f"http://127.0.0.1:{silent.port}", bucket=bucket)
        download = client.get(f"/exports/{job.pk}/download/")
    finally:
        silent.close()
    assert download.status_code == 503
    assert "The file store does not answer just now" in download.content.decode()
    assert silent.connections >= 1


def test_file_storage_names_what_is_missing():
    with pytest.raises(ImproperlyConfigured, match="S3_BUCKET"):
        file_storage("s3")
    with pytest.raises(ImproperlyConfigured, match="FILE_STORAGE must be 'local' or 's3'"):
        file_storage("nfs")
    with pytest.raises(ImproperlyConfigured, match="S3_ADDRESSING_STYLE"):
        file_storage("s3", bucket="b", addressing_style="sideways")
    assert file_storage("local") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@pytest.mark.parametrize(("verify", "expected"), [("true", True), ("false", False), ("/etc/ca.pem", "/etc/ca.pem")])
def test_file_storage_reads_tls_verification(verify, expected):
    options = file_storage("s3", bucket="b", verify=verify)["OPTIONS"]
    assert options["verify"] == expected
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["client_config"].s3 == {"addressing_style": "path"}
