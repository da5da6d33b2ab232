"""Sweeps at the same time (PostgreSQL) and a real Celery worker (Redis)."""

import os
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections

from governance.alerts import sweep as sweep_module
from governance.alerts.models import Alert
from incidents.models import Event
from tests.alerts.conftest import T0, minutes

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL; runs in .ci/run")
redis_only = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis; runs in .ci/run")


def _race(target, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except Exception as exc:  # reported below, the thread must not swallow it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.postgres
@postgres_only
def test_two_sweeps_at_once_raise_no_duplicate_alert(transactional_db, reported, file_incident):
    file_incident(now=T0, title="第二件")
    at = T0 + minutes(4 * 60 + 1)
    results = _race(lambda: sweep_module.run_sweep(now=at))
    assert Alert.objects.filter(kind="overdue").count() == 2
    assert sum(r.raised for r in results) == 2


@pytest.mark.postgres
@postgres_only
def test_two_sweeps_at_once_without_the_lock_still_raise_no_duplicate(transactional_db, reported, monkeypatch):
    """The partial unique index alone holds, should the advisory lock ever be skipped."""
    monkeypatch.setattr(sweep_module, "_take_lock", lambda ctx: True)

    def no_lock_sweep():
        return sweep_module.run_sweep(now=T0 + minutes(4 * 60 + 1))

    _race(no_lock_sweep, n=4)
    assert Alert.objects.filter(subject_id=reported.pk, kind="overdue").count() == 1


@pytest.mark.postgres
@postgres_only
def test_two_escalating_sweeps_at_once_escalate_once(transactional_db, reported, sweep):
    sweep(T0 + minutes(4 * 60 + 1))
    at = T0 + minutes(4 * 60 + 125)
    _race(lambda: sweep_module.run_sweep(now=at))
    reported.refresh_from_db()
    assert reported.escalation_count == 1
    assert Event.objects.filter(incident=reported, action="escalate").count() == 1


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


@pytest.mark.redis
@redis_only
def test_a_real_worker_runs_the_sweep_and_the_alert_appears(transactional_db, reported, tmp_path):
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("an in-memory SQLite test database cannot be shared with a worker; use PostgreSQL")
    from governance.tasks import sweep_deadlines

    queue = f"alerts-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
           "DJANGO_SETTINGS_MODULE": "governance.settings", "EMAIL_URL": "consolemail://"}
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115  (closed below)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--pool", "solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        at = T0 + minutes(4 * 60 + 1)
        sweep_deadlines.apply_async(kwargs={"now": at.isoformat()}, queue=queue)
        deadline = time.monotonic() + 60
        while not Alert.objects.filter(subject_id=reported.pk, kind="overdue").exists():
            assert worker.poll() is None, "the worker died"
            assert time.monotonic() < deadline, "no alert after 60 s"
            time.sleep(0.2)
        # Nobody reads a task's result (none is stored): the alert is the sweep's answer.
        assert Alert.objects.filter(subject_id=reported.pk, kind="overdue").count() == 1
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.seek(0)
        print(log.read()[-3000:])
        log.close()
