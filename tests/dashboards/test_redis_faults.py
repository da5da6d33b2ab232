"""Redis down, Redis silent: the cache and the broker degrade, the pages answer.

A private ``redis-server`` (tests/servers.py) is the cache and the broker of these tests,
then stopped or frozen; a server that accepts connections and never answers stands for a
Redis behind a dead network path. The rest of the suite's Redis is never touched.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

import pytest
from django.conf import settings

from governance.core import cache as resilient_cache
from governance.core import memo
from governance.exports.kinds import get_kind
from governance.exports.models import ExportJob, ExportStatus
from tests.dashboards.helpers import client_for
from tests.servers import REDIS_SERVER, RedisProcess, SilentServer

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs Debian's redis-server (installed by .ci/run)")

ROLES = ["city_admin", "d1_command", "s11_command", "d1_supervisor", "worker_g1111", "d1_police_handler"]


@pytest.fixture
def redis(tmp_path):
    server = RedisProcess(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def cache_at(settings):
    """Point the shared cache at ``url``, with the production backend and options."""

    def point(url: str) -> None:
        settings.CACHES = {"default": {"BACKEND": "governance.core.cache.ResilientRedisCache", "LOCATION": url,
                                       "OPTIONS": settings.REDIS_CACHE_OPTIONS}}
        resilient_cache.reset_pauses()
        memo.forget_all()

    yield point
    resilient_cache.reset_pauses()


@pytest.fixture
def broker_at():
    """Point the Celery app's broker at ``url``, with the production transport options."""
    from governance.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)

    def point(url: str) -> None:
        app.conf.broker_url = url
        app.conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS
        app._after_fork()  # forget pooled connections to the previous broker

    yield point
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._after_fork()


def stats_of_every_role(people) -> dict[str, dict]:
    answers = {}
    for role in ROLES:
        response = client_for(getattr(people, role)).get("/api/v1/map/stats/")
        assert response.status_code == 200, (role, response.status_code)
        answers[role] = response.json()
    return answers


def test_map_stats_answer_every_role_with_the_same_figures_while_redis_is_down(world, people, redis, cache_at):
    cache_at(redis.url)
    with_redis = stats_of_every_role(people)
    redis.stop()
    without_redis = stats_of_every_role(people)
    for role in ROLES:
        for answer in (with_redis[role], without_redis[role]):
            answer.pop("as_of", None)  # "overdue as of": from the cache, or from the tally rows without it
    assert without_redis == with_redis


def test_a_silent_cache_server_is_asked_once_per_pause_and_the_pages_still_answer(
        world, people, silent, cache_at, monkeypatch):
    monkeypatch.setattr(resilient_cache, "PAUSE_SECONDS", 600.0)  # the whole test inside one pause
    cache_at(silent.url)
    stats_of_every_role(people)
    # One attempt (its connection's handshake) timed out, then the process stopped asking: the
    # other cache calls of six requests (memo tokens, the map's "overdue as of") never reached it.
    assert silent.connections == 1


def test_the_cache_and_the_broker_wait_tens_of_milliseconds_for_redis():
    assert settings.REDIS_TIMEOUT <= 0.1
    for options in (settings.REDIS_CACHE_OPTIONS, settings.REDIS_BROKER_TRANSPORT_OPTIONS):
        assert options["socket_connect_timeout"] == options["socket_timeout"] == settings.REDIS_TIMEOUT


@contextmanager
def answered_within(seconds: float):
    """Fail (instead of hanging) if the block does not end: SIGALRM interrupts a blocked socket read."""

    def hung(signum, frame):
        raise AssertionError(f"no answer after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _export_in_background(people, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(get_kind("incidents"), "sync_limit", 1)
    client = client_for(people.d1_command)
    # A publish hanging on a silent broker must fail the test, not hang it.
    with answered_within(60), django_capture_on_commit_callbacks(execute=True):
        response = client.post("/dashboards/map/export/", {"format": "csv", "columns": ["number"]},
                               HTTP_ACCEPT_LANGUAGE="en")
    return client, response


@pytest.mark.parametrize("fault", ["stopped", "silent"])
def test_an_export_that_cannot_be_queued_says_so_and_is_marked_failed(
        fault, world, people, redis, silent, broker_at, monkeypatch, django_capture_on_commit_callbacks):
    broker_at(redis.url if fault == "stopped" else silent.url)
    redis.stop()
    client, response = _export_in_background(people, monkeypatch, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.FAILED
    assert "could not be queued" in job.error
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "could not be queued" in page.content.decode()
    status = client.get(f"/api/v1/exports/{job.pk}/").json()
    assert status["status"] == "failed" and "could not be queued" in status["error"]


def test_an_export_queued_on_a_live_broker_stays_queued_for_the_worker(
        world, people, redis, broker_at, monkeypatch, django_capture_on_commit_callbacks):
    broker_at(redis.url)
    _client, response = _export_in_background(people, monkeypatch, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert ExportJob.objects.get().status == ExportStatus.QUEUED
    import redis as redis_client

    assert redis_client.Redis.from_url(redis.url).llen("celery") == 1  # the message waits in the queue


def test_a_sweep_on_a_silent_broker_raises_its_alerts_and_only_loses_their_email(
        world, silent, broker_at, django_capture_on_commit_callbacks):
    from governance.alerts.models import Alert
    from governance.alerts.sweep import run_sweep

    broker_at(silent.url)
    before = Alert.objects.count()
    # The email is queued on commit: a publish hanging on the silent broker would hang the sweep's worker.
    with answered_within(60), django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_sweep()
    assert callbacks, "the sweep queued its alert emails on commit"
    assert Alert.objects.count() > before  # world.overdue was never accepted
    assert silent.connections >= 1  # the publish was tried, and given up
