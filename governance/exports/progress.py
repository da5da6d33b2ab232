"""A running export's progress, counted onto its job row by the run that holds the job."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.utils import timezone

from governance.exports.models import ExportJob, ExportStatus

T = TypeVar("T")
# Seconds between two writes of the progress: the page polls every two seconds, and a fast export
# of a hundred thousand rows then writes its row a handful of times, not once per chunk.
REPORT_EVERY_SECONDS = 1.0


class Superseded(Exception):
    """The job is no longer this run's: another run claimed it, or it was failed or expired meanwhile."""


class Progress:
    """Reports of one run: ``start(total)``, then ``advance()`` per row (or ``track(rows)``).

    Every write is conditional on the job still being this run's (its ``attempts`` and status
    ``running``); when it is not, ``Superseded`` is raised and the run stops, keeping nothing.
    Each write is also the run's heartbeat (``updated_at``): a job whose heartbeat stops is
    failed by the expiry task.
    """

    def __init__(self, job_id: int, attempt: int, *, every: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.job_id = job_id
        self.attempt = attempt
        self.total: int | None = None
        self.done = 0
        self._every = REPORT_EVERY_SECONDS if every is None else every
        self._clock = clock
        self._reported_at = clock()

    def write(self, **fields) -> None:
        """Write ``fields`` on the job if it is still this run's; ``Superseded`` otherwise."""
        updated = ExportJob.objects.filter(pk=self.job_id, attempts=self.attempt, status=ExportStatus.RUNNING).update(
            updated_at=timezone.now(), **fields)
        if not updated:
            raise Superseded(self.job_id)
        self._reported_at = self._clock()

    def start(self, total: int | None) -> None:
        """The run knows how many rows it will write (``None``: it cannot tell)."""
        self.total, self.done = total, 0
        self.write(total=total, done=0)

    def advance(self, rows: int = 1) -> None:
        self.done += rows
        if self._clock() - self._reported_at >= self._every:
            self.write(done=self.done)

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, counting each one as done once the next is asked for (or the iteration ends)."""
        for item in items:
            yield item
            self.advance()
