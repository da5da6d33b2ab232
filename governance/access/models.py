"""Units (departments, courts, mediation organisations), roles and role assignments: who may do what, where.

Tables of the ``governance`` app (the app label stays where the code moved from).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from governance.core.scoping import Action, RestrictedQuerySet, Scope
from grids.models import Level


class UnitKind(models.TextChoices):
    DEPARTMENT = "department", _("Functional department")
    RESPONSIBLE_UNIT = "responsible", _("Responsible unit")
    COURT = "court", _("Court")
    MEDIATION_ORG = "mediation", _("Mediation organisation")


class Unit(models.Model):
    """A body that fixes things: a department, a responsible unit, a court, a mediation organisation.

    Its home region places it in the tree: a district's public-security bureau
    lives at the district, a street's mediation committee at the street.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices, db_index=True)
    home_region = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="units", verbose_name=_("home region")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["home_region__path", "kind", "name"]
        permissions = [
            ("scope_view", _("See what the unit was given")),
            ("scope_handle", _("Handle what the unit was given")),
            ("scope_mediate", _("Mediate the unit's cases")),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        """Units a user may see or pick.

        Viewing: the user's own units, the units at home in their subtree, and the
        units of the regions above them (a street dispatches to district
        departments). Administering: the units at home in the administered subtree.
        Any other action: only the user's own units.
        """
        q = Q()
        matched = False
        if scope.units(action):
            q |= Q(pk__in=sorted(scope.units(action)))
            matched = True
        if action == Action.ADMINISTER:
            for path in scope.paths(action):
                q |= Q(home_region__path__startswith=path)
                matched = True
        if action == Action.VIEW:
            from grids.models import Region

            step = Region.steplen
            for path in scope.paths(action):
                ancestors = [path[:i] for i in range(step, len(path), step)]
                q |= Q(home_region__path__startswith=path) | Q(home_region__path__in=ancestors)
                matched = True
        return q if matched else None


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMAND_STAFF = "command_staff", _("Command-centre staff")
    UNIT_HANDLER = "unit_handler", _("Unit handler")
    MEDIATOR = "mediator", _("Mediator")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")


# What each role may do over what it is assigned to. A supervisor reads everything and acts only on the
# pilot-task ledgers (``supervise``: supervision notices, accepting or returning filings).
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.GRID_WORKER: frozenset({Action.VIEW, Action.REPORT}),
    Role.COMMAND_STAFF: frozenset({Action.VIEW, Action.REPORT, Action.TRIAGE}),
    Role.UNIT_HANDLER: frozenset({Action.VIEW, Action.HANDLE}),
    Role.MEDIATOR: frozenset({Action.VIEW, Action.MEDIATE}),
    Role.SUPERVISOR: frozenset({Action.VIEW, Action.SUPERVISE}),
    Role.ADMINISTRATOR: frozenset({Action.VIEW, Action.REPORT, Action.TRIAGE, Action.MEDIATE, Action.ADMINISTER,
                                   Action.SUPERVISE}),
}

# Which roles are held over a region and which over a unit.
REGION_ROLES = frozenset({Role.GRID_WORKER, Role.COMMAND_STAFF, Role.SUPERVISOR, Role.ADMINISTRATOR})
UNIT_ROLES = frozenset({Role.UNIT_HANDLER, Role.MEDIATOR})


class RoleAssignmentQuerySet(RestrictedQuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class RoleAssignment(models.Model):
    """A user holds a role over a region (its whole subtree) or over a unit.

    The row is the record people read and audit; the guardian object
    permissions that the scoping door reads are derived from it by
    ``governance.access.services.role_assign`` / ``role_revoke``. Revoked rows stay.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("region"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="role_assignments", verbose_name=_("unit")
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    history = HistoricalRecords()
    objects = RoleAssignmentQuerySet.as_manager()


    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.CheckConstraint(
                condition=(Q(region__isnull=False, unit__isnull=True) | Q(region__isnull=True, unit__isnull=False)),
                name="role_over_region_xor_unit",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(revoked_at__isnull=True, region__isnull=False),
                name="one_active_role_per_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=Q(revoked_at__isnull=True, unit__isnull=False),
                name="one_active_role_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.region or self.unit}"

    @classmethod
    def scope_q(cls, scope: Scope, action: str) -> Q | None:
        """Assignments over a region of the user's subtree, or over a unit at home in it (or one of their units)."""
        q = Q()
        matched = False
        for path in scope.paths(action):
            q |= Q(region__path__startswith=path) | Q(unit__home_region__path__startswith=path)
            matched = True
        if scope.units(action):
            q |= Q(unit_id__in=sorted(scope.units(action)))
            matched = True
        return q if matched else None

    def clean(self) -> None:

        if self.role in REGION_ROLES and (self.region_id is None or self.unit_id is not None):
            raise ValidationError(_("This role is held over a region."))
        if self.role in UNIT_ROLES and (self.unit_id is None or self.region_id is not None):
            raise ValidationError(_("This role is held over a unit."))
        if self.role == Role.GRID_WORKER and self.region is not None and self.region.level != Level.GRID:
            raise ValidationError(_("A grid worker is assigned to grids, not to a %(level)s.")
                                  % {"level": self.region.level_label})

    @property
    def target(self):
        return self.region or self.unit


class RevealChannel(models.TextChoices):
    PAGE = "page", _("Page")
    API = "api", _("API")
    EXPORT = "export", _("Export")


class PersonalDataReveal(models.Model):
    """One time someone saw personal data unmasked: who, whose (the subject), which fields, when, why, how.

    Written by ``governance.access.personal_data.reveal`` and nothing else; never changed. An export
    that reveals many subjects is one row (``subject_id`` NULL, ``count`` and the ids in ``subjects``).
    Placed in the tree by the subject's territory, so an administrator reads the reveals of theirs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("who"))
    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_id = models.BigIntegerField(_("subject id"), null=True, blank=True)
    subject_label = models.CharField(_("subject"), max_length=200, blank=True)
    subjects = models.JSONField(_("subjects"), default=list, blank=True)
    count = models.PositiveIntegerField(_("subjects revealed"), default=1)
    fields = models.JSONField(_("fields"), default=list)
    reason = models.CharField(_("reason"), max_length=300)
    channel = models.CharField(_("channel"), max_length=8, choices=RevealChannel.choices)
    region = models.ForeignKey("grids.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("region"))
    at = models.DateTimeField(_("at"), db_index=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_path = "region__path"

    class Meta:
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="reveal_subject")]

    def __str__(self) -> str:
        return f"{self.user} · {self.subject_label or self.subject_type} · {self.at:%Y-%m-%d %H:%M}"
