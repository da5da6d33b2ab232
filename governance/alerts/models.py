"""One alert model for every watched subject."""

from __future__ import annotations

from fractions import Fraction

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.core.scoping import Action, RestrictedQuerySet, Scope

# Acting on an alert is acting on its subject for the command centre it is addressed to.
ACT_ON_ALERT = Action.TRIAGE

# A deadline is approaching (yellow) once this share of its allowed time has passed, measured in
# the unit of its limit: clock time for a limit in hours, working time for one in working days.
# Every watcher computes its subjects' warning instants with it (incidents: ``incidents.deadlines``).
APPROACHING_SHARE = Fraction(4, 5)


class AlertKind(models.TextChoices):
    DEADLINE_APPROACHING = "deadline_approaching", _("Deadline approaching")
    OVERDUE = "overdue", _("Overdue")
    ESCALATED = "escalated", _("Escalated")
    # Reserved for the mediation and pilot-task watchers.
    RED_RISK = "red_risk", _("Red-risk dispute")
    MISSING_FILING = "missing_filing", _("Missing progress filing")


class AlertSeverity(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class AlertStep(models.TextChoices):
    """Which deadline of the subject an alert is about."""

    ACCEPT = "accept", _("Acceptance")
    HANDLE = "handle", _("Handling")
    NONE = "", _("None")


class AlertQuerySet(RestrictedQuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def unread(self):
        return self.filter(resolved_at__isnull=True, acknowledged_at__isnull=True)


class Alert(models.Model):
    """Something a command centre must look at: a deadline coming, passed, or escalated.

    The subject is named by ``(subject_type, subject_id)`` rather than a generic
    foreign key: the sweep joins it in SQL by id, and nothing on the hot path
    needs the content-types table. Rows are written by the sweep in bulk
    (``governance.alerts.sweep``); people only acknowledge them.

    At most one *open* alert per subject and kind: a partial unique index, so that
    two sweeps at once cannot raise the same alert twice.
    """

    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_id = models.BigIntegerField(_("subject id"))
    # A human label of the subject when the alert was raised, e.g. the incident number.
    subject_label = models.CharField(_("subject"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=24, choices=AlertKind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=AlertSeverity.choices)
    step = models.CharField(_("deadline"), max_length=8, choices=AlertStep.choices, blank=True, default="")
    # The territory the subject belongs to (an incident's grid): the scoping door uses it.
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("region"))
    # The command centre expected to act when the alert was raised; its staff get the email.
    owner_region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", null=True,
                                     blank=True, verbose_name=_("responsible command centre"))
    # The deadline the alert is about: a moved deadline resolves it.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("acknowledged by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        app_label = "governance"
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "kind"],
                                    condition=Q(resolved_at__isnull=True), name="one_open_alert_per_subject_kind"),
        ]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="alert_subject"),
            models.Index(fields=["resolved_at", "raised_at"], name="alert_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.subject_label or self.subject_id}"

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        """Who sees an alert, and who may act on it (acknowledge it).

        * Seeing (``view``, and ``administer`` in the admin) follows the subject's territory: everyone who sees the
          incident's grid sees its alerts, supervisors included.
        * Acting follows the addressee: an alert is addressed to a command centre
          (``owner_region``), and acting on it is that centre's work on its subject, so it
          needs ``triage`` over the centre's region (its staff, those above, administrators).
          A supervisor or a grid worker reads the alert and may not acknowledge it.
        """
        lookup = "owner_region__path__startswith" if action == ACT_ON_ALERT else "region__path__startswith"
        q = Q()
        matched = False
        for path in scope.paths(action):
            q |= Q(**{lookup: path})
            matched = True
        return q if matched else None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def subject_url(self) -> str:
        """The subject's page, as its watcher names it ("" when none is registered for it)."""
        from governance.alerts.sweep import watcher_for

        watcher = watcher_for(self.subject_type)
        return watcher.subject_url(self.subject_id) if watcher is not None else ""


class AlertRead(models.Model):
    """That one person has read an alert: "read" is per person, "acknowledged" per addressee.

    Anyone who sees an alert may mark it read for themselves (it clears their own badge,
    a supervisor's too); only the addressee acknowledges it, for everyone there.
    """

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        app_label = "governance"
        verbose_name = _("alert read")
        constraints = [models.UniqueConstraint(fields=["alert", "user"], name="one_read_per_alert_user")]
        indexes = [models.Index(fields=["user", "alert"], name="alert_read_user")]
