"""Grid incidents: categories and time limits, the closed loop, the timeline, attachments."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from governance.access.models import UnitKind
from governance.core.scoping import Action, RestrictedQuerySet, Scope
from grids.models import parent_path


class Severity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class Category(models.Model):
    """A two-level category tree: a major category and its minor categories.

    Time limits and the on-the-spot rule live on the minor categories; a major
    category's values are the defaults its minor ones start from.
    """

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("major category"),
    )
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    default_severity = models.CharField(_("default severity"), max_length=10, choices=Severity.choices,
                                        default=Severity.NORMAL)
    accept_hours = models.PositiveSmallIntegerField(_("accept within (hours)"), default=2)
    handle_working_days = models.PositiveSmallIntegerField(_("handle within (working days)"), default=5)
    on_spot_closable = models.BooleanField(_("grid worker may close on the spot"), default=False)
    handler_unit_kind = models.CharField(_("usual handling unit kind"), max_length=16, choices=UnitKind.choices,
                                         default=UnitKind.DEPARTMENT)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    HANDLED = "handled", _("Reported back")
    CLOSED = "closed", _("Closed")
    RETURNED = "returned", _("Returned to reporter")
    PARKED = "parked", _("Parked (long-term)")
    VOIDED = "voided", _("Voided")
    MERGED = "merged", _("Merged as duplicate")


OPEN_STATUSES = frozenset({Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.HANDLED, Status.RETURNED})
FINAL_STATUSES = frozenset({Status.CLOSED, Status.VOIDED, Status.MERGED})
# Accepted and not yet closed: these wait for the handling deadline.
HANDLING_STATUSES = frozenset({Status.ACCEPTED, Status.DISPATCHED, Status.HANDLED})


# --- The rules of deadlines, in one place -------------------------------------------------------------
# Each is written once here, for Python (pages, API, exports, tallies) and for the database (the ORM's
# ``Q`` and the alert sweep's SQL, ``incidents.watcher``); tests/incidents/test_rules.py holds the
# spellings equal over every state.

# The deadline an incident waits for, by status: acceptance while reported, handling while accepted,
# dispatched or reported back; none in any other status (returned, parked, closed…).
WAITS_FOR: dict[str, str] = {Status.REPORTED: "accept_due_at",
                             **{status: "handle_due_at" for status in HANDLING_STATUSES}}
# While a unit holds a dispatched incident, its handling deadline is the unit's to meet: the alert goes
# to the lead unit. In every other waiting status the command centre that holds it must act.
UNIT_ACTS_IN = frozenset({Status.DISPATCHED})


def waiting_deadline(status: str, accept_due_at, handle_due_at):
    """The deadline of the step an incident in ``status`` waits for (``WAITS_FOR``), or None."""
    column = WAITS_FOR.get(status)
    if column is None:
        return None
    return accept_due_at if column == "accept_due_at" else handle_due_at


def is_overdue(status: str, accept_due_at, handle_due_at, now) -> bool:
    """Overdue: past the deadline it waits for."""
    deadline = waiting_deadline(status, accept_due_at, handle_due_at)
    return deadline is not None and deadline < now


def overdue_q(now) -> Q:
    """``is_overdue`` for the database."""
    q = Q(pk__in=[])
    for column in sorted(set(WAITS_FOR.values())):
        statuses = sorted(status for status, waited in WAITS_FOR.items() if waited == column)
        q |= Q(status__in=statuses, **{f"{column}__lt": now})
    return q


def deadline_addressee(status: str, lead_unit_id: int | None, responsible_region_id: int) -> tuple[str, int]:
    """Who must act on the deadline an incident waits for: ("unit", id) or ("region", id), its command centre."""
    if status in UNIT_ACTS_IN and lead_unit_id is not None:
        return "unit", lead_unit_id
    return "region", responsible_region_id


def escalation_target_path(responsible_path: str) -> str:
    """Where an escalation sends an incident: the command centre one level up, the parent region."""
    return parent_path(responsible_path)


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    QUICK_REPORT = "quick_report", _("Resident quick report")
    HOTLINE = "hotline", _("Hotline")
    API = "api", _("API client")


class IncidentQuerySet(RestrictedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Incident(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents",
                                 verbose_name=_("category"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED,
                              db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.GRID_WORKER)

    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    grid = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="incidents",
                             verbose_name=_("grid"))
    # The command centre that holds the incident now: the grid's community at
    # first, one level up at each escalation. Its level is the responsible level.
    responsible_region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+",
                                           verbose_name=_("responsible command centre"))
    responsible_level = models.PositiveSmallIntegerField(_("responsible level"), db_index=True)
    lead_unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="lead_incidents", verbose_name=_("lead unit"))

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="reported_incidents", verbose_name=_("reporter"))
    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=20, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, editable=False)
    # What the filing with that key said (incidents.services.filing_fingerprint): a retry must say the same.
    idempotency_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    handle_due_at = models.DateTimeField(_("handle by"), null=True, blank=True)
    # When each deadline turns yellow, computed with it (incidents.deadlines): the sweep compares it with now.
    accept_warn_at = models.DateTimeField(_("accept warning from"), null=True, blank=True)
    handle_warn_at = models.DateTimeField(_("handling warning from"), null=True, blank=True)
    # While parked (挂账) the handling clock stops: the working days it had left, given back on unparking.
    handle_days_left = models.PositiveSmallIntegerField(_("working days left (paused)"), null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    deadline_note = models.CharField(max_length=200, blank=True,
                                     help_text=_("Set when a deadline assumed weekends only for an uncovered year."))
    parked_until = models.DateField(_("review date"), null=True, blank=True)
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="duplicates", verbose_name=_("duplicate of"))
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    # Optimistic concurrency: every transition bumps it; a stale form loses.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(fields=["reporter", "idempotency_key"], name="incident_idempotent_filing",
                                    condition=Q(idempotency_key__isnull=False)),
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="incident_satisfaction_1_to_5"),
        ]
        indexes = [
            models.Index(fields=["status", "reported_at"], name="incident_status_reported"),
            models.Index(fields=["category", "status", "reported_at"], name="incident_dup_lookup"),
            models.Index(fields=["lat", "lng"], name="incident_lat_lng"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def from_db(cls, db, field_names, values):
        """Django's recipe: remember the values as loaded, so a receiver can tell what a save changed.

        ``loaded_values`` holds the columns read (attnames, e.g. ``grid_id``); deferred ones are absent.
        The map's tallies use it to apply the difference a write makes (``dashboards.map.tallies``).
        """
        instance = super().from_db(db, field_names, values)
        instance.loaded_values = {name: getattr(instance, name) for name in field_names
                                  if name in instance.__dict__}
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        """Re-read, and remember what was read as loaded (a later save's difference starts from it)."""
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        names = ([self._meta.get_field(name).attname for name in fields] if fields
                 else [f.attname for f in self._meta.concrete_fields])
        self.loaded_values = {**getattr(self, "loaded_values", {}),
                              **{name: self.__dict__[name] for name in names if name in self.__dict__}}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        """The incident's place in the scoping door.

        * Seeing and filing follow the grid: district staff see every incident
          of their district, a grid worker those of their grids.
        * Triage follows the command centre that holds the incident now: after
          an escalation the street no longer triages what the district holds.
        * Units see and handle what was dispatched to them, as lead or assistant.
        """
        region_field = "responsible_region__path" if action == Action.TRIAGE else "grid__path"
        q = Q()
        matched = False
        for path in scope.paths(action):
            q |= Q(**{f"{region_field}__startswith": path})
            matched = True
        unit_ids = sorted(scope.units(action))
        if unit_ids:
            tasks = UnitTask.objects.filter(incident=OuterRef("pk"), unit_id__in=unit_ids)
            if action != Action.VIEW:
                # A unit that was reassigned or sent the incident back still sees it
                # (it worked on it), but acts only while it holds an active task.
                tasks = tasks.filter(withdrawn_at__isnull=True)
            q |= Exists(tasks) if action != Action.VIEW else (Q(lead_unit_id__in=unit_ids) | Exists(tasks))
            matched = True
        return q if matched else None

    def allowed_before_dispatch(self, scope: Scope, action: str) -> bool:
        """``scope_q`` asked of this incident in memory, while no unit holds it (no lead unit, no tasks).

        Then only the region rules apply; used to answer a filing without reading it back.
        """
        if self.lead_unit_id is not None:
            raise ValueError("only for an incident no unit holds")
        path = self.responsible_region.path if action == Action.TRIAGE else self.grid.path
        return scope.covers_path(action, path)


class UnitTask(models.Model):
    """A unit's share of an incident: the lead unit's, or an assisting unit's (co-handling)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead unit")
        ASSIST = "assist", _("Assisting unit")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="unit_tasks")
    unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, related_name="incident_tasks")
    role = models.CharField(max_length=8, choices=Role.choices)
    assigned_at = models.DateTimeField()
    reported_back_at = models.DateTimeField(null=True, blank=True)
    report = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True,
                                        help_text=_("Set when the incident was reassigned or sent back."))

    class Meta:
        verbose_name = _("unit task")
        verbose_name_plural = _("unit tasks")
        constraints = [
            models.UniqueConstraint(fields=["incident", "unit"], condition=Q(withdrawn_at__isnull=True),
                                    name="one_active_task_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.incident.number} · {self.unit} ({self.get_role_display()})"


class Event(models.Model):
    """One step of an incident's timeline: who did what, when, with which note.

    Rows are only ever added. The timeline is the incident's audit trail.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("actor"))
    at = models.DateTimeField(_("at"), db_index=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["incident", "at"], name="event_incident_at")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class DailyCounter(models.Model):
    """The last incident number given out on a day; numbers restart every day."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily incident counter")


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the user's file name: a random name under the upload's month.
    return f"incidents/{instance.uploaded_at:%Y/%m}/{uuid.uuid4().hex}.{instance.extension}"


def thumbnail_path(instance: Attachment, filename: str) -> str:
    # Beside the photo, in the same month's folder (which the orphan sweep walks).
    return f"incidents/{instance.uploaded_at:%Y/%m}/{uuid.uuid4().hex}.thumb.jpg"


class Attachment(models.Model):
    """A photo of an incident. Served only by a view that checks the user's scope."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    # A small JPEG made once at upload (incidents.attachments.make_thumbnail); the pages show it and link
    # to the photo. Empty for photos stored before thumbnails existed until `make_photo_thumbnails` runs.
    thumbnail = models.FileField(upload_to=thumbnail_path, max_length=200, blank=True, default="")
    thumbnail_size = models.PositiveIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=50)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    uploaded_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name or self.sha256[:12]

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        inner = Incident.scope_q(scope, action)
        if inner is None:
            return None
        return Q(incident__in=Incident.objects.filter(inner).values("pk"))
