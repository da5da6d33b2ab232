import pytest

from tests.factories import build_city, build_personas


@pytest.fixture(autouse=True)
def _isolated_runtime(settings, tmp_path):
    """Uploads and the file cache of each test live in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def city(db):
    return build_city()


@pytest.fixture
def people(city):
    return build_personas(city)
