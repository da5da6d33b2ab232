"""A filing with photos killed (SIGKILL) in the middle leaves no file without a row once the hourly task ran.

The victim (tests/incidents/filing_victim.py) is a real process filing through the real
service on the test database; it is killed after two of its three photos are written and
their rows inserted, before its transaction commits. Its files are then in MEDIA_ROOT with
no row: ``reclaim_orphan_photos`` deletes them, and leaves every photo a row refers to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.models import Attachment, Incident
from incidents.tasks import reclaim_orphan_photos
from tests.factories import point
from tests.incidents.conftest import photo
from tests.servers import database_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (a database two processes "
                                                                  "share); runs in .ci/run"),
]


def files_in(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_a_filing_killed_after_writing_photos_leaves_no_orphan_after_the_reclaim(
        transactional_db, city, people, road):
    from incidents.services import incident_file

    lat, lng = point(1, 2)
    kept = incident_file(reporter=people.worker_g1111, category=road, title="井盖缺失", lat=lat, lng=lng,
                         photos=[photo(), photo(color=(0, 0, 255))]).incident
    root = Path(settings.MEDIA_ROOT)
    committed = files_in(root)
    assert len(committed) == 4  # two photos and the thumbnail made of each at upload

    victim = subprocess.Popen(
        [sys.executable, "-m", "tests.incidents.filing_victim", "--reporter", str(people.worker_g1111.pk),
         "--category", str(road.pk), "--lat", str(lat), "--lng", str(lng), "--photos", "3", "--stop-after", "2"],
        cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": str(root),
             "DJANGO_SETTINGS_MODULE": "governance.settings"},
    )
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "STOPPED" not in line:
            line = victim.stdout.readline()
            assert line or victim.poll() is None, "the victim ended without stopping"
            assert time.monotonic() < deadline, "the victim never reached the middle of its filing"
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()

    orphans = files_in(root) - committed
    # two photos written with their thumbnails, their rows never committed
    assert len(orphans) == 4 and len([name for name in orphans if name.endswith(".thumb.jpg")]) == 2
    assert Incident.objects.count() == 1 and Attachment.objects.count() == 2

    assert reclaim_orphan_photos.apply().get() == 0  # younger than the grace: maybe still on their way
    assert files_in(root) == committed | orphans

    later = timezone.now() + timedelta(hours=2)
    from incidents.attachments import reclaim_orphan_photos as reclaim

    assert sorted(reclaim(now=later)) == sorted(orphans)
    assert files_in(root) == committed
    kept_files = {name for a in kept.attachments.all() for name in (a.file.name, a.thumbnail.name)}
    assert kept_files == committed  # every row still has its photo and its thumbnail
