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


@pytest.fixture(autouse=True)
def _forget_what_the_rollback_changed():
    """Each test writes tables under the per-process memos and rolls them back unannounced.

    Factories and bulk inserts announce nothing, and a test's rollback announces nothing
    either, so a copy kept during one test (the grids, the categories, the calendar) may
    describe rows that no longer exist in the next. Changes waiting for a commit need no
    reset: they are pending only inside the transaction that made them (governance.core.memo).
    """
    yield
    from governance.core import memo

    memo.forget_all()
