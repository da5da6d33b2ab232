"""Reads of the governance kernel, already scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy

from governance.access.models import PersonalDataReveal, Role, RoleAssignment, Unit
from governance.core.scoping import Action, get_scope
from grids.models import Level, Region

# Which dashboard a role lands on, most demanding first: a user with several
# roles lands on the first of theirs in this order.
ROLE_PRIORITY = [
    Role.ADMINISTRATOR,
    Role.COMMAND_STAFF,
    Role.SUPERVISOR,
    Role.UNIT_HANDLER,
    Role.MEDIATOR,
    Role.GRID_WORKER,
]


def active_assignments(user) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.active().filter(user=user).select_related("region", "unit", "unit__home_region")


def roles_of(user) -> list[str]:
    held = set(active_assignments(user).values_list("role", flat=True))
    if user.is_superuser:
        held.add(Role.ADMINISTRATOR)
    return [role for role in ROLE_PRIORITY if role in held]


def primary_role(user) -> str | None:
    roles = roles_of(user)
    return roles[0] if roles else None


def top_regions(user, action: str = Action.VIEW) -> QuerySet[Region]:
    """The outermost regions the user holds ``action`` over (the roots of their scope)."""
    scope = get_scope(user)
    if scope.everything:
        return Region.objects.get_root_nodes()
    return Region.objects.filter(path__in=scope.paths(action)).order_by("path")


def units_of(user, action: str = Action.VIEW) -> QuerySet[Unit]:
    scope = get_scope(user)
    return Unit.objects.filter(pk__in=sorted(scope.units(action))).select_related("home_region")


@dataclass(frozen=True)
class AuditEntry:
    when: object
    who: object
    kind: str
    what: str
    change: str
    reason: str | None


_HISTORY_TYPES = {"+": gettext_lazy("created"), "~": gettext_lazy("changed"), "-": gettext_lazy("deleted")}


def audit_entries(user, *, limit: int = 200) -> list[AuditEntry]:
    """Recent changes to the kernel's records the user administers, newest first."""
    regions = Region.objects.restrict(user, Action.ADMINISTER).values("pk")
    units = Unit.objects.restrict(user, Action.ADMINISTER).values("pk")
    assignments = RoleAssignment.objects.restrict(user, Action.ADMINISTER).values("pk")
    sources = [
        (Region.history.filter(id__in=regions), Region._meta.verbose_name),
        (Unit.history.filter(id__in=units), Unit._meta.verbose_name),
        (RoleAssignment.history.filter(id__in=assignments).select_related("user", "region", "unit"),
         RoleAssignment._meta.verbose_name),
    ]
    rows = chain.from_iterable(
        qs.select_related("history_user").order_by("-history_date")[:limit] for qs, _name in sources
    )
    kind_of = {qs.model: name for qs, name in sources}
    recent = sorted(rows, key=lambda r: r.history_date, reverse=True)[:limit]
    previous = _previous_records(recent)
    entries = []
    for row in recent:
        changed = ""
        before = previous.get((type(row), row.history_id))
        if row.history_type == "~" and before is not None:
            changed = ", ".join(c.field for c in row.diff_against(before).changes)
        entries.append(AuditEntry(
            when=row.history_date,
            who=row.history_user,
            kind=str(kind_of[type(row)]),
            what=_label(row),
            change=str(_HISTORY_TYPES[row.history_type]) + (f" ({changed})" if changed else ""),
            reason=row.history_change_reason,
        ))
    reveals = (PersonalDataReveal.objects.restrict(user, Action.ADMINISTER).select_related("user")
               .order_by("-at", "-pk")[:limit])
    entries.extend(AuditEntry(
        when=r.at, who=r.user, kind=str(gettext_lazy("Personal data seen")),
        what=r.subject_label or str(gettext_lazy("%(n)d records") % {"n": r.count}),
        change=f"{r.get_channel_display()}: {', '.join(r.fields)}", reason=r.reason,
    ) for r in reveals)
    return sorted(entries, key=lambda e: e.when, reverse=True)[:limit]


def _previous_records(rows) -> dict:
    """The record before each changed row, one query per history model (not one per row)."""
    ids_by_model: dict = {}
    for row in rows:
        if row.history_type == "~":
            ids_by_model.setdefault(type(row), set()).add(row.id)
    previous = {}
    for model, ids in ids_by_model.items():
        last_by_object: dict = {}
        for record in model.objects.filter(id__in=ids).order_by("id", "history_date", "history_id"):
            previous[(model, record.history_id)] = last_by_object.get(record.id)
            last_by_object[record.id] = record
    return previous


def _label(row) -> str:
    """What a history row is about, read from the row itself (``row.instance`` queries per row)."""
    if hasattr(row, "role"):
        return f"{row.user} · {row.get_role_display()} · {row.region or row.unit}"
    code = getattr(row, "code", "")
    return f"{row.name} ({code})" if code else str(row.name)


# --- People in the territory ---------------------------------------------------------------------

def grids_of_worker(user) -> QuerySet[Region]:
    """The grids a grid worker is assigned to, with the names above them at hand."""
    grid_ids = RoleAssignment.objects.active().filter(user=user, role=Role.GRID_WORKER).values("region_id")
    return Region.objects.filter(pk__in=grid_ids).order_by("path")


@dataclass(frozen=True)
class TerritorySummary:
    region: Region
    counts: dict[str, int]  # level label -> number of regions below
    grid_workers: int


def territory_summaries(user) -> list[TerritorySummary]:
    """For each root of the user's scope: how many regions of each level lie below, and the grid workers."""
    summaries = []
    for region in top_regions(user):
        below = Region.objects.filter(path__startswith=region.path, depth__gt=region.depth)
        # order_by(): the default ordering by path would split the groups
        by_level = dict(below.order_by().values_list("level").annotate(n=Count("id")).values_list("level", "n"))
        workers = RoleAssignment.objects.active().filter(
            Q(region__path__startswith=region.path), role=Role.GRID_WORKER
        ).values("user").distinct().count()
        summaries.append(TerritorySummary(
            region=region,
            counts={Level(level).label: by_level[level] for level in sorted(by_level)},
            grid_workers=workers,
        ))
    return summaries
