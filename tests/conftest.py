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
def _no_change_waiting_for_a_commit():
    """A test's transaction is rolled back, so changes it made never commit.

    The work calendar and ``locate`` keep reading the database on every call while
    a change of this process waits for its commit (Django has no on-rollback hook):
    correct, but a rolled-back test would leave the next tests of this worker on that
    slow path, and query-count tests would depend on the order tests ran in.
    """
    yield
    from governance import memo, workcalendar
    from grids import locate

    # the rollback itself changed the table and the grids under the caches, unannounced
    workcalendar.clear_cache()
    workcalendar._cache.pending_commit = False
    locate.invalidate()
    locate._uncommitted_changes = 0
    memo.forget_all()
