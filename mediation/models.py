"""Dispute mediation cases: types, deadlines, the case with its parties, sessions, agreement and follow-ups.

The rules of a case live next to it, once (docs/decisions.md, 2026-12-02 "mediation"): which statuses
wait for the deadline, how the deadline is found (``DeadlineRule``), who may see and act on a case
(``Case.scope_q``). The status machine is ``mediation.actions.ACTIONS``, one table.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from governance.core.masking import mask_id_number, mask_name, mask_phone
from governance.core.scoping import RestrictedQuerySet, Scope

DEFAULT_DEADLINE_DAYS = 30


class DisputeType(models.Model):
    """The kind of dispute (marriage and family, neighbours, …): edited in the admin."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dispute type")
        verbose_name_plural = _("dispute types")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Source(models.TextChoices):
    INCIDENT = "incident", _("Transferred from an incident")
    WALK_IN = "walk_in", _("Walk-in")
    COURT = "court", _("Referred by a court")
    HOTLINE = "hotline", _("Hotline")
    PETITION = "petition", _("Petition")


class DeadlineRule(models.Model):
    """How many days a case has, for a source, a dispute type, or both (admin-editable).

    The most specific rule wins: source and type, then type, then source; none: 30 days.
    """

    source = models.CharField(_("source"), max_length=12, choices=Source.choices, blank=True,
                              help_text=_("Empty: any source."))
    dispute_type = models.ForeignKey(DisputeType, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="deadline_rules", verbose_name=_("dispute type"),
                                     help_text=_("Empty: any type."))
    days = models.PositiveSmallIntegerField(_("days allowed"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mediation deadline rule")
        verbose_name_plural = _("mediation deadline rules")
        constraints = [
            models.UniqueConstraint(fields=["source", "dispute_type"], name="one_deadline_rule_per_source_type",
                                    nulls_distinct=False),
            models.CheckConstraint(condition=Q(days__gte=1), name="deadline_rule_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display() or '*'} / {self.dispute_type or '*'}: {self.days}"


def deadline_days(source: str, dispute_type_id: int | None) -> int:
    """The days a case of this source and type has: the most specific ``DeadlineRule``, else 30."""
    rules = {(r.source, r.dispute_type_id): r.days
             for r in DeadlineRule.objects.filter(Q(source__in=[source, ""]),
                                                  Q(dispute_type_id=dispute_type_id) | Q(dispute_type__isnull=True))}
    for key in ((source, dispute_type_id), ("", dispute_type_id), (source, None)):
        if key in rules:
            return rules[key]
    return rules.get(("", None), DEFAULT_DEADLINE_DAYS)


def clock_start(source: str, registered_at: datetime, court_referral_date) -> datetime:
    """When the case's clock starts: at registration, or for a court referral at the start of the referral date."""
    if source == Source.COURT and court_referral_date is not None:
        return timezone.make_aware(datetime.combine(court_referral_date, time.min), timezone.get_default_timezone())
    return registered_at


def deadline_of(start: datetime, days: int) -> tuple[datetime, datetime]:
    """(due, warn): ``days`` calendar days after ``start``; yellow after the alerts' share of them (80 %)."""
    from governance.alerts.models import APPROACHING_SHARE

    allowed = timedelta(days=days)
    return start + allowed, start + allowed * float(APPROACHING_SHARE)


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ACCEPTED = "accepted", _("Accepted")
    IN_MEDIATION = "in_mediation", _("In mediation")
    AGREEMENT = "agreement", _("Agreement reached")
    FAILED = "failed", _("Mediation failed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REFERRED = "referred", _("Referred on")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


# The deadline runs while a case waits to be settled; it stops at any outcome.
WAITING_STATUSES = frozenset({Status.REGISTERED, Status.ACCEPTED, Status.IN_MEDIATION})
OPEN_STATUSES = frozenset(set(Status.values) - {Status.CLOSED})
# The outcome a case reached (kept once it moves on to follow-up and closing), for the figures.
OUTCOMES = frozenset({Status.AGREEMENT, Status.FAILED, Status.WITHDRAWN, Status.REFERRED})


class RiskLevel(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class ReferredTo(models.TextChoices):
    COURT = "court", _("Court")
    ARBITRATION = "arbitration", _("Arbitration")
    PETITION = "petition", _("Petition office")


def is_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    return status in WAITING_STATUSES and due_at is not None and due_at < now


def overdue_q(now: datetime) -> Q:
    """``is_overdue`` for the database."""
    return Q(status__in=sorted(WAITING_STATUSES), due_at__lt=now)


class CaseQuerySet(RestrictedQuerySet):
    def open(self):
        return self.exclude(status=Status.CLOSED)


class Case(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.WALK_IN)
    dispute_type = models.ForeignKey(DisputeType, on_delete=models.PROTECT, related_name="cases",
                                     verbose_name=_("dispute type"))
    amount = models.DecimalField(_("amount in dispute (yuan)"), max_digits=14, decimal_places=2, null=True,
                                 blank=True)
    # The territory: where the dispute arose (a street, a community or a grid).
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("territory"))
    # The district the territory lies in, kept with the case: the district command centre watches red cases.
    district = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("district"))
    organisation = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, related_name="mediation_cases",
                                     verbose_name=_("mediation organisation"))
    mediators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mediation_cases",
                                       verbose_name=_("mediators"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Status.choices, blank=True)
    referred_to = models.CharField(_("referred to"), max_length=12, choices=ReferredTo.choices, blank=True)
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices,
                                  default=RiskLevel.GREEN)
    risk_reason = models.CharField(_("risk reason"), max_length=300, blank=True)
    risk_changed_at = models.DateTimeField(_("risk level since"), null=True, blank=True)

    incident = models.OneToOneField("incidents.Incident", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="mediation_case", verbose_name=_("incident"))
    court_name = models.CharField(_("court"), max_length=100, blank=True)
    court_case_number = models.CharField(_("court case number"), max_length=60, blank=True)
    court_referral_date = models.DateField(_("court referral date"), null=True, blank=True)

    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("registered by"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    clock_started_at = models.DateTimeField(_("clock started at"))
    deadline_days = models.PositiveSmallIntegerField(_("days allowed"))
    due_at = models.DateTimeField(_("settle by"))
    warn_at = models.DateTimeField(_("warning from"))
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The last time anyone acted on the case (a session, an action, a new party): a red case untouched for
    # 24 hours is the district command centre's alert.
    last_activity_at = models.DateTimeField(_("last activity"))
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("mediation case")
        verbose_name_plural = _("mediation cases")
        ordering = ["-registered_at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "status", "registered_at"], name="case_org_status"),
            # The workbench: an organisation's open cases, newest first, read until twenty are the mediator's
            # (a committee's ten years are closed cases; its open ones are a few hundred at most).
            models.Index(fields=["organisation", "-registered_at", "-id"], name="case_org_open_recent",
                         condition=Q(status__in=sorted(OPEN_STATUSES))),
            models.Index(fields=["status", "due_at"], name="case_status_due"),
            models.Index(fields=["risk_level", "status"], name="case_risk_status"),
            # The figures read a year of cases by their registration: on PostgreSQL from the index alone
            # (an index-only scan; SQLite has no INCLUDE and keeps a plain index, hence models.W040 is silenced).
            models.Index(fields=["registered_at"], name="case_registered_cover",
                         include=["region", "status", "outcome", "risk_level", "dispute_type", "outcome_at",
                                  "due_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="case_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        """Where a case is seen and worked.

        * Seeing: the territory's command centres, supervisors and grid workers (by the territory's
          path, so a street sees its own and never its neighbour's), and the mediation organisation's
          people (by the organisation unit).
        * Mediating: the organisation's mediators (``mediate`` over the unit) and the administrators
          of the territory (``mediate`` over a region).
        """
        q = Q()
        matched = False
        for path in scope.paths(action):
            q |= Q(region__path__startswith=path)
            matched = True
        units = sorted(scope.units(action))
        if units:
            q |= Q(organisation_id__in=units)
            matched = True
        return q if matched else None

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    def is_overdue_at(self, now: datetime) -> bool:
        return is_overdue(self.status, self.due_at, now)


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    RESPONDENT = "respondent", _("Respondent")


class Party(models.Model):
    """An applicant or a respondent. Name, ID number and phone are personal data: masked unless revealed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=12, choices=PartyRole.choices)
    name = models.CharField(_("name"), max_length=100)
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("added at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["role", "pk"]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {mask_name(self.name)}"

    @property
    def masked(self) -> dict[str, str]:
        return {"name": mask_name(self.name), "id_number": mask_id_number(self.id_number),
                "phone": mask_phone(self.phone)}


class Session(models.Model):
    """A mediation session: when, where, who attended, what was said."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=200)
    attendees = models.CharField(_("attendees"), max_length=500, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True)
    recorded_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["held_at", "pk"]
        indexes = [models.Index(fields=["held_at"], name="session_held_at")]


def agreement_path(instance: Agreement, filename: str) -> str:
    # Never the user's file name: a random name under the month.
    return f"mediation/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{instance.file_extension or 'bin'}"


class Agreement(models.Model):
    """The signed agreement: its terms, the signing date, the scanned file; obligations below."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="agreement")
    terms = models.TextField(_("terms"))
    signed_on = models.DateField(_("signed on"))
    file = models.FileField(_("scanned agreement"), upload_to=agreement_path, max_length=200, blank=True)
    file_extension = models.CharField(max_length=8, blank=True)
    file_content_type = models.CharField(max_length=50, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True)
    recorded_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")


class Obligation(models.Model):
    """What one party must do by when, and whether it was done."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="obligations")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="obligations",
                              verbose_name=_("party"))
    description = models.CharField(_("what must be done"), max_length=300)
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["due_on"], name="obligation_due", condition=Q(done_at__isnull=True))]


class FollowUp(models.Model):
    """A visit after the agreement: were the obligations kept, is the dispute settled."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    visited_on = models.DateField(_("visited on"))
    method = models.CharField(_("how"), max_length=60, blank=True)
    notes = models.TextField(_("notes"))
    satisfied = models.BooleanField(_("parties satisfied"), null=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True)
    recorded_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["visited_on", "pk"]


class RiskChange(models.Model):
    """Every change of a case's risk level: from, to, why, who, when. Rows are only added."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="risk_changes")
    from_level = models.CharField(_("from"), max_length=8, choices=RiskLevel.choices, blank=True)
    to_level = models.CharField(_("to"), max_length=8, choices=RiskLevel.choices)
    reason = models.CharField(_("reason"), max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("risk level change")
        verbose_name_plural = _("risk level changes")
        ordering = ["at", "pk"]


class CaseEvent(models.Model):
    """One step of a case's timeline: who did what, when, with which note. Rows are only added."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"))
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]


class CaseCounter(models.Model):
    """The last case number given out in a year."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)
