"""The demo city's territory: a deterministic tiling of a real area by nested Voronoi cells.

The city is the box around Shantou. Each level is cut into Voronoi cells
around seed points placed inside the parent, and each cell is clipped to the
parent, so the children of every region tile it with no gap and no overlap.
The same seed gives the same codes, names and polygons, byte for byte.

Two halves:

* ``generate_territory`` is pure geometry and naming, no database: tests
  compare two runs, and the seeding command checks an existing city with it;
* ``load_territory`` writes the tree with ``bulk_create``. It computes
  treebeard's materialised paths itself instead of calling
  ``grids.services.region_create`` per node: that service checks each boundary
  against its siblings with queries, which the construction here makes
  unnecessary and which would take minutes for a city of 12,000 grids.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.core.management.base import CommandError
from django.db import transaction
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from simple_history.utils import bulk_create_with_history

from governance.core.demo import BATCH_SIZE, CHANGE_REASON, DemoContext, demo_step
from grids import geometry
from grids.models import Level, Region
from grids.services import _extent_fields

# lng/lat box around Shantou, on the coast of eastern Guangdong.
CITY_BOX = (116.45, 23.20, 116.95, 23.55)
DEMO_CITY_CODE = "440500"

# Lloyd relaxation moves each seed to the centre of its cell a few times:
# random seeds alone give slivers next to giants; two rounds give cells of
# believable, still varied, sizes.
LLOYD_ROUNDS = 2

# Administrative code digits added per level below the city (GB/T 2260 style:
# district 2, street 3, community 3; grids follow the community pattern).
CODE_DIGITS = {Level.DISTRICT: 2, Level.STREET: 3, Level.COMMUNITY: 3, Level.GRID: 3}
# District numbers start at 02: "01" is the code of the city's urban area (市辖区).
FIRST_NUMBER = {Level.DISTRICT: 2, Level.STREET: 1, Level.COMMUNITY: 1, Level.GRID: 1}


@dataclass(frozen=True)
class TerritorySize:
    """How many children each region of a level has."""

    districts: int = 6
    streets_per_district: int = 5
    communities_per_street: int = 5
    grids_per_community: int = 8

    def __post_init__(self) -> None:
        for level, count in self.children_per_level().items():
            top = 10 ** CODE_DIGITS[level] - FIRST_NUMBER[level]
            if not 1 <= count <= top:
                raise ValueError(f"{Level(level).name.lower()} count must be between 1 and {top}, not {count}")

    def children_per_level(self) -> dict[Level, int]:
        return {
            Level.DISTRICT: self.districts,
            Level.STREET: self.streets_per_district,
            Level.COMMUNITY: self.communities_per_street,
            Level.GRID: self.grids_per_community,
        }

    def counts(self) -> dict[Level, int]:
        """How many regions of each level the city has."""
        counts = {Level.CITY: 1}
        total = 1
        for level, per_parent in self.children_per_level().items():
            total *= per_parent
            counts[level] = total
        return counts

    @property
    def total(self) -> int:
        return sum(self.counts().values())

    def scaled(self, factor: float) -> TerritorySize:
        """A city with ``factor`` times as many grids, grown evenly at every level.

        Each level grows by about the fourth root of the factor; among the
        nearby whole numbers, the set whose grid count is closest to the target
        wins, and among equals the most even growth. ``scaled(10)`` of the
        default is 10 districts of 8 streets of 10 communities of 15 grids.
        """
        if factor == 1:
            return self
        base = list(self.children_per_level().values())
        target = factor * math.prod(base)
        step = factor ** 0.25
        tops = [10 ** CODE_DIGITS[level] - FIRST_NUMBER[level] for level in CODE_DIGITS]
        ranges = [range(max(1, math.floor(n * step / 1.5)), min(top, math.ceil(n * step * 1.5)) + 1)
                  for n, top in zip(base, tops, strict=True)]

        def badness(counts: tuple[int, ...]) -> tuple[float, float]:
            miss = abs(math.log(math.prod(counts) / target))
            unevenness = sum((math.log(c / b) - math.log(step)) ** 2 for c, b in zip(counts, base, strict=True))
            return round(miss, 3), unevenness

        best = min(itertools.product(*ranges), key=badness)
        return TerritorySize(*best)


@dataclass
class DemoRegion:
    """One region of the generated city, before it is written."""

    level: Level
    code: str
    name: str
    geom: Polygon | MultiPolygon
    children: list[DemoRegion] = field(default_factory=list)

    def walk(self) -> Iterator[DemoRegion]:
        """This region and everything below it, parents first, children in order (treebeard's path order)."""
        yield self
        for child in self.children:
            yield from child.walk()


# --- Names -------------------------------------------------------------------

# Invented district names in the local style (潮汕: 鮀 is Shantou's old name, 澄 and 濠 its waters).
DISTRICT_NAMES = ["金湖", "龙溪", "鮀江", "濠屿", "凤岭", "澄波", "莲华", "桑浦", "韩滨", "梅峰", "榕湾", "东澜"]
# Street and community names are two characters: a first from NAME_HEADS, a second from NAME_TAILS.
NAME_HEADS = (
    "金银龙凤东西南北新华光明海湖江溪山岭峰石沙松梅桃莲榕竹兴福安和乐康宁平泰永长广德文育春翠碧云月星鹤鸥珠玉锦"
    "青丹鮀濠澄礐潮韩桑蓬外内上下前后大小中")
NAME_TAILS = "平湖江阳海山城华安兴园港桥坊池岗埔浦田塘洲岸滨苑林源溪岭湾厝寨围埕头尾墩亭"
NUMERALS = "一二三四五六七八九十"


class _NamePool:
    """Unique names drawn in a seeded order; numbered variants once the pool runs dry."""

    def __init__(self, stems: list[str], rng: random.Random, *, keep_order: int = 0):
        # The first ``keep_order`` stems are used as listed (the curated ones).
        head, tail = stems[:keep_order], stems[keep_order:]
        rng.shuffle(tail)
        self._stems = head + tail
        self._used: set[str] = set()
        self._next = 0
        self._round = 0

    def take(self) -> str:
        while True:
            if self._next == len(self._stems):
                self._next, self._round = 0, self._round + 1
            stem = self._stems[self._next]
            self._next += 1
            name = stem if self._round == 0 else f"{stem}{NUMERALS[(self._round - 1) % 10]}"
            if self._round > 10:
                name += str(self._round // 10)
            if name not in self._used:
                self._used.add(name)
                return name


def _two_character_stems() -> list[str]:
    return [h + t for h in NAME_HEADS for t in NAME_TAILS if h != t]


class _Namer:
    def __init__(self, seed: int):
        stems = _two_character_stems()
        self._pools = {
            Level.DISTRICT: _NamePool(DISTRICT_NAMES + stems, random.Random(f"{seed}/names/district"),
                                      keep_order=len(DISTRICT_NAMES)),
            Level.STREET: _NamePool(list(stems), random.Random(f"{seed}/names/street")),
            Level.COMMUNITY: _NamePool(list(stems), random.Random(f"{seed}/names/community")),
        }

    def name(self, level: Level, parent: DemoRegion, number: int) -> str:
        if level == Level.GRID:
            return f"{parent.name}第{number}网格"
        suffix = {Level.DISTRICT: "区", Level.STREET: "街道", Level.COMMUNITY: "社区"}[level]
        return self._pools[level].take() + suffix


# --- Geometry ----------------------------------------------------------------


def _random_points_inside(parent: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """``n`` distinct points strictly inside ``parent``, by rejection from its bounding box."""
    shapely.prepare(parent)
    min_x, min_y, max_x, max_y = parent.bounds
    points: list[tuple[float, float]] = []
    seen: set[tuple[float, float]] = set()
    while len(points) < n:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if (x, y) not in seen and parent.contains_properly(Point(x, y)):
            seen.add((x, y))
            points.append((x, y))
    return points


def _clipped_cells(parent: BaseGeometry, seeds: list[tuple[float, float]]) -> list[BaseGeometry]:
    """The Voronoi cell of each seed, in the seeds' order, clipped to the parent."""
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=parent, ordered=True)
    cells = np.array(list(diagram.geoms), dtype=object)
    return list(shapely.intersection(cells, parent))


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygonal parts of an overlay result (which may carry stray lines or points)."""
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    return [part for g in getattr(geom, "geoms", []) for part in _polygons(g)]


def _inner_centre(cell: BaseGeometry, parent: BaseGeometry) -> tuple[float, float]:
    # A centroid can fall outside a crescent-shaped cell, and a seed outside the
    # parent would leave its cell empty; the representative point is always inside.
    centre = cell.centroid
    if not parent.contains_properly(centre):
        centre = cell.representative_point()
    return centre.x, centre.y


def _merge_strays(cells: list[BaseGeometry], seeds: list[tuple[float, float]]) -> list[Polygon | MultiPolygon]:
    """One polygon per seed: a cell cut in pieces by a bend of the parent keeps the piece with its seed.

    Each stray piece joins the neighbour with which it shares the longest
    edge, so the cells still tile the parent.
    """
    mains: list[BaseGeometry] = []
    strays: list[Polygon] = []
    for cell, (x, y) in zip(cells, seeds, strict=True):
        parts = _polygons(cell)
        seed = Point(x, y)
        home = next((p for p in parts if p.covers(seed)), None) or max(parts, key=lambda p: p.area)
        mains.append(home)
        strays.extend(p for p in parts if p is not home)
    while strays:
        pending = []
        for stray in strays:
            shared = shapely.length(shapely.intersection(stray.boundary, shapely.boundary(np.array(mains))))
            best = int(np.argmax(shared))
            if shared[best] <= 0:
                pending.append(stray)  # touches only other strays so far
                continue
            mains[best] = shapely.union(mains[best], stray)
        if len(pending) == len(strays):
            break  # cannot happen for a tiling; the strays stay out rather than loop forever
        strays = pending
    return [_single(m) for m in mains]


def _single(geom: BaseGeometry) -> Polygon | MultiPolygon:
    parts = _polygons(geom)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def subdivide(parent: Polygon | MultiPolygon, n: int, rng: random.Random) -> list[Polygon | MultiPolygon]:
    """Cut ``parent`` into ``n`` regions that tile it, numbered in reading order (north to south, west to east)."""
    if n == 1:
        return [parent]
    seeds = _random_points_inside(parent, n, rng)
    for _round in range(LLOYD_ROUNDS):
        seeds = [_inner_centre(c, parent) for c in _clipped_cells(parent, seeds)]
    cells = _merge_strays(_clipped_cells(parent, seeds), seeds)
    # Bands of about sqrt(n) rows, so neighbouring numbers are neighbours on the map.
    band = (parent.bounds[3] - parent.bounds[1]) / max(1, round(math.sqrt(n)))
    return sorted(cells, key=lambda c: (-math.floor((c.centroid.y - parent.bounds[1]) / band), c.centroid.x))


# --- The generator -----------------------------------------------------------


def child_code(parent_code: str, level: Level, number: int) -> str:
    digits = CODE_DIGITS[level]
    if level == Level.DISTRICT:
        # a city code ends in 00: the district replaces those two digits
        return f"{parent_code[:-digits]}{number + FIRST_NUMBER[level] - 1:0{digits}d}"
    return f"{parent_code}{number + FIRST_NUMBER[level] - 1:0{digits}d}"


def expected_codes(size: TerritorySize, city_code: str = DEMO_CITY_CODE) -> set[str]:
    """Every code of a city of this size: the codes depend on the size alone, not on the seed."""
    codes = {city_code}
    frontier = [city_code]
    for level, per_parent in size.children_per_level().items():
        frontier = [child_code(c, level, i) for c in frontier for i in range(1, per_parent + 1)]
        codes.update(frontier)
    return codes


def generate_territory(
    *,
    size: TerritorySize,
    seed: int,
    city_name: str,
    city_code: str = DEMO_CITY_CODE,
    bounds: tuple[float, float, float, float] = CITY_BOX,
    on_region: Callable[[int], None] | None = None,
) -> DemoRegion:
    """The whole demo city, in memory. ``on_region(n)`` is told as regions are made (for a progress bar).

    Each region's children come from a random stream seeded by the demo seed
    and the region's code, so a region's subdivision never depends on the
    order in which the others were cut.
    """
    namer = _Namer(seed)
    city_geom = box(*bounds)
    city = DemoRegion(Level.CITY, city_code, city_name, city_geom)
    per_level = size.children_per_level()
    frontier = [city]
    for level, per_parent in per_level.items():
        next_frontier = []
        for parent in frontier:
            rng = random.Random(f"{seed}/{parent.code}")
            for number, geom in enumerate(subdivide(parent.geom, per_parent, rng), start=1):
                child = DemoRegion(level, child_code(parent.code, level, number), namer.name(level, parent, number),
                                   geom)
                parent.children.append(child)
                next_frontier.append(child)
            if on_region:
                on_region(per_parent)
        frontier = next_frontier
    return city


def check_tiling(city: DemoRegion, *, rel_tol: float = 1e-6) -> None:
    """Cheap final check: every region valid and non-empty, each level's areas add up to the city's.

    Overlaps are excluded by construction (Voronoi cells are disjoint), so
    the sum of areas is the union's area; the tests check the union too.
    """
    by_level: dict[Level, list[BaseGeometry]] = {}
    for region in city.walk():
        by_level.setdefault(region.level, []).append(region.geom)
    for level, geoms in by_level.items():
        arr = np.array(geoms, dtype=object)
        if not shapely.is_valid(arr).all() or shapely.is_empty(arr).any():
            raise AssertionError(f"the demo generator made an invalid or empty {level.name.lower()}")
        total = float(shapely.area(arr).sum())
        if abs(total - city.geom.area) > rel_tol * city.geom.area:
            raise AssertionError(f"the {level.name.lower()}s cover {total} square degrees, the city {city.geom.area}")


# --- Writing it --------------------------------------------------------------


def path_step(number: int) -> str:
    """Treebeard's path step of the ``number``-th child (1-based): base 36, zero-padded to ``steplen``."""
    digits = ""
    while number:
        number, rest = divmod(number, len(Region.alphabet))
        digits = Region.alphabet[rest] + digits
    if len(digits) > Region.steplen:
        raise ValueError(f"a region cannot have {number} children")
    return digits.rjust(Region.steplen, Region.alphabet[0])


def _region_fields(region: DemoRegion) -> dict:
    return {
        "level": region.level,
        "code": region.code,
        "name": region.name,
        "boundary": geometry.to_geojson(region.geom),
        **_extent_fields(region.geom),
    }


@transaction.atomic
def load_territory(city: DemoRegion, *, on_region: Callable[[int], None] | None = None) -> Region:
    """Write the generated city: the root through treebeard, everything below in bulk.

    The rows below the city are inserted in path order with their paths,
    depths and child counts computed here, which is what treebeard's
    ``add_child`` would store one node at a time. History rows are bulk-created
    alongside (``bulk_create_with_history``), so the audit trail shows the demo
    territory as created by the seeding, like any other region.
    """
    root = Region(**_region_fields(city))
    root._change_reason = CHANGE_REASON
    root = Region.objects.add_root(instance=root)
    Region.objects.filter(pk=root.pk).update(numchild=len(city.children))
    root.numchild = len(city.children)
    if on_region:
        on_region(1)

    # depth-first order: parent rows before their children, siblings in path order
    ordered = _depth_first(root.path, city)
    for start in range(0, len(ordered), BATCH_SIZE):
        batch = ordered[start:start + BATCH_SIZE]
        bulk_create_with_history(batch, Region, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON)
        if on_region:
            on_region(len(batch))
    return root


def _depth_first(root_path: str, city: DemoRegion) -> list[Region]:
    out: list[Region] = []

    def visit(path: str, region: DemoRegion) -> None:
        for number, child in enumerate(region.children, start=1):
            child_path = path + path_step(number)
            out.append(Region(path=child_path, depth=len(child_path) // Region.steplen,
                              numchild=len(child.children), **_region_fields(child)))
            visit(child_path, child)

    visit(root_path, city)
    return out


# --- The seeding step --------------------------------------------------------


@demo_step(order=100)
def territory(ctx: DemoContext) -> None:
    """The city and every district, street, community and grid below it."""
    existing = Region.objects.filter(code=ctx.city_code).first()
    if existing is not None:
        ctx.city = existing
        _check_existing(ctx, existing)
        return
    bar = ctx.progress(total=ctx.size.total, desc="territory: cutting", unit="region")
    city = generate_territory(size=ctx.size, seed=ctx.seed, city_name=ctx.city_name, city_code=ctx.city_code,
                              on_region=bar.update)
    bar.update(1)  # the city itself
    bar.close()
    check_tiling(city)
    bar = ctx.progress(total=ctx.size.total, desc="territory: writing", unit="region")
    ctx.city = load_territory(city, on_region=bar.update)
    bar.close()
    ctx.log(f"Territory: created {ctx.size.total} regions under {city.name} ({city.code}).")


def _check_existing(ctx: DemoContext, city: Region) -> None:
    """A city already there is kept when it holds every region of the requested size.

    Regions added since (through the admin, say) are welcome. A city that
    lacks some cannot be topped up: a region's cells depend on how many there
    are, so a larger size is another tiling whose new regions would overlap
    the old ones.
    """
    have = set(Region.objects.filter(path__startswith=city.path).values_list("code", flat=True))
    want = expected_codes(ctx.size, ctx.city_code)
    missing = want - have
    if missing:
        raise CommandError(
            f"The demo city {city.code} already exists with {len(have)} regions and lacks {len(missing)} of the "
            f"{len(want)} this size needs; it cannot grow in place. Seed a fresh database (delete var/db.sqlite3 "
            "and migrate) to change the size."
        )
    ctx.log(f"Territory: the demo city {city.name} ({city.code}) is already there with {len(have)} regions; kept.")
