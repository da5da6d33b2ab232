"""Sweeps at the same time (PostgreSQL) and a real Celery worker (Redis)."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager, nullcontext
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, connections

from governance.alerts import sweep as sweep_module
from governance.alerts.models import Alert
from incidents.models import Event, Incident
from incidents.watcher import IncidentWatcher
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
    monkeypatch.setattr(sweep_module, "_sweep_lock", lambda vendor: nullcontext(True))

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


@pytest.mark.postgres
@postgres_only
def test_four_escalating_sweeps_without_the_lock_still_escalate_each_incident_once(transactional_db, reported,
                                                                                   file_incident, sweep,
                                                                                   monkeypatch):
    """Each batch locks its rows (SKIP LOCKED) and re-checks the open red alert: no lock needed for safety."""
    for k in range(5):
        file_incident(now=T0 - minutes(k + 1), title=f"并发{k}")
    sweep(T0 + minutes(4 * 60 + 1))
    monkeypatch.setattr(sweep_module, "_sweep_lock", lambda vendor: nullcontext(True))
    monkeypatch.setattr(sweep_module, "ESCALATION_BATCH", 2)
    at = T0 + minutes(4 * 60 + 125)
    _race(lambda: sweep_module.run_sweep(now=at), n=4)
    assert set(Incident.objects.values_list("escalation_count", flat=True)) == {1}
    assert Event.objects.filter(action="escalate").count() == 6
    assert Alert.objects.open().filter(kind="escalated").count() == 6


# --- Row locks: people never wait for a whole sweep -------------------------------------------


class _Holder:
    """A transaction on a connection of its own that holds something until told to let go."""

    def __init__(self, sql: str, params=()):
        self.sql, self.params = sql, params
        self.holding, self.release, self.errors = threading.Event(), threading.Event(), []
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        from django.db import transaction

        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(self.sql, self.params)
                self.holding.set()
                self.release.wait(timeout=60)
        except Exception as exc:  # reported by the test
            self.errors.append(exc)
        finally:
            self.holding.set()
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.holding.wait(timeout=10)
        assert not self.errors, self.errors
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(timeout=30)


def _in_thread(target, timeout: float = 30):
    """Run ``target`` in a thread with a connection of its own; answer (finished, result or error)."""
    box = {}

    def run():
        try:
            box["result"] = target()
        except Exception as exc:  # handed to the test
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=timeout)
    return not thread.is_alive(), box


def _two_red(file_incident, sweep):
    first, second = file_incident(now=T0, title="甲"), file_incident(now=T0, title="乙")
    sweep(T0 + minutes(4 * 60 + 1))
    return first, second


@pytest.mark.postgres
@postgres_only
def test_an_incident_someone_is_acting_on_is_left_to_the_next_sweep(transactional_db, file_incident, sweep):
    busy, free = _two_red(file_incident, sweep)
    at = T0 + minutes(4 * 60 + 125)
    with _Holder("SELECT id FROM incidents_incident WHERE id = %s FOR UPDATE", [busy.pk]):
        finished, box = _in_thread(lambda: sweep_module.run_sweep(now=at))
        assert finished, "the sweep waited for a row someone holds"
        assert "error" not in box, box
    busy.refresh_from_db()
    free.refresh_from_db()
    assert (busy.escalation_count, free.escalation_count) == (0, 1)
    sweep(at + minutes(1))
    busy.refresh_from_db()
    assert busy.escalation_count == 1, "the next sweep escalates it"


@pytest.mark.postgres
@postgres_only
def test_a_person_waits_for_one_batch_of_the_sweep_not_for_all_of_it(transactional_db, file_incident, sweep,
                                                                     people, monkeypatch):
    """Batches of one: while the sweep works on its second batch, the incident of the first is free to accept."""
    from incidents import services

    first, second = _two_red(file_incident, sweep)
    monkeypatch.setattr(sweep_module, "ESCALATION_BATCH", 1)
    batch = IncidentWatcher._escalate_batch
    paused, go, calls = threading.Event(), threading.Event(), []

    def pausing(self, ctx, ids, deadlines):
        calls.append(ids)
        if len(calls) == 2:  # the first batch has committed
            paused.set()
            assert go.wait(timeout=30)
        return batch(self, ctx, ids, deadlines)

    monkeypatch.setattr(IncidentWatcher, "_escalate_batch", pausing)
    at = T0 + minutes(4 * 60 + 125)
    sweeping = threading.Thread(target=lambda: (sweep_module.run_sweep(now=at), connections.close_all()))
    sweeping.start()
    try:
        assert paused.wait(timeout=30)
        accepted, box = _in_thread(lambda: services.incident_accept(incident=first.pk, actor=people.s11_command,
                                                                    now=at + minutes(1)), timeout=15)
        assert accepted, "the accept waited for the rest of the sweep"
        assert "error" not in box, box
    finally:
        go.set()
        sweeping.join(timeout=30)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.escalation_count) == ("accepted", 1)
    assert second.escalation_count == 1


# --- Bounded statements, and a sweep that finds the lock taken ----------------------------------


class _OneStatement:
    subject_type = "test"

    def __init__(self, sql: str):
        self.sql = sql

    def steps(self):
        return [lambda ctx: ctx.execute("test", self.sql)]


def _lock_is_free() -> bool:
    """Nobody holds the sweep's advisory lock (asked of pg_locks, without taking it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND ((classid::bigint << 32) | objid::bigint) = %s", [sweep_module.ADVISORY_LOCK_KEY])
        return cursor.fetchone()[0] == 0


@pytest.mark.postgres
@postgres_only
def test_a_runaway_statement_is_cancelled_and_the_lock_released(transactional_db, monkeypatch):
    from django.db import OperationalError
    from psycopg2 import errors

    monkeypatch.setattr(sweep_module, "STATEMENT_TIMEOUT", "200ms")
    monkeypatch.setattr(sweep_module, "_watchers", [_OneStatement("SELECT pg_sleep(20)")])
    with pytest.raises(OperationalError) as caught:
        sweep_module.run_sweep(now=T0)
    assert isinstance(caught.value.__cause__, errors.QueryCanceled)
    assert _lock_is_free()


@pytest.mark.postgres
@postgres_only
def test_a_sweep_gives_up_waiting_for_a_lock_instead_of_queueing_people_behind_it(transactional_db, reported,
                                                                                 monkeypatch):
    from django.db import OperationalError
    from psycopg2 import errors

    monkeypatch.setattr(sweep_module, "LOCK_TIMEOUT", "200ms")
    with _Holder("LOCK TABLE governance_alert IN ACCESS EXCLUSIVE MODE"):
        finished, box = _in_thread(lambda: sweep_module.run_sweep(now=T0 + minutes(4 * 60 + 1)))
    assert finished
    assert isinstance(box.get("error"), OperationalError), box
    assert isinstance(box["error"].__cause__, errors.LockNotAvailable)
    assert _lock_is_free()


_SLOW_SWEEP = """
import django
django.setup()
from governance.alerts import sweep

class Slow:
    subject_type = "test"

    def steps(self):
        return [lambda ctx: ctx.execute("slow", "SELECT pg_sleep(120)")]

sweep._watchers[:] = [Slow()]
sweep.run_sweep()
"""


@pytest.mark.postgres
@postgres_only
def test_a_killed_workers_statement_is_cancelled_and_its_lock_freed_within_seconds(transactional_db):
    """The sweep's statement outlived its worker for minutes, holding the lock; now PostgreSQL notices."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "governance.settings"}
    worker = subprocess.Popen([sys.executable, "-c", _SLOW_SWEEP], cwd=settings.BASE_DIR, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while _lock_is_free():
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the slow sweep never took the lock"
            time.sleep(0.1)
        time.sleep(0.5)  # the statement runs
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        worker.stderr.close()
    # Without client_connection_check_interval the statement would run for two minutes (or until the
    # 30 s statement_timeout): PostgreSQL checks every second whether the client is still there.
    freed = time.monotonic() + 10
    while not _lock_is_free():
        assert time.monotonic() < freed, "the killed sweep's statement still holds the lock"
        time.sleep(0.2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(120)' "
                       "AND state = 'active'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres
@postgres_only
def test_a_sweep_that_found_the_lock_taken_runs_again_and_does_the_work(transactional_db, reported, monkeypatch):
    from governance.alerts.tasks import sweep_deadlines

    real, seen = sweep_module.run_sweep, []
    holder = _Holder("SELECT pg_advisory_lock(%s)", [sweep_module.ADVISORY_LOCK_KEY])

    def run_sweep(**kwargs):
        result = real(**kwargs)
        seen.append(result.skipped)
        if result.skipped:
            holder.__exit__()  # the other sweep ends (its transaction ends, and its session lock with it)
        return result

    monkeypatch.setattr(sweep_module, "run_sweep", run_sweep)
    with holder:
        result = sweep_deadlines.apply(kwargs={"now": (T0 + minutes(4 * 60 + 1)).isoformat()})
    assert seen == [True, False]
    assert result.successful(), result.traceback
    assert result.result["counts"]["raised_overdue_accept"] == 1
    assert Alert.objects.filter(subject_id=reported.pk, kind="overdue").exists()


@pytest.mark.postgres
@postgres_only
def test_a_sweep_that_never_gets_the_lock_fails_rather_than_counting_as_done(transactional_db, reported,
                                                                            monkeypatch):
    from governance.alerts.tasks import SWEEP_BUSY_MAX_RETRIES, SweepBusy, sweep_deadlines

    real, attempts = sweep_module.run_sweep, []
    monkeypatch.setattr(sweep_module, "run_sweep", lambda **kwargs: attempts.append(1) or real(**kwargs))
    with _Holder("SELECT pg_advisory_lock(%s)", [sweep_module.ADVISORY_LOCK_KEY]):
        result = sweep_deadlines.apply(kwargs={"now": (T0 + minutes(4 * 60 + 1)).isoformat()})
    assert result.failed() and isinstance(result.result, SweepBusy)
    assert len(attempts) == 1 + SWEEP_BUSY_MAX_RETRIES
    assert not Alert.objects.filter(subject_id=reported.pk).exists()


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


@contextmanager
def _real_worker(tmp_path):
    """A Celery worker in a process of its own on a queue of its own; yields the queue's name."""
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
        yield queue, worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.seek(0)
        print(log.read()[-3000:])
        log.close()


def _wait_for(condition, worker, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert worker.poll() is None, "the worker died"
        assert time.monotonic() < deadline, f"{what} after {seconds} s"
        time.sleep(0.2)


@pytest.mark.redis
@redis_only
def test_a_real_worker_runs_the_sweep_and_the_alert_appears(transactional_db, reported, tmp_path):
    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("an in-memory SQLite test database cannot be shared with a worker; use PostgreSQL")
    from governance.alerts.tasks import sweep_deadlines

    with _real_worker(tmp_path) as (queue, worker):
        at = T0 + minutes(4 * 60 + 1)
        sweep_deadlines.apply_async(kwargs={"now": at.isoformat()}, queue=queue)
        _wait_for(lambda: Alert.objects.filter(subject_id=reported.pk, kind="overdue").exists(), worker, 60,
                  "no alert")
        # Nobody reads a task's result (none is stored): the alert is the sweep's answer.
        assert Alert.objects.filter(subject_id=reported.pk, kind="overdue").count() == 1


@pytest.mark.postgres
@pytest.mark.redis
@postgres_only
@redis_only
def test_a_real_worker_retries_a_sweep_that_found_the_lock_taken(transactional_db, reported, tmp_path):
    """Another sweep (here: this test's session) holds the lock; once it lets go, the retry does the work."""
    from governance.alerts.tasks import sweep_deadlines

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [sweep_module.ADVISORY_LOCK_KEY])
    try:
        with _real_worker(tmp_path) as (queue, worker):
            sweep_deadlines.apply_async(kwargs={"now": (T0 + minutes(4 * 60 + 1)).isoformat()}, queue=queue)
            log = tmp_path / "worker.log"
            # No result is stored (CELERY_TASK_IGNORE_RESULT): the worker's log says the task waits to retry.
            _wait_for(lambda: "retry" in log.read_text(errors="replace").lower(), worker, 60,
                      "the task is not waiting to retry")
            assert not Alert.objects.filter(subject_id=reported.pk).exists()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [sweep_module.ADVISORY_LOCK_KEY])
            _wait_for(lambda: Alert.objects.filter(subject_id=reported.pk, kind="overdue").exists(), worker, 60,
                      "no alert")
            assert Alert.objects.filter(subject_id=reported.pk, kind="overdue").count() == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
