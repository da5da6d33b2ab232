import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from incidents.management.commands.load_categories import load_categories
from incidents.models import Category
from incidents.services import incident_file
from tests.factories import point


@pytest.fixture
def categories(db):
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
    load_categories(rows["categories"])
    return Category.objects


@pytest.fixture
def noise(categories):
    """噪音扰民: a minor category a grid worker may close on the spot."""
    return categories.get(name="噪音扰民")


@pytest.fixture
def fire_exit(categories):
    """消防通道堵塞."""
    return categories.get(name="消防通道堵塞")


@pytest.fixture
def road(categories):
    """道路破损: not closable on the spot."""
    return categories.get(name="道路破损")


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif_gps=False) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        exif[0x8825] = {1: "N", 2: (23.0, 1.0, 2.0), 3: "E", 4: (116.0, 1.0, 2.0)}  # GPS IFD
        image.save(out, "JPEG", exif=exif)
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def photo(name="photo.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**kwargs), content_type="image/jpeg")


@pytest.fixture
def file_incident(city, people, road):
    """File an incident in grid G1111 as its grid worker (or as anyone given)."""

    def make(*, reporter=None, category=None, at=(1, 2), **kwargs):
        lat, lng = point(*at)
        return incident_file(reporter=reporter or people.worker_g1111, category=category or road,
                             title=kwargs.pop("title", "路面塌陷"), lat=lat, lng=lng, **kwargs).incident

    return make
