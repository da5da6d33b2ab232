"""The one per-process cache of the portal: a copy of a small, rarely changed source, aware of transactions.

The hottest requests (filing an incident) read the same few things every time:
the categories, the users' scopes, the grid polygons, the working-day table.
``SharedMemo`` keeps what it built from them and answers from that copy while
nothing says the source changed. Three things can say so:

* **a shared token** (unless ``token=False``) in the shared cache (Redis, or the file cache of the
  embedded setup): a writer calls ``changed()`` inside its transaction, and the
  token is replaced when that transaction commits, so every process builds again
  on its next use. While the cache cannot be read, a memo without a database
  version keeps nothing (every use loads);
* **a database version** (optional): a cheap read that changes when the source
  changes (the number of grids and their latest ``updated_at``; the whole
  calendar table), read at most every ``recheck_seconds``. It catches writes that
  announced nothing (bulk loads, another tool, a lost token) and lets the copy
  survive a cache that is down;
* **``max_age``** (optional): a copy is never kept longer, whatever the rest says.

**Transactions.** A change is *pending* in the transaction that made it, and only
there: each thread has its own database connection, so pending state lives with
the connection's open transaction, not with the process. While it is pending,
that transaction reads the database on every use (it sees its own change: a memo
with a version reads the version and builds again only when it moved) and keeps
what it built for itself alone (it may roll back). Other threads keep answering from
the committed copy. When the transaction commits, the token is replaced; when it
rolls back (whole or to a savepoint), the change simply stops being pending:
Django forgets the commit hooks of a rolled-back transaction, and a hook still
waiting in the connection's list is what "pending" means here. So one rolled-back
change costs that one transaction its cache, never the process.

A speed trick that stays in its room (STYLE.md 13): callers call ``get()`` and
``changed()``; tests hold each memo equal to a plain read.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)
_memos: list[SharedMemo] = []
_NO_VERSION = object()


@dataclass
class _Kept(Generic[T]):
    value: T
    token: str | None
    version: Any
    loaded_at: float  # time.monotonic() of the build
    checked_at: float  # when the version was last read and found equal


class _Announce:
    """The commit hook of one ``changed()``: while Django still holds it unrun, the change is pending."""

    __slots__ = ("memo", "ran", "kept")

    def __init__(self, memo: SharedMemo):
        self.memo = memo
        self.ran = False
        self.kept: tuple[Any, Any] | None = None  # (version, value) built inside the writer's transaction

    def __call__(self) -> None:
        self.ran = True
        self.memo._committed()


class SharedMemo(Generic[T]):
    """A value built from a source, kept per process while the source is known not to have changed.

    ``load()`` builds the value (used when there is no ``version``); with ``version``,
    ``build(version())`` does, and a copy whose version still reads the same is kept.
    """

    def __init__(self, name: str, load: Callable[[], T] | None = None, *, max_age: float | None = None,
                 version: Callable[[], Any] | None = None, build: Callable[[Any], T] | None = None,
                 recheck_seconds: float = 5.0, key: str | None = None, token: bool = True,
                 clock: Callable[[], float] | None = None):
        if (load is None) == (build is None) or (build is not None and version is None):
            raise TypeError("give either load, or version and build")
        if not token and version is None:
            raise TypeError("a memo without a shared token needs a database version")
        self.name = name
        self.key = key or f"memo:{name}:token"
        self.use_token = token
        self.load = load
        self.version = version
        self.build = build
        self.max_age = max_age
        self.recheck_seconds = recheck_seconds
        self._clock = clock or (lambda: time.monotonic())
        self._lock = threading.Lock()
        self._kept: _Kept[T] | None = None
        _memos.append(self)

    # --- reading ------------------------------------------------------------------

    def get(self) -> T:
        hook = self._pending_hook()
        if hook is not None:
            return self._in_writer_transaction(hook)
        token = self._token() if self.use_token else None
        now = self._clock()
        kept = self._kept
        if kept is not None and kept.token == token and (self.max_age is None or now - kept.loaded_at < self.max_age):
            if self.version is None:
                if token is not None:
                    return kept.value
            elif now - kept.checked_at < self.recheck_seconds:
                return kept.value
            else:
                version = self.version()
                if version == kept.version:
                    kept.checked_at = now
                    return kept.value
                return self._keep(token, now, version)
        if self.version is None and token is None:
            return self._fresh()[1]  # nothing tells this process of a change: keep nothing
        return self._keep(token, now, _NO_VERSION)

    def _in_writer_transaction(self, hook: _Announce) -> T:
        """Its own change, uncommitted: read the database; what is built is kept for this transaction only."""
        if self.version is None:
            return self.load()
        version = self.version()
        if hook.kept is None or hook.kept[0] != version:
            hook.kept = (version, self.build(version))
        return hook.kept[1]

    def _fresh(self, version: Any = _NO_VERSION) -> tuple[Any, T]:
        if self.version is None:
            return None, self.load()
        if version is _NO_VERSION:
            version = self.version()
        return version, self.build(version)

    def _keep(self, token: str | None, now: float, version: Any) -> T:
        with self._lock:
            kept = self._kept
            if kept is not None and kept.token == token and (
                    kept.loaded_at >= now  # another thread built it while this one waited for the lock
                    or (self.version is not None and version is not _NO_VERSION and kept.version == version)):
                kept.checked_at = max(kept.checked_at, now)
                return kept.value
            version, value = self._fresh(version)
            if not self.pending():  # a change made meanwhile in this transaction: it may roll back
                self._kept = _Kept(value, token, version, now, now)
            return value

    # --- writing ------------------------------------------------------------------

    def changed(self, using: str = DEFAULT_DB_ALIAS) -> None:
        """The source changed in the current transaction: every process builds again once it commits.

        Until then only this transaction reads the database on every use; if it rolls
        back, nothing was announced and nothing needs to be.
        """
        earlier = self._pending_hook(using)
        if earlier is not None:
            earlier.kept = None  # built before this change: its version may not show it (a lagging clock)
        transaction.on_commit(_Announce(self), using=using, robust=True)

    def pending(self, using: str = DEFAULT_DB_ALIAS) -> bool:
        """Whether the current transaction (this thread's connection) changed the source and has not committed."""
        return self._pending_hook(using) is not None

    def _pending_hook(self, using: str = DEFAULT_DB_ALIAS) -> _Announce | None:
        connection = connections[using]
        if not connection.in_atomic_block:
            return None
        # Django keeps (savepoint ids, callback, robust) per on_commit() until the transaction ends,
        # and drops them on a rollback, a savepoint's included (tests/governance/test_memo.py pins it).
        for _sids, hook, *_rest in connection.run_on_commit:
            if isinstance(hook, _Announce) and hook.memo is self and not hook.ran:
                return hook
        return None

    def _committed(self) -> None:
        self._kept = None  # this process builds again even if the token cannot be replaced
        if not self.use_token:
            return
        try:
            cache.set(self.key, uuid.uuid4().hex, timeout=None)
        except Exception:  # other processes keep their copy until their version or max_age says otherwise
            logger.exception("cannot replace the token of %s in the shared cache", self.key)

    def forget(self) -> None:
        """Drop the copy this process keeps: the next use builds again."""
        self._kept = None

    # --- the token ----------------------------------------------------------------

    def _token(self) -> str | None:
        try:
            token = cache.get(self.key)
            if token is None:
                fresh = uuid.uuid4().hex
                token = fresh if cache.add(self.key, fresh, timeout=None) else cache.get(self.key)
            return token
        except Exception:
            logger.warning("cannot read %s from the shared cache", self.key, exc_info=True)
            return None


def forget_all() -> None:
    """Every memo of this process builds again on its next use (tests that write tables behind its back)."""
    for memo in _memos:
        memo.forget()
