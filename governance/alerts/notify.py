"""The alert emails: an outbox on the alert rows, emptied by a periodic task (healthchecks' ``Flip`` model).

Every alert is born in the outbox (``notified_at`` NULL). ``send_pending_alert_emails`` runs every minute
(beat) and right after a sweep that raised something (queued on its commit): each addressee's people get one
email listing what is new for them: a command centre's staff, a unit's handlers or mediators, a person. A
broker or mail server that is down delays the emails; the next run sends them. Delivery uses
``django.core.mail`` (console backend by default, SMTP from ``EMAIL_URL``).
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from governance.access.models import Role, RoleAssignment
from governance.alerts.models import Alert
from governance.core.tasks import enqueue

logger = logging.getLogger(__name__)

# An email lists at most this many alerts; the feed has the rest.
MAX_LINES_PER_EMAIL = 50
# Alerts taken from the outbox at a time (one transaction each).
OUTBOX_BATCH = 500
# Roles that receive what is addressed to a unit.
UNIT_ROLES_EMAILED = (Role.UNIT_HANDLER, Role.MEDIATOR)


def queue_alert_emails(*, raised_at: datetime | None = None) -> None:
    """Called on commit of a sweep that raised alerts: ask a worker to empty the outbox now rather than at its
    next minute. A broker outage delays the emails to the scheduled run; it loses none (they wait in the outbox)."""
    from governance.alerts.tasks import send_pending_alert_emails

    if not enqueue(send_pending_alert_emails):
        logger.warning("alert emails wait for the scheduled outbox run: the broker could not take the task")


def send_pending_alert_emails(*, now: datetime | None = None) -> int:
    """Email the addressees of every alert still in the outbox (``notified_at IS NULL``); the number of emails.

    Batches of ``OUTBOX_BATCH`` alerts, each claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` in a transaction
    of its own and marked emailed in it: two workers never send the same alert, and a worker killed before
    its commit leaves its batch in the outbox for the next run (an email may then go twice, never not at all).
    An alert resolved before it could be sent is marked, not sent: nobody needs stale news. A message that
    the mail server refuses (a bad address) is logged and not retried; a mail server that cannot be reached
    rolls the batch back, and it waits for the next run.
    """
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(Alert.objects.select_for_update(skip_locked=True, of=("self",))
                         .filter(notified_at__isnull=True).order_by("pk")
                         .select_related("owner_region", "owner_unit", "owner_user")[:OUTBOX_BATCH])
            if not batch:
                return sent
            stamp = now or timezone.now()
            sent += _send([a for a in batch if a.resolved_at is None])
            Alert.objects.filter(pk__in=[a.pk for a in batch]).update(notified_at=stamp)
        if len(batch) < OUTBOX_BATCH:
            return sent


def _recipients(alerts: list[Alert]) -> dict[str, list[Alert]]:
    """Each address, with the alerts addressed to it: a region's command staff, a unit's people, the person."""
    by_region: dict[int, list[Alert]] = defaultdict(list)
    by_unit: dict[int, list[Alert]] = defaultdict(list)
    by_email: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        if alert.owner_region_id:
            by_region[alert.owner_region_id].append(alert)
        elif alert.owner_unit_id:
            by_unit[alert.owner_unit_id].append(alert)
        elif alert.owner_user_id and alert.owner_user.is_active and alert.owner_user.email:
            by_email[alert.owner_user.email].append(alert)
    people = RoleAssignment.objects.active().filter(user__is_active=True).exclude(user__email="")
    for region_id, email in people.filter(role=Role.COMMAND_STAFF, region_id__in=by_region).values_list(
            "region_id", "user__email"):
        by_email[email].extend(by_region[region_id])
    for unit_id, email in people.filter(role__in=UNIT_ROLES_EMAILED, unit_id__in=by_unit).values_list(
            "unit_id", "user__email"):
        by_email[email].extend(by_unit[unit_id])
    return by_email


def _send(alerts: list[Alert]) -> int:
    if not alerts:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        messages = []
        for email, addressed in _recipients(alerts).items():
            lines = [f"- {a.get_kind_display()} · {a.get_step_display()} · {a.subject_label} {a.title}"
                     for a in dict.fromkeys(addressed)]
            shown = lines[:MAX_LINES_PER_EMAIL]
            if len(lines) > len(shown):
                shown.append(gettext("… and %(n)d more in the alert feed.") % {"n": len(lines) - len(shown)})
            subject = gettext("%(n)d new alerts") % {"n": len(lines)}
            messages.append(EmailMessage(subject, "\n".join(shown), settings.DEFAULT_FROM_EMAIL, [email]))
    if not messages:
        return 0
    sent = 0
    with get_connection() as connection:  # a server that cannot be reached raises here: the batch waits
        for message in messages:
            message.connection = connection
            try:
                sent += message.send()
            except smtplib.SMTPRecipientsRefused:
                logger.warning("the mail server refused %s; the alerts stay in the feed", message.to)
    return sent
