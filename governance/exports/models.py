"""The export job: who asked for what, with which filters, in which format; its progress, file, error and expiry."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


# A run may claim a job in these states: a queued job, or a running one whose worker died (acks_late
# hands its message to another worker, which takes over and supersedes the first run).
CLAIMABLE = (ExportStatus.QUEUED, ExportStatus.RUNNING)
UNFINISHED = CLAIMABLE


def export_path(instance: ExportJob, filename: str) -> str:
    """Never a name anyone chose: a random one under the month (local time) the file was written."""
    return f"exports/{timezone.localtime():%Y/%m}/{uuid.uuid4().hex}.{instance.fmt}"


class ExportJobQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> ExportJobQuerySet:
        """The scoping door of export jobs: a job is its owner's alone.

        Not a territory's: the file holds what its owner saw when it ran, so nobody else, a
        superuser neither, opens it. Every action (seeing, downloading) follows the same rule.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(owner_id=user.pk)


class ExportJob(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("owner"))
    kind = models.CharField(_("kind"), max_length=50)  # a registered kind's name (governance.exports.kinds)
    fmt = models.CharField(_("format"), max_length=8)
    params = models.JSONField(_("filters"), default=dict)  # the page's filters, as a query dict of lists
    options = models.JSONField(_("options"), default=dict)  # the kind's own choices, e.g. the columns
    # Headers and values are written in the language the owner asked in, wherever the job runs.
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE)
    return_to = models.CharField(max_length=500, blank=True)  # the page it was asked from (a local path)
    status = models.CharField(_("status"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs that claimed it; only the latest may finish it
    total = models.PositiveIntegerField(null=True, blank=True)  # rows, once the run has counted them
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=200, blank=True)
    file_name = models.CharField(max_length=200)  # the name the download carries
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)  # for the owner to read: what went wrong and what to do
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)  # the run's heartbeat: its last report of progress
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("file kept until"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("export job")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="export_job_owner"),
            # the expiry task's two questions: files past their time, runs that stopped moving
            models.Index(fields=["expires_at"], name="export_job_expiry", condition=Q(status="done")),
            models.Index(fields=["created_at"], name="export_job_unfinished",
                         condition=Q(status__in=["queued", "running"])),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status="done") | Q(file=""), name="export_job_file_only_when_done"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.fmt})"

    @property
    def progress(self) -> int:
        """Percent done, 0 to 100."""
        if self.status == ExportStatus.DONE:
            return 100
        return min(100, int(100 * self.done / self.total)) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED
