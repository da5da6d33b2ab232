"""Writes of the territory tree. Every boundary goes through the rules of geometry.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import shapely
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from governance.core.authority import actor_or_none, require_administer
from governance.core.errors import ConflictError, InvalidInput
from grids import geometry
from grids.geometry import BoundaryError
from grids.locate import territory_changed
from grids.models import Level, Region

CODE_MAX_LENGTH = Region._meta.get_field("code").max_length
NAME_MAX_LENGTH = Region._meta.get_field("name").max_length


def _extent_fields(geom: BaseGeometry) -> dict:
    e = geometry.extent(geom)
    return {
        "centroid_lat": e.centroid_lat,
        "centroid_lng": e.centroid_lng,
        "min_lat": e.min_lat,
        "min_lng": e.min_lng,
        "max_lat": e.max_lat,
        "max_lng": e.max_lng,
    }


def _children_of(parent: Region) -> QuerySet[Region]:
    # By path and depth rather than treebeard's get_children(), which trusts the
    # in-memory numchild and answers "no children" for a stale parent object.
    low, high = Region._get_children_path_interval(parent.path)
    return Region.objects.filter(depth=parent.depth + 1, path__range=(low, high))


def _siblings_under(parent: Region | None) -> QuerySet[Region]:
    return Region.objects.filter(depth=1) if parent is None else _children_of(parent)


def _level_error(level: Any, parent: Region | None) -> str | None:
    """Why ``level`` cannot stand under ``parent``, or None."""
    if level not in Level.values:
        return _("%(level)r is not a level of the tree.") % {"level": level}
    if parent is None and level != Level.CITY:
        return _("Only a city may stand at the top of the tree.")
    if parent is not None and level != parent.level + 1:
        return _("A %(level)s cannot sit under a %(parent)s.") % {
            "level": Level(level).label, "parent": Level(parent.level).label}
    return None


def _invalid(field_name: str, message: str, error_class: type[InvalidInput] = InvalidInput) -> InvalidInput:
    return error_class(message, field_errors={field_name: [message]})


def validate_boundary(geom: BaseGeometry, *, parent: Region | None, exclude_pk: int | None = None) -> None:
    """The rules of the tree: inside the parent, no overlap with the siblings."""
    if parent is not None:
        geometry.check_inside_parent(geom, geometry.parse_boundary(parent.boundary))
    minx, miny, maxx, maxy = geom.bounds
    nearby = _siblings_under(parent).filter(min_lng__lte=maxx, max_lng__gte=minx, min_lat__lte=maxy, max_lat__gte=miny)
    if exclude_pk is not None:
        nearby = nearby.exclude(pk=exclude_pk)
    geometry.check_no_overlap(geom, ((str(r), geometry.parse_boundary(r.boundary)) for r in nearby))


def validate_children_inside(geom: BaseGeometry, *, region: Region) -> None:
    """A new boundary for ``region`` must still hold every one of its children."""
    shapely.prepare(geom)
    for child in _children_of(region):
        try:
            geometry.check_inside_parent(geometry.parse_boundary(child.boundary), geom)
        except BoundaryError as exc:
            raise BoundaryError(
                _("The new boundary would leave %(child)s outside: %(reason)s")
                % {"child": str(child), "reason": exc.message}
            ) from exc


def validate_new_region(*, parent: Region | None, level: Any, code: str, name: str, boundary: Any) -> BaseGeometry:
    """Every rule a new region must meet, checked without writing; the parsed boundary.

    Errors carry ``field_errors`` keyed by the argument names, so a form can
    show each one next to its field.
    """
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise _invalid("code", _("The administrative code is required."))
    if len(code) > CODE_MAX_LENGTH:
        raise _invalid("code", _("The code is longer than %(n)d characters.") % {"n": CODE_MAX_LENGTH})
    if not name:
        raise _invalid("name", _("The name is required."))
    if len(name) > NAME_MAX_LENGTH:
        raise _invalid("name", _("The name is longer than %(n)d characters.") % {"n": NAME_MAX_LENGTH})
    problem = _level_error(level, parent)
    if problem:
        raise _invalid("level", problem)
    if Region.objects.filter(code=code).exists():
        raise _invalid("code", _("A region with code %(code)s already exists.") % {"code": code})
    try:
        geom = geometry.parse_boundary(boundary)
        validate_boundary(geom, parent=parent)
    except BoundaryError as exc:
        raise _invalid("boundary", exc.message, BoundaryError) from exc
    return geom


def validate_region_change(*, region: Region, name: str | None = None, boundary: Any = None) -> BaseGeometry | None:
    """Every rule a change of ``region`` must meet, checked without writing; the parsed new boundary."""
    if name is not None:
        name = name.strip()
        if not name:
            raise _invalid("name", _("The name is required."))
        if len(name) > NAME_MAX_LENGTH:
            raise _invalid("name", _("The name is longer than %(n)d characters.") % {"n": NAME_MAX_LENGTH})
    if boundary is None:
        return None
    try:
        geom = geometry.parse_boundary(boundary)
        parent = Region.objects.get_parent(region, update=True)
        validate_boundary(geom, parent=parent, exclude_pk=region.pk)
        validate_children_inside(geom, region=region)
    except BoundaryError as exc:
        raise _invalid("boundary", exc.message, BoundaryError) from exc
    return geom


@transaction.atomic
def region_create(*, parent: Region | None, level: int, code: str, name: str, boundary: dict, acting_user) -> Region:
    """Add a region under ``parent``, which the acting user must administer (a city: the system or a superuser)."""
    require_administer(acting_user, parent.path if parent is not None else "",
                       parent if parent is not None else _("A new city"))
    geom = validate_new_region(parent=parent, level=level, code=code, name=name, boundary=boundary)
    fields = {"level": level, "code": code.strip(), "name": name.strip(), "boundary": geometry.to_geojson(geom),
              **_extent_fields(geom)}
    try:
        with transaction.atomic():
            region = Region.objects.add_root(fields) if parent is None else Region.objects.add_child(parent, fields)
    except IntegrityError as exc:
        raise ConflictError(_("A region with code %(code)s was just added by someone else.") % {"code": code}) from exc
    territory_changed()
    return region


@transaction.atomic
def region_update(*, region: Region, acting_user, name: str | None = None, boundary: dict | None = None) -> Region:
    """Rename a region or move its boundary; it must stay inside its parent and still hold its children.

    The acting user must administer the region.
    """
    region = Region.objects.select_for_update().get(pk=region.pk)
    require_administer(acting_user, region.path, region)
    geom = validate_region_change(region=region, name=name, boundary=boundary)
    if name is not None:
        region.name = name.strip()
    if geom is not None:
        region.boundary = geometry.to_geojson(geom)
        for field_name, value in _extent_fields(geom).items():
            setattr(region, field_name, value)
    actor = actor_or_none(acting_user)
    if actor is not None:
        region._history_user = actor
    region.save()
    territory_changed()
    return region


# --- Import and export of a GeoJSON FeatureCollection ------------------------

LEVEL_NAMES = {level.name.lower(): level for level in Level}

# Rows per query when reading by a list of codes or paths; well under the
# parameter limits of SQLite and PostgreSQL.
_CHUNK = 500


class TerritoryImportError(InvalidInput):
    """Every problem found in a file, each naming the feature and the reason."""

    code = "territory_import_failed"

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(_("The territory was not imported (%(count)d problems):") % {"count": len(problems)}
                         + "\n" + "\n".join(problems))


@dataclass(frozen=True)
class AcceptedGap:
    """A region the import leaves partly uncovered by its children, accepted by the administrator."""

    code: str
    name: str
    gap: geometry.Gap

    def describe(self) -> str:
        return f"{self.name} ({self.code}): {self.gap.describe()}"


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int = 0
    dry_run: bool = False
    gaps: list[AcceptedGap] = field(default_factory=list)


@dataclass
class _Feature:
    index: int
    code: str
    name: str
    level: Level
    parent_code: str | None
    geom: BaseGeometry

    @property
    def label(self) -> str:
        return _feature_label(self.index, self.code)

    @cached_property
    def boundary(self) -> dict:
        """The GeoJSON as stored: what an existing region's boundary is compared with."""
        return geometry.to_geojson(self.geom)


def _feature_label(index: int, code: str) -> str:
    return _("feature #%(index)d (%(code)s)") % {"index": index, "code": code or "?"}


class _Problems:
    """Problems keyed by feature number, so the report reads in the file's order."""

    def __init__(self) -> None:
        self._items: list[tuple[int, str]] = []

    def file(self, message: str) -> None:
        self._items.append((0, message))

    def feature(self, index: int, code: str, message: str) -> None:
        self._items.append((index, f"{_feature_label(index, code)}: {message}"))

    def __bool__(self) -> bool:
        return bool(self._items)

    def messages(self) -> list[str]:
        # a stable sort keeps each feature's own problems in the order found
        return [message for _index, message in sorted(self._items, key=lambda item: item[0])]


def _parse_level(value: Any) -> Level | None:
    if isinstance(value, int) and not isinstance(value, bool) and value in Level.values:
        return Level(value)
    if isinstance(value, str):
        return LEVEL_NAMES.get(value.strip().lower())
    return None


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value).strip()


def _read_features(collection: Any, problems: _Problems) -> tuple[list[_Feature], set[str]]:
    """The well-formed features, and the codes of those that are not.

    A child is not checked against a parent that could not be read: the
    parent's own problem is reported, and echoes would bury it.
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        problems.file(_("The file is not a GeoJSON FeatureCollection."))
        return [], set()
    raw_features = collection.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        problems.file(_("The FeatureCollection has no features."))
        return [], set()
    features: list[_Feature] = []
    broken_codes: set[str] = set()
    first_index_of: dict[str, int] = {}
    for index, raw in enumerate(raw_features, start=1):
        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            problems.feature(index, "", _("is not a GeoJSON Feature"))
            continue
        props = raw.get("properties")
        if not isinstance(props, dict):
            props = {}
        code = _text(props.get("code"))
        local: list[str] = []
        duplicate = False
        if not code:
            local.append(_("has no code"))
        elif len(code) > CODE_MAX_LENGTH:
            local.append(_("has a code longer than %(n)d characters") % {"n": CODE_MAX_LENGTH})
        elif code in first_index_of:
            duplicate = True
            local.append(_("repeats the code %(code)s of feature #%(index)d")
                         % {"code": code, "index": first_index_of[code]})
        else:
            first_index_of[code] = index
        name = _text(props.get("name"))
        if not name:
            local.append(_("has no name"))
        elif len(name) > NAME_MAX_LENGTH:
            local.append(_("has a name longer than %(n)d characters") % {"n": NAME_MAX_LENGTH})
        level = _parse_level(props.get("level"))
        if props.get("level") in (None, ""):
            local.append(_("has no level (use city, district, street, community or grid)"))
        elif level is None:
            local.append(_("has an unknown level %(level)r (use city, district, street, community or grid)")
                         % {"level": props.get("level")})
        parent_code = _text(props.get("parent_code")) or None
        if parent_code is not None and parent_code == code:
            local.append(_("names itself as its parent"))
        geom = None
        try:
            geom = geometry.parse_boundary(raw.get("geometry"))
        except BoundaryError as exc:
            local.append(str(exc.message))
        if local:
            for message in local:
                problems.feature(index, code, message)
            if code and not duplicate:
                broken_codes.add(code)
            continue
        features.append(_Feature(index, code, name, level, parent_code, geom))
    return features, broken_codes


def _chunks(items: Iterable, size: int = _CHUNK) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _parent_path(path: str) -> str:
    return path[: -Region.steplen]


class _Tree:
    """What the tree already holds that the file touches, read in a few bulk queries."""

    def __init__(self, features: list[_Feature], *, lock: bool):
        wanted = {f.code for f in features} | {f.parent_code for f in features if f.parent_code}
        # Locking the rows the import builds on (PostgreSQL; SQLite has one writer anyway)
        # makes a concurrent add_child under the same parent wait for the import.
        base = Region.objects.select_for_update() if lock else Region.objects.all()
        self.by_code: dict[str, Region] = {}
        for chunk in _chunks(sorted(wanted)):
            self.by_code.update((r.code, r) for r in base.filter(code__in=chunk))
        self.code_by_path = {r.path: r.code for r in self.by_code.values()}
        unknown = {_parent_path(r.path) for r in self.by_code.values() if r.depth > 1} - self.code_by_path.keys()
        for chunk in _chunks(sorted(unknown)):
            self.code_by_path.update(Region.objects.filter(path__in=chunk).values_list("path", "code"))
        # children (pk, code, name, path) by parent path; "" holds the roots
        self.children: dict[str, list[tuple[int, str, str, str]]] = {}
        self.boundaries: dict[str, Any] = {}  # code -> stored GeoJSON, read only when needed
        self._geoms: dict[str, BaseGeometry] = {}

    def parent_code_of(self, region: Region) -> str | None:
        return self.code_by_path.get(_parent_path(region.path)) if region.depth > 1 else None

    def read_children(self, parent_paths: set[str], *, skip_codes: set[str]) -> None:
        """Children of the given parents ("" for the roots), and the boundaries of those not in ``skip_codes``.

        The file's own regions are skipped: the file's boundary is what counts
        for them, so re-importing a whole city reads no boundary twice.
        """
        for path in parent_paths:
            self.children[path] = []
        if "" in parent_paths:
            self.children[""] = list(Region.objects.filter(depth=1).values_list("pk", "code", "name", "path"))
        for chunk in _chunks(sorted(parent_paths - {""}), 200):
            q = Q()
            for path in chunk:
                q |= Q(depth=len(path) // Region.steplen + 1, path__range=Region._get_children_path_interval(path))
            for row in Region.objects.filter(q).values_list("pk", "code", "name", "path"):
                self.children[_parent_path(row[3])].append(row)
        needed = [row[0] for path in parent_paths for row in self.children[path] if row[1] not in skip_codes]
        for chunk in _chunks(needed):
            self.boundaries.update(Region.objects.filter(pk__in=chunk).values_list("code", "boundary"))

    def others_under(self, parent_path: str, skip_codes: set[str]) -> list[tuple[str, str]]:
        """(code, name) of the children of ``parent_path`` that the file leaves alone."""
        return [(code, name) for _pk, code, name, _path in self.children.get(parent_path, [])
                if code not in skip_codes]

    def geom(self, code: str) -> BaseGeometry:
        """The stored boundary of a region, parsed once and prepared for many containment tests."""
        if code not in self._geoms:
            boundary = self.by_code[code].boundary if code in self.by_code else self.boundaries[code]
            self._geoms[code] = geometry.parse_boundary(boundary)
            shapely.prepare(self._geoms[code])
        return self._geoms[code]


@dataclass
class _Plan:
    creates: list[_Feature]
    updates: list[tuple[Region, _Feature]]
    unchanged: int
    tree: _Tree
    gaps: list[AcceptedGap] = field(default_factory=list)


def _plan_import(features: list[_Feature], broken_codes: set[str], problems: _Problems, *, lock: bool,
                 accept_gaps: bool = False) -> _Plan:
    """Check every feature against the file and the tree, and say what would be written."""
    tree = _Tree(features, lock=lock)
    by_code = {f.code: f for f in features}
    file_codes = set(by_code)

    creates: list[_Feature] = []
    updates: list[tuple[Region, _Feature]] = []
    unchanged = 0
    for feature in features:
        current = tree.by_code.get(feature.code)
        if current is None:
            creates.append(feature)
        elif current.name != feature.name or current.boundary != feature.boundary:
            updates.append((current, feature))
        else:
            unchanged += 1

    # the siblings of every feature, and the children of every reshaped region
    parent_paths = {tree.by_code[f.parent_code].path for f in features if f.parent_code in tree.by_code}
    if any(f.parent_code is None for f in features):
        parent_paths.add("")
    reshaped = [(current, feature) for current, feature in updates if current.boundary != feature.boundary]
    parent_paths |= {current.path for current, _feature in reshaped}
    # the file's regions that have children in the tree: their coverage is checked below
    parent_paths |= {tree.by_code[f.code].path for f in features if f.code in tree.by_code and f.level != Level.GRID}
    tree.read_children(parent_paths, skip_codes=file_codes)

    def parent_geom(code: str) -> BaseGeometry:
        if code in by_code:
            shapely.prepare(by_code[code].geom)
            return by_code[code].geom
        return tree.geom(code)

    misplaced: set[str] = set()  # existing regions the file would move: not also checked where they would go
    for feature in features:
        current = tree.by_code.get(feature.code)
        parent_code = feature.parent_code
        if current is not None:
            current_parent = tree.parent_code_of(current)
            if current.level != feature.level or current_parent != parent_code:
                misplaced.add(feature.code)
                problems.feature(feature.index, feature.code, _(
                    "already stands in the tree as a %(level)s under %(parent)s, but the file makes it a "
                    "%(new_level)s under %(new_parent)s; the import does not move regions") % {
                    "level": Level(current.level).label, "parent": current_parent or "-",
                    "new_level": feature.level.label, "new_parent": parent_code or "-"})
                continue
        if parent_code is None:
            if feature.level != Level.CITY:
                problems.feature(feature.index, feature.code,
                                 _("has no parent_code, but only a city may stand at the top"))
            continue
        if parent_code in broken_codes:
            continue  # the parent's own problem is reported
        if parent_code in by_code:
            parent_level = by_code[parent_code].level
        elif parent_code in tree.by_code:
            parent_level = tree.by_code[parent_code].level
        else:
            problems.feature(feature.index, feature.code, _(
                "its parent %(code)s is neither in the file nor in the tree") % {"code": parent_code})
            continue
        if feature.level != parent_level + 1:
            problems.feature(feature.index, feature.code, _("a %(level)s cannot sit under a %(parent)s (%(code)s)")
                             % {"level": feature.level.label, "parent": Level(parent_level).label,
                                "code": parent_code})
            continue
        share = geometry.outside_share(feature.geom, parent_geom(parent_code))
        if share > geometry.tolerance():
            problems.feature(feature.index, feature.code, _("lies %(share).2f%% outside its parent %(code)s")
                             % {"share": 100 * share, "code": parent_code})

    _check_sibling_overlaps([f for f in features if f.code not in misplaced], tree, problems)

    # a reshaped region must still hold the children that the file leaves alone
    for current, feature in reshaped:
        shapely.prepare(feature.geom)
        for code, name in tree.others_under(current.path, file_codes):
            share = geometry.outside_share(tree.geom(code), feature.geom)
            if share > geometry.tolerance():
                problems.feature(feature.index, feature.code, _(
                    "the new boundary would leave %(share).2f%% of its child %(name)s (%(code)s) outside")
                    % {"share": 100 * share, "name": name, "code": code})
    plan = _Plan(creates, updates, unchanged, tree)
    if not problems:  # gaps of a file with other problems would only echo them
        _check_coverage(features, tree, problems, plan, accept_gaps=accept_gaps)
    return plan


def _check_coverage(features: list[_Feature], tree: _Tree, problems: _Problems, plan: _Plan, *,
                    accept_gaps: bool) -> None:
    """Every region the import touches must be covered by its children, or the gap accepted knowingly.

    Touched: each region of the file that is not a grid (a new one without children is a gap as
    a whole), and each region of the tree that gets a child from the file. A point in a gap lands
    in no grid (``grids.locate``).
    """
    file_codes = {f.code for f in features}
    children: dict[str, list[BaseGeometry]] = defaultdict(list)
    first_child: dict[str, _Feature] = {}
    for feature in features:
        if feature.parent_code:
            children[feature.parent_code].append(feature.geom)
            first_child.setdefault(feature.parent_code, feature)
    concerned: list[tuple[str, str, BaseGeometry, _Feature, bool]] = []  # code, name, geom, feature to blame, in file
    for feature in features:
        if feature.level != Level.GRID:
            concerned.append((feature.code, feature.name, feature.geom, feature, True))
    for code, child in first_child.items():
        if code not in file_codes and code in tree.by_code:
            concerned.append((code, tree.by_code[code].name, tree.geom(code), child, False))
    for code, name, geom, blamed, in_file in sorted(concerned, key=lambda c: c[3].index):
        # the children the file leaves alone still cover their part
        kept = ([tree.geom(other) for other, _name in tree.others_under(tree.by_code[code].path, file_codes)]
                if code in tree.by_code else [])
        gap = geometry.uncovered(geom, children[code] + kept)
        if gap is None:
            continue
        if accept_gaps:
            plan.gaps.append(AcceptedGap(code, name, gap))
        elif in_file:
            problems.feature(blamed.index, blamed.code, gap.describe())
        else:
            problems.feature(blamed.index, blamed.code, _("its parent %(name)s (%(code)s) in the tree: %(gap)s")
                             % {"name": name, "code": code, "gap": gap.describe()})


def _check_sibling_overlaps(features: list[_Feature], tree: _Tree, problems: _Problems) -> None:
    """Overlaps among the file's siblings, and with the tree's siblings that the file leaves alone."""
    file_codes = {f.code for f in features}
    groups: dict[str | None, list[_Feature]] = defaultdict(list)
    for feature in features:
        groups[feature.parent_code].append(feature)
    for parent_code, siblings in groups.items():
        if parent_code is None:
            others = tree.others_under("", file_codes)
        elif parent_code in tree.by_code:
            others = tree.others_under(tree.by_code[parent_code].path, file_codes)
        else:
            others = []  # a new parent has no children in the tree yet
        geoms = [f.geom for f in siblings] + [tree.geom(code) for code, _name in others]
        for i, j in geometry.overlapping_pairs(geoms, queried=len(siblings)):
            if j < len(siblings):
                problems.feature(siblings[j].index, siblings[j].code,
                                 _("overlaps its sibling %(other)s") % {"other": siblings[i].label})
            else:
                code, name = others[j - len(siblings)]
                problems.feature(siblings[i].index, siblings[i].code, _(
                    "overlaps the region %(name)s (%(code)s) already in the tree") % {"name": name, "code": code})


def _apply_plan(plan: _Plan, *, acting_user=None) -> None:
    now = timezone.now()
    reason = "territory import"
    if plan.updates:
        changed = []
        for region, feature in plan.updates:
            region.name = feature.name
            region.boundary = feature.boundary
            for field_name, value in _extent_fields(feature.geom).items():
                setattr(region, field_name, value)
            # bulk_update skips auto_now, and locate() rebuilds its index when updated_at moves
            region.updated_at = now
            changed.append(region)
        bulk_update_with_history(
            changed, Region, ["name", "boundary", "centroid_lat", "centroid_lng", "min_lat", "min_lng", "max_lat",
                              "max_lng", "updated_at"],
            batch_size=_CHUNK, default_user=acting_user, default_change_reason=reason)
    if plan.creates:
        _create_nodes(plan, now=now, acting_user=acting_user, reason=reason)
    if plan.gaps:
        _record_accepted_gaps(plan, now=now, acting_user=acting_user)
    if plan.updates or plan.creates:
        territory_changed()


def _record_accepted_gaps(plan: _Plan, *, now, acting_user) -> None:
    """One history row per region whose gap the administrator accepted: the audit page lists it."""
    regions = {r.code: r for r in Region.objects.filter(code__in=[g.code for g in plan.gaps])}
    for accepted in plan.gaps:
        region = regions[accepted.code]
        # history_change_reason holds 100 characters: the share and the area; the place is in the command's output
        region._change_reason = (f"territory import: gap accepted, {100 * accepted.gap.share:.2f}% "
                                 f"({accepted.gap.area_m2 / 1e6:.3f} km²) covered by no child")[:100]
    Region.history.bulk_history_create(list(regions.values()), update=True, default_user=acting_user,
                                       default_date=now)


def _create_nodes(plan: _Plan, *, now, acting_user, reason: str) -> None:
    """Place the new regions with treebeard's own path scheme, in bulk rather than a node at a time."""
    tree = plan.tree
    last_step: dict[str, int] = defaultdict(int)  # the last step taken under each parent path ("" for roots)
    for parent_path, rows in tree.children.items():
        if rows:
            last_step[parent_path] = max(Region._str2int(path[-Region.steplen:]) for _pk, _c, _n, path in rows)
    path_of = {code: region.path for code, region in tree.by_code.items()}
    new_nodes: dict[str, Region] = {}
    added_to_existing: dict[int, int] = defaultdict(int)  # existing parent pk -> new children
    max_step = len(Region.alphabet) ** Region.steplen - 1
    max_path_length = Region._meta.get_field("path").max_length
    # parents before children; siblings keep the file's order
    for feature in sorted(plan.creates, key=lambda f: (f.level, f.index)):
        parent_path = path_of[feature.parent_code] if feature.parent_code else ""
        last_step[parent_path] += 1
        depth = len(parent_path) // Region.steplen + 1
        if last_step[parent_path] > max_step or depth * Region.steplen > max_path_length:
            raise InvalidInput(_("%(feature)s: the tree has no room for another region here.")
                               % {"feature": feature.label})
        path = Region._get_path(parent_path or None, depth, last_step[parent_path])
        node = Region(path=path, depth=depth, numchild=0, level=feature.level, code=feature.code, name=feature.name,
                      boundary=feature.boundary, updated_at=now, **_extent_fields(feature.geom))
        path_of[feature.code] = path
        new_nodes[feature.code] = node
        if feature.parent_code in new_nodes:
            new_nodes[feature.parent_code].numchild += 1
        elif feature.parent_code is not None:
            added_to_existing[tree.by_code[feature.parent_code].pk] += 1
    by_increment: dict[int, list[int]] = defaultdict(list)
    for pk, increment in added_to_existing.items():
        by_increment[increment].append(pk)
    for increment, pks in by_increment.items():
        for chunk in _chunks(pks):
            Region.objects.filter(pk__in=chunk).update(numchild=F("numchild") + increment)
    try:
        with transaction.atomic():
            bulk_create_with_history(list(new_nodes.values()), Region, batch_size=_CHUNK,
                                     default_user=acting_user, default_change_reason=reason)
    except IntegrityError as exc:
        raise ConflictError(_("The tree changed while the territory was being imported. Try again.")) from exc


def import_territory(collection: Any, *, dry_run: bool = False, acting_user=None,
                     accept_gaps: bool = False) -> ImportResult:
    """Import or update regions from a FeatureCollection: all of it, or nothing.

    Each feature carries ``properties`` ``code``, ``name``, ``level`` (city,
    district, street, community or grid) and ``parent_code`` (absent for the
    city). A code that exists is updated in place (name and boundary); its
    level and parent must be those it has in the tree. Every problem is
    collected, each naming the feature and the reason, before anything is
    written, and the writes share one transaction. ``dry_run`` checks
    everything and writes nothing.

    A region the import touches must be covered by its children (within
    ``TERRITORY_AREA_TOLERANCE``): a gap is a problem that names its share, area
    and a point inside it, unless ``accept_gaps`` — then the import goes ahead,
    the gaps are returned and each is recorded in its region's history.
    """
    problems = _Problems()
    features, broken_codes = _read_features(collection, problems)
    with transaction.atomic():
        plan = (_plan_import(features, broken_codes, problems, lock=not dry_run, accept_gaps=accept_gaps)
                if features else None)
        if problems or plan is None:
            raise TerritoryImportError(problems.messages())
        if not dry_run:
            _apply_plan(plan, acting_user=acting_user)
    return ImportResult(created=len(plan.creates), updated=len(plan.updates), unchanged=plan.unchanged,
                        dry_run=dry_run, gaps=plan.gaps)


def export_territory(root: Region | None = None) -> dict:
    """The tree (or one subtree) as a FeatureCollection that import_territory reads back."""
    regions = Region.objects.filter(path__startswith=root.path) if root is not None else Region.objects.all()
    code_by_path: dict[str, str] = {}
    features = []
    for region in regions.order_by("path").iterator(chunk_size=1000):
        code_by_path[region.path] = region.code
        parent_path = _parent_path(region.path)
        features.append({
            "type": "Feature",
            "properties": {
                "code": region.code,
                "name": region.name,
                "level": Level(region.level).name.lower(),
                "parent_code": code_by_path.get(parent_path) if parent_path else None,
            },
            "geometry": region.boundary,
        })
    if root is not None and root.depth > 1 and features:
        # a subtree names the parent of its top region, so it reads back into the same tree
        features[0]["properties"]["parent_code"] = Region.objects.get(path=_parent_path(root.path)).code
    return {"type": "FeatureCollection", "features": features}
