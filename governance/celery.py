"""The Celery app. Broker: Redis when REDIS_URL is set, else kombu's filesystem transport.

The filesystem broker runs a real worker and beat with no server (the embedded
default of ``make run``); its folders are created here so a fresh checkout works.
"""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
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


def ensure_broker_folders() -> None:
    from django.conf import settings

    for folder in getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).values():
        if isinstance(folder, str) and folder.startswith("/"):
            os.makedirs(folder, exist_ok=True)


@app.on_after_configure.connect
def _make_folders(sender, **kwargs):
    ensure_broker_folders()
