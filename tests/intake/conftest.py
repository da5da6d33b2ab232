import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance.core.authority import SYSTEM
from incidents.management.commands.load_categories import load_categories
from incidents.models import Category
from intake import services


@pytest.fixture
def categories(db):
    rows = json.loads((Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json").read_text("utf-8"))
    load_categories(rows["categories"])
    return Category.objects


@pytest.fixture
def noise(categories):
    """噪音扰民 (05 社会治安秩序): residents may choose it."""
    return categories.get(name="噪音扰民")


@pytest.fixture
def suspicious(categories):
    """可疑人员物品 (01 治安隐患): not offered to residents by default."""
    return categories.get(name="可疑人员物品")


@pytest.fixture
def sign(city):
    return services.sign_in_force(grid=city.g1111, acting_user=SYSTEM)


@pytest.fixture
def token(sign):
    return services.sign_token(sign)


@pytest.fixture
def issued_key(city):
    """A hotline's key over the west district, tied to the district's police."""
    return services.api_key_issue(name="12345热线", unit=city.unit_d1_police, territory=city.d1,
                                  intake_grid=city.g1111, acting_user=SYSTEM)


def jpeg(size=(64, 48), color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def photo(name="photo.jpg", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else jpeg(), content_type="image/jpeg")


def stored_files(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts its own requests (the rate limits live in the cache, which outlives a test)."""
    from django.core.cache import cache

    if "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        cache.clear()
