"""Writes of the territory tree. Every boundary goes through the rules of geometry.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from governance.errors import InvalidInput
from grids import geometry
from grids.geometry import BoundaryError
from grids.models import Level, Region


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


def _check_level(level: int, parent: Region | None) -> None:
    if parent is None and level != Level.CITY:
        raise InvalidInput(_("Only a city may stand at the top of the tree."))
    if parent is not None and level != parent.level + 1:
        raise InvalidInput(
            _("A %(level)s cannot sit under a %(parent)s.")
            % {"level": Level(level).label, "parent": Level(parent.level).label}
        )


def validate_boundary(geom: BaseGeometry, *, parent: Region | None, exclude_pk: int | None = None) -> None:
    """The rules of the tree: inside the parent, no overlap with the siblings."""
    if parent is None:
        siblings = Region.objects.get_root_nodes()
    else:
        geometry.check_inside_parent(geom, geometry.parse_boundary(parent.boundary))
        siblings = Region.objects.get_children(parent)
    minx, miny, maxx, maxy = geom.bounds
    nearby = siblings.filter(min_lng__lte=maxx, max_lng__gte=minx, min_lat__lte=maxy, max_lat__gte=miny)
    if exclude_pk is not None:
        nearby = nearby.exclude(pk=exclude_pk)
    geometry.check_no_overlap(geom, ((r.name, geometry.parse_boundary(r.boundary)) for r in nearby))


@transaction.atomic
def region_create(*, parent: Region | None, level: int, code: str, name: str, boundary: dict) -> Region:
    _check_level(level, parent)
    if Region.objects.filter(code=code).exists():
        raise InvalidInput(_("A region with code %(code)s already exists.") % {"code": code})
    geom = geometry.parse_boundary(boundary)
    validate_boundary(geom, parent=parent)
    fields = {"level": level, "code": code, "name": name, "boundary": geometry.to_geojson(geom),
              **_extent_fields(geom)}
    if parent is None:
        return Region.objects.add_root(fields)
    return Region.objects.add_child(parent, fields)


@transaction.atomic
def region_update(*, region: Region, name: str | None = None, boundary: dict | None = None) -> Region:
    """Rename a region or move its boundary; children must still fit inside."""
    region = Region.objects.select_for_update().get(pk=region.pk)
    if name is not None:
        region.name = name
    if boundary is not None:
        geom = geometry.parse_boundary(boundary)
        validate_boundary(geom, parent=Region.objects.get_parent(region), exclude_pk=region.pk)
        for child in Region.objects.get_children(region):
            try:
                geometry.check_inside_parent(geometry.parse_boundary(child.boundary), geom)
            except BoundaryError as exc:
                raise BoundaryError(
                    _("The new boundary would leave %(child)s outside: %(reason)s")
                    % {"child": child.name, "reason": exc.message}
                ) from exc
        region.boundary = geometry.to_geojson(geom)
        for field, value in _extent_fields(geom).items():
            setattr(region, field, value)
    region.save()
    return region


# --- Import and export of a GeoJSON FeatureCollection ------------------------

LEVEL_NAMES = {level.name.lower(): level for level in Level}


class TerritoryImportError(InvalidInput):
    """Every problem found in a file, each naming the feature and the reason."""

    code = "territory_import_failed"

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(_("The territory was not imported (%(count)d problems):") % {"count": len(problems)}
                         + "\n" + "\n".join(problems))


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
        return _("feature #%(index)d (%(code)s)") % {"index": self.index, "code": self.code or "?"}


@dataclass
class ImportResult:
    created: int
    updated: int


def _read_features(collection) -> tuple[list[_Feature], list[str]]:
    problems: list[str] = []
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        return [], [_("The file is not a GeoJSON FeatureCollection.")]
    raw_features = collection.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        return [], [_("The FeatureCollection has no features.")]
    features: list[_Feature] = []
    seen_codes: set[str] = set()
    for index, raw in enumerate(raw_features, start=1):
        props = (raw or {}).get("properties") or {} if isinstance(raw, dict) else {}
        code = str(props.get("code") or "").strip()
        label = _("feature #%(index)d (%(code)s)") % {"index": index, "code": code or "?"}
        local: list[str] = []
        if not code:
            local.append(_("has no code"))
        elif code in seen_codes:
            local.append(_("repeats the code %(code)s") % {"code": code})
        seen_codes.add(code)
        name = str(props.get("name") or "").strip()
        if not name:
            local.append(_("has no name"))
        level = LEVEL_NAMES.get(str(props.get("level", "")).lower())
        if level is None:
            local.append(_("has an unknown level %(level)r (use city, district, street, community or grid)")
                         % {"level": props.get("level")})
        geom = None
        try:
            geom = geometry.parse_boundary(raw.get("geometry") if isinstance(raw, dict) else None)
        except BoundaryError as exc:
            local.append(str(exc.message))
        if local:
            problems.extend(f"{label}: {p}" for p in local)
            continue
        parent_code = props.get("parent_code")
        features.append(_Feature(index, code, name, level, str(parent_code) if parent_code else None, geom))
    return features, problems


def import_territory(collection) -> ImportResult:
    """Import or update regions from a FeatureCollection: all of it, or nothing.

    Each feature carries ``properties`` ``code``, ``name``, ``level`` and
    ``parent_code`` (absent for the city). A code that exists is updated in
    place. Every error is collected before anything is written.
    """
    features, problems = _read_features(collection)
    if problems:
        raise TerritoryImportError(problems)

    by_code = {f.code: f for f in features}
    existing = {r.code: r for r in Region.objects.filter(code__in=list(by_code) + [
        f.parent_code for f in features if f.parent_code])}

    def geom_of(code: str) -> BaseGeometry | None:
        if code in by_code:
            return by_code[code].geom
        if code in existing:
            return geometry.parse_boundary(existing[code].boundary)
        return None

    def level_of(code: str) -> int | None:
        if code in by_code:
            return by_code[code].level
        return existing[code].level if code in existing else None

    children: dict[str | None, list[_Feature]] = defaultdict(list)
    for feature in features:
        children[feature.parent_code].append(feature)
        if feature.parent_code is None:
            if feature.level != Level.CITY:
                problems.append(f"{feature.label}: " + _("has no parent_code, but only a city may stand at the top"))
            continue
        parent_level = level_of(feature.parent_code)
        if parent_level is None:
            problems.append(f"{feature.label}: " + _("its parent %(code)s is neither in the file nor in the tree")
                            % {"code": feature.parent_code})
            continue
        if feature.level != parent_level + 1:
            problems.append(f"{feature.label}: " + _("a %(level)s cannot sit under a %(parent)s")
                            % {"level": feature.level.label, "parent": Level(parent_level).label})
            continue
        try:
            geometry.check_inside_parent(feature.geom, geom_of(feature.parent_code))
        except BoundaryError as exc:
            problems.append(f"{feature.label}: {exc.message}")
    for parent_code, siblings in children.items():
        problems.extend(_sibling_overlaps(parent_code, siblings, existing))
    if problems:
        raise TerritoryImportError(problems)

    created = updated = 0
    with transaction.atomic():
        # parents before children: sort by level
        for feature in sorted(features, key=lambda f: f.level):
            fields = {"name": feature.name, "boundary": geometry.to_geojson(feature.geom),
                      **_extent_fields(feature.geom)}
            region = Region.objects.filter(code=feature.code).first()
            if region is not None:
                for field, value in fields.items():
                    setattr(region, field, value)
                region.save()
                updated += 1
                continue
            fields.update(level=feature.level, code=feature.code)
            if feature.parent_code is None:
                Region.objects.add_root(fields)
            else:
                Region.objects.add_child(Region.objects.get(code=feature.parent_code), fields)
            created += 1
    return ImportResult(created=created, updated=updated)


def _sibling_overlaps(parent_code, siblings: list[_Feature], existing: dict[str, Region]) -> list[str]:
    """Overlaps among the file's siblings and with the tree's siblings not in the file."""
    problems = []
    named = [(f"{f.label}", f.geom) for f in siblings]
    file_codes = {f.code for f in siblings}
    if parent_code is None:
        others = Region.objects.get_root_nodes()
    elif parent_code in existing:
        others = Region.objects.get_children(existing[parent_code])
    else:
        others = Region.objects.none()
    named += [(str(r), geometry.parse_boundary(r.boundary)) for r in others.exclude(code__in=file_codes)]
    for i, feature in enumerate(siblings):
        try:
            geometry.check_no_overlap(feature.geom, named[:i] + named[i + 1:])
        except BoundaryError as exc:
            problems.append(f"{feature.label}: {exc.message}")
    return problems


def export_territory(root: Region | None = None) -> dict:
    """The tree (or one subtree) as a FeatureCollection that import_territory reads back."""
    regions = Region.objects.get_tree(root)
    parent_code_by_path = {}
    features = []
    for region in regions:
        parent_path = region.path[: -region.steplen]
        parent_code_by_path[region.path] = region.code
        features.append({
            "type": "Feature",
            "properties": {
                "code": region.code,
                "name": region.name,
                "level": Level(region.level).name.lower(),
                "parent_code": parent_code_by_path.get(parent_path) if parent_path else None,
            },
            "geometry": region.boundary,
        })
    if root is not None and root.depth > 1 and features:
        features[0]["properties"]["parent_code"] = Region.objects.get_parent(root).code
    return {"type": "FeatureCollection", "features": features}
