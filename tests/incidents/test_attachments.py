"""Photos: real images only, under the size limit, stored without EXIF, and never left behind by a rollback."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance.core.errors import InvalidInput
from incidents import services
from incidents.models import Attachment, Event, Incident
from tests.factories import point
from tests.incidents.conftest import jpeg_bytes, photo


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def file_with(people, road, photos, **kwargs):
    lat, lng = point(1, 2)
    return services.incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                                  photos=photos, **kwargs)


def test_photo_is_stored_without_exif_and_gps(people, road, settings):
    upload = photo(exif_gps=True)
    with Image.open(io.BytesIO(jpeg_bytes(exif_gps=True))) as original:
        assert original.getexif().get_ifd(0x8825), "the upload really carries a GPS position"

    incident = file_with(people, road, [upload]).incident

    attachment = incident.attachments.get()
    with attachment.file.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
    assert (attachment.width, attachment.height, attachment.content_type) == (64, 48, "image/jpeg")
    assert attachment.event == incident.events.get(action="report")
    assert attachment.original_name == "photo.jpg"
    assert "photo" not in attachment.file.name, "stored under a random name, never the user's"


def test_photo_turned_upright_by_its_orientation_before_exif_is_dropped(people, road):
    image = Image.new("RGB", (64, 48), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    upload = SimpleUploadedFile("sideways.jpg", out.getvalue(), content_type="image/jpeg")

    attachment = file_with(people, road, [upload]).incident.attachments.get()

    assert (attachment.width, attachment.height) == (48, 64)


def test_non_image_is_refused_and_nothing_is_stored(people, road, settings):
    fake = SimpleUploadedFile("invoice.jpg", b"%PDF-1.4 not a picture at all", content_type="image/jpeg")
    with pytest.raises(InvalidInput) as caught:
        file_with(people, road, [photo(), fake])
    assert caught.value.code == "photo_not_image" and caught.value.status_code == 400
    assert "invoice.jpg" in str(caught.value)
    assert stored_files(settings) == []
    assert not Incident.objects.exists() and not Attachment.objects.exists()


def test_truncated_image_is_refused(people, road, settings):
    broken = SimpleUploadedFile("broken.jpg", jpeg_bytes(size=(400, 300))[:300], content_type="image/jpeg")
    with pytest.raises(InvalidInput):
        file_with(people, road, [broken])
    assert stored_files(settings) == [] and not Incident.objects.exists()


def test_image_of_a_format_not_accepted_is_refused(people, road, settings):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    gif = SimpleUploadedFile("anim.gif", out.getvalue(), content_type="image/gif")
    with pytest.raises(InvalidInput) as caught:
        file_with(people, road, [gif])
    assert caught.value.code == "photo_format"
    assert stored_files(settings) == [] and not Incident.objects.exists()


def test_oversized_photo_is_refused_and_nothing_is_stored(people, road, settings):
    settings.INCIDENT_PHOTO_MAX_BYTES = 1024
    big = photo(size=(800, 600))
    assert big.size > 1024
    with pytest.raises(InvalidInput) as caught:
        file_with(people, road, [big])
    assert caught.value.code == "photo_too_large"
    assert stored_files(settings) == []
    assert not Incident.objects.exists() and not Attachment.objects.exists()


def test_too_many_photos_are_refused(people, road, settings):
    with pytest.raises(InvalidInput) as caught:
        file_with(people, road, [photo() for _ in range(services.MAX_PHOTOS + 1)])
    assert "photos" in caught.value.field_errors
    assert stored_files(settings) == [] and not Incident.objects.exists()


def test_failure_while_storing_the_second_photo_deletes_the_first(people, road, settings, monkeypatch):
    saved = []
    real_save = Attachment.save

    def save_then_fail(self, *args, **kwargs):
        if saved:
            raise RuntimeError("disk full")
        saved.append(self.file.name)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Attachment, "save", save_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        file_with(people, road, [photo(), photo(color=(0, 0, 255))])
    assert saved, "the first photo was written before the failure"
    assert stored_files(settings) == []
    assert not Incident.objects.exists() and not Event.objects.exists()


def test_enclosing_transaction_that_fails_after_photos_were_written_deletes_them(people, road, settings):
    with pytest.raises(RuntimeError, match="later step failed"):
        with services.atomic_with_files():
            incident = file_with(people, road, [photo()]).incident
            assert len(stored_files(settings)) == 2 and incident.attachments.count() == 1
            raise RuntimeError("later step failed")
    assert stored_files(settings) == []
    assert not Incident.objects.exists()


def test_report_back_with_photos_rolled_back_by_a_stale_version_stores_nothing(city, people, road, settings):
    incident = file_with(people, road, []).incident
    services.incident_accept(incident=incident, actor=people.s11_command)
    services.incident_dispatch(incident=incident, actor=people.s11_command, unit=city.unit_d1_police)
    from governance.core.errors import ConflictError

    with pytest.raises(ConflictError):
        services.incident_report_back(incident=incident, actor=people.d1_police_handler, note="已处置",
                                      photos=[photo()], expected_version=1)
    assert stored_files(settings) == [] and not Attachment.objects.exists()

    services.incident_report_back(incident=incident, actor=people.d1_police_handler, note="已处置", photos=[photo()])
    attachment = Attachment.objects.get()
    assert attachment.event.action == "report_back" and attachment.uploaded_by == people.d1_police_handler
    assert len(stored_files(settings)) == 2


def test_a_commit_that_fails_leaves_its_photos_for_the_reclaim_to_decide(
        transactional_db, people, road, settings, monkeypatch):
    """A failed commit may have committed: deleting its files could leave rows without files."""
    from django.db import DatabaseError, connection

    def commit_fails(*args, **kwargs):
        raise DatabaseError("connection lost during commit")

    with monkeypatch.context() as patch, pytest.raises(DatabaseError, match="during commit"):
        patch.setattr(connection, "commit", commit_fails)  # the filing's own transaction: the outermost
        file_with(people, road, [photo()])
    assert len(stored_files(settings)) == 2


def test_the_hourly_reclaim_deletes_old_files_no_row_refers_to_and_nothing_else(people, road, settings):
    import os
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from incidents.attachments import reclaim_orphan_photos
    from incidents.tasks import reclaim_orphan_photos as reclaim_task

    filed = file_with(people, road, [photo()]).incident
    month = timezone.localtime().strftime("%Y/%m")
    killed = default_storage.save(f"incidents/{month}/killed-mid-filing.jpg", io.BytesIO(jpeg_bytes()))
    writing = default_storage.save(f"incidents/{month}/still-being-filed.jpg", io.BytesIO(jpeg_bytes()))
    two_hours_ago = (timezone.now() - timedelta(hours=2)).timestamp()
    kept = filed.attachments.get()
    for name in (killed, kept.file.name, kept.thumbnail.name):
        os.utime(default_storage.path(name), (two_hours_ago, two_hours_ago))

    assert reclaim_orphan_photos() == [killed]
    assert not default_storage.exists(killed)
    assert default_storage.exists(writing)  # younger than the grace: its row may be on its way
    assert default_storage.exists(kept.file.name)
    assert default_storage.exists(kept.thumbnail.name)  # a thumbnail's row refers to it too
    assert reclaim_task.apply().get() == 0  # a second run finds nothing more


def test_beat_runs_the_reclaim_every_hour(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="incidents.tasks.reclaim_orphan_photos")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")
