"""What every app's Celery tasks share: which errors are worth a retry, and queueing that cannot fail a request."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError

# A task retries only these: the database went away for a moment. Anything else is a bug or bad data.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
logger = logging.getLogger(__name__)


def enqueue(task, *args, **kwargs) -> bool:
    """Queue ``task``; False, and a line in the log, when the broker cannot take it.

    The broker's timeouts (settings: ``REDIS_TIMEOUT``, ``CELERY_TASK_PUBLISH_RETRY_POLICY``)
    keep a broker that is down or silent to a fraction of a second. Every caller decides what
    a task that was not queued means for its user (an export is marked failed and says so).
    """
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception:  # kombu's OperationalError, redis' errors, a full disk under the filesystem broker
        logger.exception("could not queue %s: the broker does not answer", task.name)
        return False
    return True
