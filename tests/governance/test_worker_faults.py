"""A task's failure never kills the worker (a real Celery worker, a real PostgreSQL that refuses connections).

What happened in the field: PostgreSQL refused connections for a moment ("too many
clients"); a map task failed, its retry tried to store the retry in the database
result backend, that failed too, and the exception left Celery's tracer: the
worker exited. Here the test database stops accepting connections
(``ALLOW_CONNECTIONS false``, which binds superusers too) and the worker's own
connections are ended, a task runs and fails, then the database comes back.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dashboards.map.tasks import refresh_map_overdue
from dashboards.models import GridCategoryTally
from tests.incidents.conftest import categories, road  # noqa: F401  (fixtures)
from tests.servers import CeleryWorker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"),
                       reason="needs PostgreSQL and Redis; runs in .ci/run"),
]


def refuse_connections(refuse: bool) -> None:
    """Make the test database refuse new connections and end the sessions on it, or accept them again.

    From a session on the ``postgres`` database: PostgreSQL will not change the database one is on.
    The test's own session is spared (the ``pid`` it reports), so the test can look afterwards.
    """
    import psycopg2

    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_pid,) = cursor.fetchone()
    admin = psycopg2.connect(dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
                             host=db["HOST"] or None, port=db["PORT"] or None)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            name = connection.ops.quote_name(db["NAME"])
            cursor.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {'false' if refuse else 'true'}")
            if refuse:  # the worker's next query must connect again, and be refused
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = %s AND pid <> %s", [db["NAME"], own_pid])
    finally:
        admin.close()


def overdue_in_tallies() -> int:
    return sum(GridCategoryTally.objects.values_list("overdue", flat=True))


def test_a_task_failing_while_the_database_refuses_connections_leaves_the_worker_running(
        transactional_db, city, people, road, tmp_path):  # noqa: F811
    from incidents.services import incident_file
    from tests.factories import point

    lat, lng = point(1, 2)
    incident_file(reporter=people.worker_g1111, category=road, title="路面塌陷", lat=lat, lng=lng,
                  now=timezone.now() - timedelta(days=3))  # never accepted: overdue
    GridCategoryTally.objects.update(overdue=0)  # as before the minute task noticed it

    queue = f"faults-{uuid.uuid4().hex[:8]}"
    worker = CeleryWorker(tmp_path, queue=queue)
    try:
        worker.wait_for("ready.")
        refuse_connections(True)
        try:
            refresh_map_overdue.apply_async(queue=queue)
            worker.wait_for("Retry in")  # the task failed on the database and was retried
        finally:
            refuse_connections(False)
        worker.wait_for("succeeded")  # the retry ran once the database was back
        assert worker.process.poll() is None, worker.log
        assert overdue_in_tallies() == 1
        assert "Unrecoverable error" not in worker.log
    finally:
        refuse_connections(False)
        worker.stop()
