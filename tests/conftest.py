import os
import uuid

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


@pytest.fixture(autouse=True)
def _isolated_redis_cache(settings):
    """On Redis (REDIS_URL, as in .ci/run) each test gets its own key prefix.

    The suite runs in parallel (pytest-xdist) against one Redis database, so keys
    must not leak between tests or workers; the cache is still the real Redis.
    """
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        settings.CACHES = {"default": {**cache, "KEY_PREFIX": f"test:{worker}:{uuid.uuid4().hex}"}}
