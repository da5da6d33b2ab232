"""Pilot-task ledgers (试点任务台账): programmes, the task tree, responsibilities, filings, notices, projects.

How each guarded model is placed for the scoping door (``governance.core.scoping``):

* a **programme** belongs to a region (the pilot city, or a district running its own): everyone who
  holds an action anywhere on the way down to it or inside it sees it (a district supervisor sees the
  city's programme, but only the figures of the units at home in the district);
* a **task** is seen with its programme by region-scoped users, and by a unit when the unit leads or is
  responsible for it or for a task below it;
* a **responsibility** (one requirement, one responsible unit) and its **filings** are seen by the unit,
  by the lead unit of the requirement, and by region-scoped users whose territory holds the unit;
* a **supervision notice** is seen by its unit and by the territory holding the unit;
* an **innovation project** by its territory (and the levels above) and its unit.

Acting: a unit files for its own responsibilities (``handle`` over the unit); the lead unit (``handle``
over it) or a supervisor (``supervise`` over the responsible unit's territory) accepts or returns a
filing; a supervisor issues supervision notices to the units of their territory, and the unit answers.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from governance.core.scoping import Action, RestrictedQuerySet, RestrictedQuerySetMixin, Scope
from governance.ledgers.periods import Cycle
from grids.models import Region


def _ancestor_paths(path: str) -> list[str]:
    step = Region.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def _territory_q(lookup: str, scope: Scope, action: str) -> tuple[Q, bool]:
    """Rows whose unit's home region (``lookup``: a path) lies in the user's subtrees for ``action``."""
    q, matched = Q(), False
    for path in scope.paths(action):
        q |= Q(**{f"{lookup}__startswith": path})
        matched = True
    return q, matched


class Programme(models.Model):
    """A pilot programme (e.g. the three-year pilot of a city), holding a tree of tasks."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("territory"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["-starts_on", "code"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        q, matched = _programme_region_q(scope, action)
        units = sorted(scope.units(action))
        if units:
            q |= Q(pk__in=Task.objects.filter(Q(lead_unit_id__in=units) | Q(responsibilities__unit_id__in=units))
                   .values("programme_id"))
            matched = True
        return q if matched else None


def _programme_region_q(scope: Scope, action: str) -> tuple[Q, bool]:
    """Programmes placed by region: inside the user's territory, or (to read) the programme of a region above."""
    q, matched = Q(), False
    for path in scope.paths(action):
        q |= Q(region__path__startswith=path)
        if action != Action.ADMINISTER:
            q |= Q(region__path__in=_ancestor_paths(path))
        matched = True
    return q, matched


class TaskQuerySet(RestrictedQuerySetMixin, MP_NodeQuerySet):
    pass


class TaskManager(MP_NodeManager):
    def get_queryset(self):
        return TaskQuerySet(self.model, using=self._db).order_by("path")

    def restrict(self, user, action: str = Action.VIEW):
        return self.get_queryset().restrict(user, action)


class Task(MP_Node):
    """A node of a programme's breakdown: a key task (3), a sub-task (3.2), a requirement (3.2.1).

    A leaf is a requirement: what units are responsible for and file progress on. Progress rolls up
    from requirements to their parents by weight (``governance.ledgers.progress``).
    """

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tasks",
                                  verbose_name=_("programme"))
    code = models.CharField(_("code"), max_length=32)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    leader = models.CharField(_("lead leader"), max_length=100, blank=True)
    lead_unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("lead unit"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    cycle = models.CharField(_("filing cycle"), max_length=12, choices=Cycle.choices, default=Cycle.MONTHLY)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, default=Decimal("1"),
                                 validators=[MinValueValidator(Decimal("0"))])

    history = HistoricalRecords(excluded_fields=["path", "depth", "numchild"])
    objects = TaskManager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.UniqueConstraint(fields=["programme", "code"], name="ledger_task_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_requirement(self) -> bool:
        return self.numchild == 0

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        q, matched = Q(), False
        by_region, placed = _programme_region_q(scope, action)
        if placed:
            q |= Q(programme__in=Programme.objects.filter(by_region).values("pk"))
            matched = True
        units = sorted(scope.units(action))
        if units:
            # the unit's own tasks, and every task above them (the tree down to them)
            below = Task.objects.filter(Q(lead_unit_id__in=units) | Q(responsibilities__unit_id__in=units),
                                        programme_id=OuterRef("programme_id"), path__startswith=OuterRef("path"))
            q |= Q(Exists(below))
            matched = True
        return q if matched else None


class Responsibility(models.Model):
    """One responsible unit of one requirement: what the unit files on, and what alerts are about."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="responsibilities",
                             verbose_name=_("requirement"))
    unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("responsible unit"))

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")
        constraints = [models.UniqueConstraint(fields=["task", "unit"], name="ledger_one_responsibility")]
        ordering = ["task__path", "unit__name"]

    def __str__(self) -> str:
        return f"{self.task.code} · {self.unit}"

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        q, matched = _territory_q("unit__home_region__path", scope, action)
        units = sorted(scope.units(action))
        if units:
            q |= Q(unit_id__in=units) | Q(task__lead_unit_id__in=units)
            matched = True
        return q if matched else None


class ProgressStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class Review(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class FilingQuerySet(RestrictedQuerySet):
    def current(self):
        return self.filter(is_current=True)

    def counted(self):
        """The filings that count towards progress: the current version of each period, unless returned."""
        return self.filter(is_current=True).exclude(review=Review.RETURNED)


class Filing(models.Model):
    """A unit's progress filing for one requirement and one period. Never edited by its unit: a new
    filing for the same period is a new version (``version`` + 1) and the old one stays, no longer
    current. Review (accept or return) changes the row, recorded by its history."""

    responsibility = models.ForeignKey(Responsibility, on_delete=models.PROTECT, related_name="filings",
                                       verbose_name=_("responsibility"))
    period = models.CharField(_("period"), max_length=8)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    status = models.CharField(_("status"), max_length=12, choices=ProgressStatus.choices)
    percent = models.PositiveSmallIntegerField(_("percent complete"),
                                               validators=[MinValueValidator(0), MaxValueValidator(100)])
    narrative = models.TextField(_("narrative"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("filed by"))
    filed_at = models.DateTimeField(_("filed at"), db_index=True)
    review = models.CharField(_("review"), max_length=10, choices=Review.choices, default=Review.SUBMITTED)
    review_comment = models.TextField(_("review comment"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = FilingQuerySet.as_manager()

    class Meta:
        verbose_name = _("progress filing")
        verbose_name_plural = _("progress filings")
        ordering = ["-filed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["responsibility", "period", "version"], name="ledger_filing_version"),
            models.UniqueConstraint(fields=["responsibility", "period"], condition=Q(is_current=True),
                                    name="ledger_one_current_filing"),
        ]

    def __str__(self) -> str:
        return f"{self.responsibility} · {self.period} · v{self.version}"

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        inner = Responsibility.scope_q(scope, action)
        if inner is None:
            return None
        return Q(responsibility__in=Responsibility.objects.filter(inner).values("pk"))


def evidence_path(instance: Evidence, filename: str) -> str:
    from django.utils import timezone

    now = timezone.now()
    return f"ledgers/evidence/{now:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}.{instance.extension}"


class StoredFile(models.Model):
    """What the ledgers keep of every uploaded file (evidence, project attachments): checked by content,
    stored under its hash, served only through a scope-checking view."""

    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    uploaded_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Evidence(StoredFile):
    """An evidence file (佐证材料) of a filing: served only through the scoping door
    (``governance.ledgers.views.evidence_download``), never by a storage URL."""

    filing = models.ForeignKey(Filing, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=200)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["uploaded_at", "pk"]

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        inner = Filing.scope_q(scope, action)
        if inner is None:
            return None
        return Q(filing__in=Filing.objects.filter(inner).values("pk"))


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", _("Awaiting response")
    RESPONDED = "responded", _("Responded")


class SupervisionNotice(models.Model):
    """A supervision notice (督办函) to a unit about a task, with a due date and the unit's written response.
    One not answered by its due date is overdue and goes on the public-notice list (通报)."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="notices",
                                  verbose_name=_("programme"))
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="notices", verbose_name=_("task"))
    unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    content = models.TextField(_("content"))
    due_on = models.DateField(_("respond by"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"))
    status = models.CharField(_("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.ISSUED)
    response = models.TextField(_("response"), blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("responded by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        q, matched = _territory_q("unit__home_region__path", scope, action)
        units = sorted(scope.units(action))
        if units:
            q |= Q(unit_id__in=units)
            matched = True
        return q if matched else None


def overdue_notice_q(today) -> Q:
    """A notice is overdue when it was not answered by its due date (one rule: pages, 通报, ranking, exports)."""
    return Q(status=NoticeStatus.ISSUED, due_on__lt=today)


class ProjectLevel(models.TextChoices):
    CITY = "city", _("City level")
    DISTRICT = "district", _("District level")


class ProjectStatus(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    SELECTED = "selected", _("Selected")
    REPLICATED = "replicated", _("Replicated")


class InnovationProject(models.Model):
    """A local practice in the innovation project library (创新项目库)."""

    title = models.CharField(_("title"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=ProjectLevel.choices)
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("territory"))
    unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("unit"))
    status = models.CharField(_("status"), max_length=12, choices=ProjectStatus.choices,
                              default=ProjectStatus.CANDIDATE)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("innovation project")
        verbose_name_plural = _("innovation projects")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        q, matched = Q(), False
        for path in scope.paths(action):
            q |= Q(region__path__startswith=path)
            if action == Action.VIEW:  # the city's projects are a library for its districts too
                q |= Q(region__path__in=_ancestor_paths(path))
            matched = True
        units = sorted(scope.units(action))
        if units:
            q |= Q(unit_id__in=units)
            matched = True
        return q if matched else None


def project_attachment_path(instance: ProjectAttachment, filename: str) -> str:
    return f"ledgers/projects/{instance.sha256[:2]}/{instance.sha256}.{instance.extension}"


class ProjectAttachment(StoredFile):
    project = models.ForeignKey(InnovationProject, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=project_attachment_path, max_length=200)

    class Meta:
        verbose_name = _("project attachment")
        verbose_name_plural = _("project attachments")
        ordering = ["uploaded_at", "pk"]

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        inner = InnovationProject.scope_q(scope, action)
        if inner is None:
            return None
        return Q(project__in=InnovationProject.objects.filter(inner).values("pk"))
