"""Abuse limits on what anonymous callers can file: a fixed window counted in the shared cache.

One small interface (``hit``): the counter is the cache's ``add`` then ``incr``, atomic on Redis
(production) and good enough on the file cache of a single machine. When the cache is down the
limit is not enforced (``ResilientRedisCache`` answers nothing): a resident is never refused
because Redis restarted. Limits are settings, "count/seconds": ``INTAKE_RATE_PER_CLIENT`` and
``INTAKE_RATE_PER_GRID`` for the QR page, ``INTAKE_RATE_PER_KEY`` for Open311 filings.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from governance.core.cache import UNREACHABLE
from governance.core.errors import DomainError


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"
    default_message = _("Too many reports in a short time. Please wait a while and try again.")


def parse_rate(rate: str) -> tuple[int, int]:
    count, _sep, seconds = rate.partition("/")
    return int(count), int(seconds)


def hit(bucket: str, rate: str, *, now: float | None = None) -> bool:
    """Count one use of ``bucket``; ``False`` when the window's limit is already used up."""
    limit, window = parse_rate(rate)
    now = time.time() if now is None else now
    key = f"intake:rate:{bucket}:{int(now // window)}"
    try:
        if cache.add(key, 1, timeout=window + 5):
            return True
        count = cache.incr(key)
    except ValueError:  # expired between add and incr (or the cache answered nothing to add)
        cache.add(key, 1, timeout=window + 5)
        return True
    except UNREACHABLE:  # Redis is down or silent: not enforced, rather than refusing residents
        return True
    return count <= limit


def check(*buckets: tuple[str, str]) -> None:
    """Count each ``(bucket, rate)`` and refuse (429) if any is over its limit."""
    over = [bucket for bucket, rate in buckets if not hit(bucket, rate)]
    if over:
        raise RateLimited()


def client_address(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or the proxy's ``X-Forwarded-For`` when ``INTAKE_TRUST_PROXY``."""
    if getattr(settings, "INTAKE_TRUST_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
