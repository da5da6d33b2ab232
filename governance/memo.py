"""A per-process copy of a small, rarely changed table, kept only while a token in the shared cache stands.

The hottest requests (filing an incident) read the same few rows every time:
the categories, for one. ``SharedMemo`` keeps what ``load`` returned and answers
from it while the token in the shared cache (Redis, or the file cache of the
embedded setup) is the one it was loaded under:

* a writer calls ``changed()`` in its transaction (a model signal does it); the
  token is replaced when that transaction commits, so every process loads again
  on its next use, and the writer's own process loads from the database until
  then (it sees its own change, and nothing it may roll back is kept);
* the token is read before loading, so a change committed during a load makes
  the next use load again;
* when the cache cannot be read, nothing is kept: every use loads;
* ``max_age`` (seconds) bounds how long a copy is kept whatever the token says:
  a safety net for a write that forgot to call ``changed()``.

``grids.locate`` keeps its polygon index the same way, with a database check of
its own on top (boundaries are written by imports too).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)
_memos: list[SharedMemo] = []


class SharedMemo(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T], *, max_age: float | None = None):
        self.key = f"memo:{name}:token"
        self.load = load
        self.max_age = max_age
        self._lock = threading.Lock()
        self._kept: tuple[str, T, float] | None = None  # token, value, when loaded (time.monotonic)
        self._pending = 0  # changes of this process waiting for their commit
        _memos.append(self)

    def get(self) -> T:
        token = self._token()
        kept = self._kept
        now = time.monotonic()
        if (token is not None and kept is not None and kept[0] == token and not self._pending
                and (self.max_age is None or now - kept[2] < self.max_age)):
            return kept[1]
        value = self.load()
        if token is not None and not self._pending:
            with self._lock:
                self._kept = (token, value, now)
        return value

    def changed(self) -> None:
        """The table changed in the current transaction: every process loads again once it commits."""
        with self._lock:
            self._pending += 1
            self._kept = None

        def committed() -> None:
            with self._lock:
                self._pending = max(0, self._pending - 1)
            try:
                cache.set(self.key, uuid.uuid4().hex, timeout=None)
            except Exception:  # other processes keep their copy until the cache is back: say so
                logger.exception("cannot replace the token of %s in the shared cache", self.key)

        transaction.on_commit(committed, robust=True)

    def forget(self) -> None:
        """Drop what this process keeps, and any change it waits for (tests: a rollback announces nothing)."""
        with self._lock:
            self._kept = None
            self._pending = 0

    def _token(self) -> str | None:
        try:
            token = cache.get(self.key)
            if token is None:
                fresh = uuid.uuid4().hex
                token = fresh if cache.add(self.key, fresh, timeout=None) else cache.get(self.key)
            return token
        except Exception:
            logger.warning("cannot read %s from the shared cache; reading the database", self.key, exc_info=True)
            return None


def forget_all() -> None:
    for memo in _memos:
        memo.forget()
