"""The shared cache, on Redis, that a Redis down or silent cannot take the portal down with it.

The portal uses the cache only to go faster (memo tokens, the map's "overdue as of"),
never as the only copy of anything, so a cache that cannot answer must cost a request
nothing but speed. Django's ``RedisCache`` raises instead, and redis-py waits 5 s for
an answer by default. ``ResilientRedisCache``:

* fails fast: the settings give connect and read timeouts fit for a LAN (tens of
  milliseconds: ``REDIS_TIMEOUT``) and no retries;
* answers as a miss when Redis is unreachable, refuses, or does not answer in time:
  ``get`` gives the default, ``add``/``touch``/``delete`` give ``False``, ``set`` does
  nothing, ``get_many`` gives ``{}``; callers compute without the cache;
* stops asking for ``PAUSE_SECONDS`` after a failure (per process and server), so a
  silent Redis costs one timeout per pause, not one per call, and logs one warning
  per pause.

Programming errors (a wrong type, a bad command) still raise: only the failures of
the server and the network are forgiven. ``incr``/``decr`` raise too: no answer could
stand for a counter that was not counted (the portal uses none).
"""

from __future__ import annotations

import logging
import threading
import time
from functools import wraps

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

PAUSE_SECONDS = 2.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

_lock = threading.Lock()
_paused_until: dict[str, float] = {}  # server LOCATION -> time.monotonic() when it is tried again


def _forgiving(answer_when_down):
    def decorate(method):
        @wraps(method)
        def call(self, *args, **kwargs):
            if time.monotonic() < _paused_until.get(self._location_key, 0.0):
                return answer_when_down(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self._pause(exc)
                return answer_when_down(*args, **kwargs)

        return call

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _false(*args, **kwargs):
    return False


def _none(*args, **kwargs):
    return None


def _empty(*args, **kwargs):
    return {}


def _all_failed(data, *args, **kwargs):
    return list(data)


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, answering as a miss while Redis is down or silent (see the module)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location_key = ",".join(self._servers)

    def _pause(self, exc: Exception) -> None:
        with _lock:
            already = time.monotonic() < _paused_until.get(self._location_key, 0.0)
            _paused_until[self._location_key] = time.monotonic() + PAUSE_SECONDS
        if not already:
            logger.warning("the cache server does not answer (%s: %s); working without the cache for %.0f s",
                           type(exc).__name__, exc, PAUSE_SECONDS)

    get = _forgiving(_default)(RedisCache.get)
    add = _forgiving(_false)(RedisCache.add)
    set = _forgiving(_none)(RedisCache.set)
    touch = _forgiving(_false)(RedisCache.touch)
    delete = _forgiving(_false)(RedisCache.delete)
    has_key = _forgiving(_false)(RedisCache.has_key)
    get_many = _forgiving(_empty)(RedisCache.get_many)
    set_many = _forgiving(_all_failed)(RedisCache.set_many)
    delete_many = _forgiving(_none)(RedisCache.delete_many)
    clear = _forgiving(_false)(RedisCache.clear)


def reset_pauses() -> None:
    """Ask every server again at once (tests that restart Redis)."""
    with _lock:
        _paused_until.clear()
