"""Files in storage that no row refers to: found and removed on a schedule.

A file is written before the row that refers to it commits (an upload must be in
storage before anyone can read its row). A process killed in between (a gunicorn
worker timing out is a SIGKILL too) leaves a file without a row, and no code of
that process will ever run again to delete it. So a periodic task looks for them:
a file under one of the given folders is an orphan when no row refers to it and
it is older than ``grace`` (a filing writes its files and commits its rows within
seconds; an hour leaves no doubt). The other way round cannot happen: a file is
deleted only by a transaction that certainly rolled back (its body raised) or by
this task, which sees no row; a failed *commit* may have committed, so its files
are left here to decide (``governance.core.files.atomic_with_files``).

Listing is per folder, and folders are per month (``incidents/2026/12``): a run
lists the current and the previous month, and asks the database about the names in
batches; only the few files without a row are asked their age.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from django.core.files.storage import Storage
from django.utils import timezone

logger = logging.getLogger(__name__)

GRACE = timedelta(hours=1)
BATCH = 1000


def month_folders(prefix: str, now: datetime, months: int = 2) -> list[str]:
    """``prefix/YYYY/MM`` of the month of ``now`` and the ``months - 1`` before it (local time)."""
    local = timezone.localtime(now)
    year, month = local.year, local.month
    folders = []
    for _ in range(months):
        folders.append(f"{prefix}/{year:04d}/{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return folders


def reclaim(*, storage: Storage, folders: Iterable[str], referenced: Callable[[Sequence[str]], set[str]],
            now: datetime | None = None, grace: timedelta = GRACE) -> list[str]:
    """Delete the files under ``folders`` that no row refers to and that are older than ``grace``.

    ``referenced(names)`` answers which of ``names`` some row refers to. Returns what was deleted.
    """
    cutoff = (now or timezone.now()) - grace
    deleted: list[str] = []
    for folder in folders:
        try:
            _dirs, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        names = sorted(f"{folder}/{name}" for name in files)
        for start in range(0, len(names), BATCH):
            batch = names[start:start + BATCH]
            known = referenced(batch)
            for name in batch:
                if name in known:
                    continue
                try:
                    if storage.get_modified_time(name) > cutoff:
                        continue  # a filing may still be on its way to commit the row
                    storage.delete(name)
                except FileNotFoundError:
                    continue
                deleted.append(name)
    if deleted:
        logger.warning("deleted %d file(s) that no row refers to (a process killed mid-write): %s",
                       len(deleted), ", ".join(deleted[:20]) + (" …" if len(deleted) > 20 else ""))
    return deleted
