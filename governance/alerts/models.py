"""One alert model for every watched subject and every addressee.

A watcher (registered by the app that owns the subject: ``incidents.watcher``, later mediation and
the ledgers) writes its alerts, each addressed to whoever must act: a region's command centre
(``owner_region``), a unit (``owner_unit``: a department, a mediation organisation) or a person
(``owner_user``: a mediator, a supervisor). The kinds and steps of alerts are the watchers': each
registers the labels of its own (``register_labels``).
"""

from __future__ import annotations

from fractions import Fraction

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from governance.core.scoping import Action, RestrictedQuerySet, Scope

# Not an action a role grants: the door's word for "may act on this alert". Alert.scope_q reads it
# as the right its addressee calls for: triage over a command centre's region, handling or mediating
# for a unit, being the person.
ACT_ON_ALERT = "act_on_alert"

# A deadline is approaching (yellow) once this share of its allowed time has passed, measured in
# the unit of its limit: clock time for a limit in hours, working time for one in working days.
# Every watcher computes its subjects' warning instants with it (incidents: ``incidents.deadlines``).
APPROACHING_SHARE = Fraction(4, 5)


class AlertKind(models.TextChoices):
    """The kinds every deadline watcher uses; a watcher registers kinds of its own beside them."""

    DEADLINE_APPROACHING = "deadline_approaching", _("Deadline approaching")
    OVERDUE = "overdue", _("Overdue")
    ESCALATED = "escalated", _("Escalated")


class AlertSeverity(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


# The labels of kinds and steps (which deadline of the subject), by code: the kernel's, and the
# watchers' (``register_labels``, called when their app starts).
KIND_LABELS: dict[str, str | Promise] = dict(AlertKind.choices)
STEP_LABELS: dict[str, str | Promise] = {"": _("None")}


def register_labels(*, kinds: dict[str, str | Promise] | None = None,
                    steps: dict[str, str | Promise] | None = None) -> None:
    KIND_LABELS.update(kinds or {})
    STEP_LABELS.update(steps or {})


class AlertQuerySet(RestrictedQuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def unread(self):
        return self.filter(resolved_at__isnull=True, acknowledged_at__isnull=True)


class Alert(models.Model):
    """Something its addressee must look at: a deadline coming, passed, or escalated, a red risk…

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
    kind = models.CharField(_("kind"), max_length=24)  # KIND_LABELS
    severity = models.CharField(_("severity"), max_length=8, choices=AlertSeverity.choices)
    step = models.CharField(_("deadline"), max_length=16, blank=True, default="")  # STEP_LABELS
    # The territory the subject belongs to (an incident's grid), when it has one: who sees the alert.
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", null=True, blank=True,
                               verbose_name=_("region"))
    # The addressee, who must act: at most one of these three. Acknowledging is theirs; the email goes to them.
    owner_region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", null=True,
                                     blank=True, verbose_name=_("responsible command centre"))
    owner_unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, related_name="+", null=True,
                                   blank=True, verbose_name=_("responsible unit"))
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                   blank=True, verbose_name=_("responsible person"))
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
    # The email outbox (healthchecks' Flip rows): NULL until the addressee was emailed, or the alert
    # resolved before it could be. A periodic task sends what is pending, so a broker outage delays
    # emails and loses none (governance.alerts.notify).
    notified_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        app_label = "governance"
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "kind"],
                                    condition=Q(resolved_at__isnull=True), name="one_open_alert_per_subject_kind"),
            models.CheckConstraint(
                condition=(Q(owner_unit__isnull=True, owner_user__isnull=True)
                           | Q(owner_region__isnull=True, owner_user__isnull=True)
                           | Q(owner_region__isnull=True, owner_unit__isnull=True)),
                name="alert_one_addressee"),
        ]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="alert_subject"),
            models.Index(fields=["resolved_at", "raised_at"], name="alert_feed"),
            models.Index(fields=["notified_at"], name="alert_outbox", condition=Q(notified_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.subject_label or self.subject_id}"

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        """Who sees an alert, and who may act on it (acknowledge it).

        * Seeing (``view``, and ``administer`` in the admin) follows the subject's territory (everyone
          who sees the incident's grid sees its alerts, supervisors included) and the addressee (a
          unit's people see what is addressed to their unit, a person what is addressed to them).
        * Acting (``ACT_ON_ALERT``) follows the addressee alone: ``triage`` over a command centre's
          region (its staff, the centres above it, administrators), ``handle`` or ``mediate`` over a
          unit, or being the person. A supervisor or a grid worker reads and may not acknowledge.
        """
        q = Q()
        matched = False
        if action == ACT_ON_ALERT:
            for path in scope.paths(Action.TRIAGE):
                q |= Q(owner_region__path__startswith=path)
                matched = True
            units = scope.units(Action.HANDLE) | scope.units(Action.MEDIATE)
        else:
            for path in scope.paths(action):
                q |= Q(region__path__startswith=path)
                matched = True
            units = scope.units(action)
        if units:
            q |= Q(owner_unit_id__in=sorted(units))
            matched = True
        if scope.user_id is not None and action in (ACT_ON_ALERT, Action.VIEW):
            q |= Q(owner_user_id=scope.user_id)
            matched = True
        return q if matched else None

    def get_kind_display(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    def get_step_display(self) -> str:
        return str(STEP_LABELS.get(self.step, self.step))

    @property
    def addressee(self):
        """Whom the alert is addressed to: a region (its command centre), a unit or a person; None for no one."""
        return self.owner_region or self.owner_unit or self.owner_user

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
