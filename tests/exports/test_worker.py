"""A real Celery worker, as another node would run it, writes a large export to the shared object store; the
web process, which never ran it, serves the file to its owner (PostgreSQL, Redis and an S3 server, for real)."""

from __future__ import annotations

import io
import os
import time
import uuid

import pytest
from django.db import connection
from openpyxl import load_workbook

from governance.exports import services
from governance.exports.kinds import get_kind
from governance.exports.models import ExportJob
from governance.settings import file_storage
from tests.dashboards.helpers import body_of, client_for
from tests.servers import CeleryWorker, S3Server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"),
                       reason="needs PostgreSQL and Redis; runs in .ci/run"),
]
PREFIX = "node-shared"


def test_a_worker_on_another_node_writes_the_export_the_web_serves(transactional_db, people, request, settings,
                                                                   monkeypatch, tmp_path):
    world = request.getfixturevalue("world")
    s3 = S3Server()
    worker = None
    try:
        bucket = s3.new_bucket()
        settings.STORAGES = {**settings.STORAGES, "default": file_storage(
            "s3", bucket=bucket, endpoint_url=s3.url, access_key=S3Server.ACCESS_KEY, secret_key=S3Server.SECRET_KEY,
            region=S3Server.REGION, prefix=PREFIX)}
        queue = f"exports-{uuid.uuid4().hex[:8]}"
        # The worker's own process reads the same storage settings from its environment, as a node would.
        worker = CeleryWorker(tmp_path, queue=queue, env=s3.environment(bucket, PREFIX))
        worker.wait_for("ready.")
        # The job goes to this test's worker alone (the queue is the only difference from production).
        monkeypatch.setattr(services, "enqueue", lambda task, *args: task.apply_async(args=args, queue=queue) or True)
        monkeypatch.setattr(get_kind("incidents"), "sync_limit", 1)
        client = client_for(people.d1_command)
        asked = client.post("/exports/new/incidents/", {"format": "xlsx", "columns": ["number", "reported_at"]})
        job = ExportJob.objects.get()
        assert asked.status_code == 302 and asked["Location"] == f"/exports/{job.pk}/"
        deadline = time.monotonic() + 60
        status = {}
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/exports/{job.pk}/").json()
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert status["status"] == "done", f"{status}\n{worker.log}"
        assert "governance.exports.tasks.run_export" in worker.log and "succeeded" in worker.log
        job.refresh_from_db()
        assert s3.keys(bucket, f"{PREFIX}/exports/") == [f"{PREFIX}/{job.file.name}"]
        download = client.get(status["download_url"])
        assert download.status_code == 200
        content = body_of(download)
        assert content == s3.read(bucket, f"{PREFIX}/{job.file.name}")
        sheet = load_workbook(io.BytesIO(content)).active
        assert {row[0] for row in list(sheet.values)[1:]} == {i.number for i in world.d1}
    finally:
        if worker is not None:
            worker.stop()
        s3.stop()
