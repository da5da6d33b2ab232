"""The email hook: when a sweep raises alerts, the responsible command centre's staff get one email each.

Set-based like the sweep: one Celery task per sweep, carrying the sweep's instant
(every alert that sweep raised has ``raised_at`` equal to it), not one task per alert.
Delivery uses ``django.core.mail`` (console backend by default, SMTP from ``EMAIL_URL``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import translation
from django.utils.translation import gettext

from governance.access.models import Role, RoleAssignment
from governance.alerts.models import Alert

logger = logging.getLogger(__name__)

# An email lists at most this many alerts; the feed has the rest.
MAX_LINES_PER_EMAIL = 50


def queue_alert_emails(*, raised_at: datetime) -> None:
    """Called on commit of a sweep that raised alerts. A broker outage costs the email, not the sweep."""
    from governance.alerts.tasks import send_alert_emails

    try:
        send_alert_emails.delay(raised_at=raised_at.isoformat())
    except Exception:  # the alerts are in the feed anyway
        logger.exception("Could not queue the alert emails of the sweep at %s", raised_at.isoformat())


def send_alert_emails(*, raised_at: datetime) -> int:
    """Email the command-centre staff of each alert's responsible region. Returns the number of emails sent."""
    alerts_by_region: dict[int, list[Alert]] = defaultdict(list)
    for alert in Alert.objects.open().filter(raised_at=raised_at, owner_region__isnull=False).order_by("pk").only(
        "kind", "step", "subject_label", "title", "owner_region_id"
    ):
        alerts_by_region[alert.owner_region_id].append(alert)
    if not alerts_by_region:
        return 0
    recipients = (
        RoleAssignment.objects.active()
        .filter(role=Role.COMMAND_STAFF, region_id__in=alerts_by_region, user__is_active=True)
        .exclude(user__email="")
        .values_list("region_id", "user__email")
    )
    lines_by_email: dict[str, list[str]] = defaultdict(list)
    with translation.override(settings.LANGUAGE_CODE):
        for region_id, email in recipients:
            for alert in alerts_by_region[region_id]:
                lines_by_email[email].append(
                    f"- {alert.get_kind_display()} · {alert.get_step_display()} · {alert.subject_label} {alert.title}"
                )
        messages = []
        for email, lines in lines_by_email.items():
            shown = lines[:MAX_LINES_PER_EMAIL]
            if len(lines) > len(shown):
                shown.append(gettext("… and %(n)d more in the alert feed.") % {"n": len(lines) - len(shown)})
            subject = gettext("%(n)d new alerts") % {"n": len(lines)}
            messages.append((subject, "\n".join(shown), settings.DEFAULT_FROM_EMAIL, [email]))
    return send_mass_mail(messages, fail_silently=False) if messages else 0
