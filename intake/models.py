"""Ways in that are not a logged-in user: a grid's QR sign, an Open311 API key, and what they filed.

Both credentials are principals of the scoping door (``intake.principals``). A sign's token is
signed (``intake.tokens``) and names the sign row and its nonce, so it can be printed again at
any time and revoked by revoking the row. An API key is random, shown once, and stored hashed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from governance.core.scoping import RestrictedQuerySet, Scope
from incidents.models import Incident, Source


class Sign(models.Model):
    """The quick-report sign of one grid (随手报二维码). At most one sign of a grid is in force."""

    grid = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    nonce = models.CharField(max_length=32, editable=False)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("issued by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("revoked by"))

    history = HistoricalRecords(excluded_fields=["nonce"])
    objects = RestrictedQuerySet.as_manager()
    scope_region_path = "grid__path"

    class Meta:
        verbose_name = _("grid sign")
        verbose_name_plural = _("grid signs")
        ordering = ["grid__path", "-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["grid"], condition=Q(revoked_at__isnull=True), name="one_sign_in_force"),
        ]

    def __str__(self) -> str:
        return f"{self.grid.name} ({self.grid.code}) #{self.pk}"

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None


class ApiKey(models.Model):
    """An Open311 client's key: tied to a unit (who answers for it) and a territory (where it files and reads)."""

    class Channel(models.TextChoices):
        API = Source.API, _("API client")
        HOTLINE = Source.HOTLINE, _("Hotline")

    name = models.CharField(_("name"), max_length=100)
    unit = models.ForeignKey("governance.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    territory = models.ForeignKey("grids.Region", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("territory"))
    intake_grid = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="+", null=True, blank=True,
        verbose_name=_("grid for reports without coordinates"),
        help_text=_("A request that gives an address but no coordinates is filed in this grid of the territory, "
                    "for its command centre to place."))
    source = models.CharField(_("source recorded on incidents"), max_length=16, choices=Channel.choices,
                              default=Channel.API)
    prefix = models.CharField(_("key prefix"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("revoked by"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["key_hash", "last_used_at"])
    objects = RestrictedQuerySet.as_manager()
    scope_region_path = "territory__path"

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None


class Submission(models.Model):
    """What came in through a sign or an API key: the incident it filed, its tracking code, its channel."""

    class Channel(models.TextChoices):
        QUICK_REPORT = "quick_report", _("Resident quick report")
        OPEN311 = "open311", _("Open311")

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="submission",
                                    verbose_name=_("incident"))
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    sign = models.ForeignKey(Sign, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions")
    # A keyed hash of the client's address, never the address: enough to see that one client sent a hundred.
    client = models.CharField(max_length=16, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("submitted at"), db_index=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(channel="quick_report", sign__isnull=False, api_key__isnull=True)
                           | Q(channel="open311", sign__isnull=True, api_key__isnull=False)),
                name="submission_channel_matches_credential"),
        ]

    def __str__(self) -> str:
        return self.tracking_code

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        inner = Incident.scope_q(scope, action)
        if inner is None:
            return None
        return Q(incident__in=Incident.objects.filter(inner).values("pk"))
