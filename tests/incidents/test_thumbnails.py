"""Thumbnails: made once at upload, a few tens of KB, served through the photo's own scope check.

The detail page and the map's panel show thumbnails (lazy-loaded) and link to the full photo; photos
stored before thumbnails existed get theirs from ``manage.py make_photo_thumbnails`` and meanwhile
answer their thumbnail URL with the photo itself.
"""

from __future__ import annotations

import io
import random
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from incidents import attachments
from incidents.models import Attachment
from tests.incidents.conftest import photo
from tests.incidents.test_pages import as_user, detail

pytestmark = pytest.mark.django_db


def camera_photo(size=(2560, 1920), seed=1, fmt="JPEG") -> SimpleUploadedFile:
    """A photo with detail in it (noise compresses like a real scene, a flat colour does not)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (size[0] // 16, size[1] // 16))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                   for _ in range(small.width * small.height)])
    image = small.resize(size, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, fmt, quality=90) if fmt == "JPEG" else image.save(out, fmt)
    return SimpleUploadedFile(f"scene.{fmt.lower()}", out.getvalue(), content_type=f"image/{fmt.lower()}")


def served(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_large_photo_gets_a_thumbnail_of_a_few_tens_of_kb_once_at_upload(people, file_incident):
    incident = file_incident(photos=[camera_photo()])
    attachment = Attachment.objects.get(incident=incident)
    with attachment.thumbnail.open("rb") as handle:
        small = handle.read()
    with Image.open(io.BytesIO(small)) as image:
        assert image.format == "JPEG" and max(image.size) == attachments.THUMBNAIL_EDGE
        assert image.size == (360, 270)  # the photo's proportions
        assert dict(image.getexif()) == {}
    assert 5_000 < len(small) < 60_000, len(small)
    assert attachment.thumbnail_size == len(small)
    assert attachment.size > 5 * len(small)  # the point of it


def test_a_transparent_png_gets_a_jpeg_thumbnail_on_white(people, file_incident):
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    upload = SimpleUploadedFile("clear.png", out.getvalue(), content_type="image/png")
    attachment = Attachment.objects.get(incident=file_incident(photos=[upload]))
    with attachment.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert thumb.format == "JPEG" and thumb.getpixel((10, 10)) == (255, 255, 255)


def test_thumbnail_is_served_by_the_photos_scope_check(people, file_incident):
    incident = file_incident(photos=[camera_photo()])
    attachment = Attachment.objects.get(incident=incident)
    url = f"/incidents/attachments/{attachment.pk}/thumbnail/"
    response = as_user(people.d1_command).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff" and "private" in response["Cache-Control"]
    assert len(served(response)) == attachment.thumbnail_size
    assert as_user(people.d1_supervisor).get(url).status_code == 200
    assert as_user(people.s12_command).get(url).status_code == 404  # hidden is missing
    assert as_user(people.d2_command).get(url).status_code == 404
    assert page_anonymous_status(url) in (302, 401, 403)


def page_anonymous_status(url: str) -> int:
    from django.test import Client

    return Client().get(url).status_code


def test_detail_page_shows_lazy_thumbnails_that_link_to_the_full_photos(people, file_incident):
    incident = file_incident(photos=[camera_photo(seed=i) for i in range(3)])
    html = as_user(people.worker_g1111).get(detail(incident)).content.decode()
    for attachment in Attachment.objects.filter(incident=incident):
        assert (f'<a href="/incidents/attachments/{attachment.pk}/" target="_blank" rel="noopener">'
                f'<img src="/incidents/attachments/{attachment.pk}/thumbnail/"') in html
    assert html.count('loading="lazy"') >= 3
    sources = re.findall(r'<img src="(/incidents/attachments/[^"]*)"', html)
    assert len(sources) == 3 and all(src.endswith("/thumbnail/") for src in sources)  # no full photo inline


def test_api_gives_each_photo_its_thumbnail_url(people, file_incident):
    from governance.core.testing import api_client

    incident = file_incident(photos=[photo()])
    attachment = Attachment.objects.get(incident=incident)
    body = api_client(people.d1_command).get(f"/api/v1/incidents/{incident.pk}/").json()
    [item] = body["attachments"]
    assert item["url"].endswith(f"/incidents/attachments/{attachment.pk}/")
    assert item["thumbnail_url"].endswith(f"/incidents/attachments/{attachment.pk}/thumbnail/")


def test_older_photos_get_thumbnails_from_the_command_and_meanwhile_serve_the_photo(people, file_incident):
    incident = file_incident(photos=[camera_photo(), photo()])
    old = list(Attachment.objects.filter(incident=incident))
    for attachment in old:  # as stored before thumbnails existed
        attachment.thumbnail.delete(save=False)
        Attachment.objects.filter(pk=attachment.pk).update(thumbnail="", thumbnail_size=None)
    big = old[0]
    response = as_user(people.d1_command).get(f"/incidents/attachments/{big.pk}/thumbnail/")
    assert response.status_code == 200 and len(served(response)) == big.size  # the photo itself, never broken

    out = io.StringIO()
    call_command("make_photo_thumbnails", stdout=out)
    assert "thumbnails made: 2" in out.getvalue()
    for attachment in Attachment.objects.filter(incident=incident):
        assert attachment.thumbnail and attachment.thumbnail_size
        with attachment.thumbnail.open("rb") as handle, Image.open(handle) as image:
            assert max(image.size) <= attachments.THUMBNAIL_EDGE
    response = as_user(people.d1_command).get(f"/incidents/attachments/{big.pk}/thumbnail/")
    assert len(served(response)) == Attachment.objects.get(pk=big.pk).thumbnail_size < big.size

    again = io.StringIO()
    call_command("make_photo_thumbnails", stdout=again)  # a second run changes nothing
    assert "thumbnails made: 0" in again.getvalue()


def test_a_failed_filing_leaves_no_thumbnail_behind(people, file_incident, settings, monkeypatch):
    real_save = Attachment.save

    def fail(self, *args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(Attachment, "save", fail)
    with pytest.raises(RuntimeError):
        file_incident(photos=[camera_photo()])
    monkeypatch.setattr(Attachment, "save", real_save)
    root = settings.MEDIA_ROOT
    assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []
