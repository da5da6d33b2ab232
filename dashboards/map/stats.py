"""The map's numbers: kept in two tally tables, and counted live when a filter needs it.

Two paths give the same figures (tests hold them to it):

* **tallies** (``GridCategoryTally``, ``GridDayTally``): per-grid counters the
  worker keeps up to date. They answer the view a command centre looks at all
  day: its whole territory, or one region of it, with no other filter. Summing
  a few thousand tally rows is what makes 100 ms possible at a million incidents.
* **live**: the incidents themselves, through ``incident_list`` and the shared
  ``IncidentFilter``, the very list the page and the export show. Any filter the
  tallies do not carry (status, category, dates, level, …) takes this path, and
  so does a user whose scope includes units (the tallies know grids, not units).

Freshness (docs/map.md): every save of an incident adds the difference it makes
to its rows in its own transaction (``dashboards.map.tallies``), so the tallies
commit with the incidents. ``refresh_overdue`` brings ``overdue`` up to now every
minute (time alone makes an incident overdue); ``refresh_tallies`` rebuilds both
tables from the incidents in a few set-based statements (``seed_demo``, bulk
loads, and nightly as the repair).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, Count, F, FloatField, Func, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone

from dashboards.models import GridCategoryTally, GridDayTally
from governance.access.selectors import top_regions
from governance.core.scoping import Action, get_scope
from grids.models import Level, Region
from incidents.categories import major_categories
from incidents.filters import IncidentFilter
from incidents.models import OPEN_STATUSES, Category, Incident, Status, overdue_q
from incidents.selectors import incident_list

TREND_DAYS = 30
OVERDUE_AS_OF_KEY = "dashboards:map:overdue-as-of"
# Filters the tallies can answer; any other non-empty filter makes the figures live.
TALLY_FILTERS = frozenset({"region"})
BATCH = 2000


class EpochSeconds(Func):
    """Seconds since 1970 of a datetime column, on SQLite and PostgreSQL alike."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)


def on_time_q() -> Q:
    """Closed no later than the handling deadline (closed on the spot: no deadline, so on time)."""
    return Q(status=Status.CLOSED) & (Q(handle_due_at__isnull=True) | Q(closed_at__lte=F("handle_due_at")))


def incident_aggregates(now: datetime) -> dict:
    """Aggregates over incidents, named like the tally columns (one definition for both paths)."""
    return {
        "total": Count("pk"),
        "dropped": Count("pk", filter=Q(status__in=[Status.VOIDED, Status.MERGED])),
        "open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "overdue": Count("pk", filter=overdue_q(now)),
        "closed": Count("pk", filter=Q(status=Status.CLOSED)),
        "closed_on_time": Count("pk", filter=on_time_q()),
        "handling_seconds": Coalesce(
            Sum(EpochSeconds("closed_at") - EpochSeconds("reported_at"), filter=Q(status=Status.CLOSED)), 0.0,
            output_field=FloatField()),
    }


TALLY_COLUMNS = ["total", "dropped", "open", "overdue", "closed", "closed_on_time", "handling_seconds"]


def tally_aggregates() -> dict:
    return {name: Coalesce(Sum(name), 0, output_field=FloatField() if name == "handling_seconds" else None)
            for name in TALLY_COLUMNS}


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- Keeping the tallies -------------------------------------------------------------------------


def _upsert_category_tallies(incidents: QuerySet, now: datetime) -> set[tuple[int, int]]:
    rows = (incidents.order_by().values("grid_id", "category_id")
            .annotate(path=F("grid__path"), **incident_aggregates(now)))
    objects = [GridCategoryTally(refreshed_at=now, **row) for row in rows]
    GridCategoryTally.objects.bulk_create(
        objects, batch_size=BATCH, update_conflicts=True, unique_fields=["grid", "category"],
        update_fields=["path", *TALLY_COLUMNS, "refreshed_at"])
    return {(o.grid_id, o.category_id) for o in objects}


def _day_counts(incidents: QuerySet, since: datetime | None) -> dict[tuple[int, date], list]:
    """{(grid id, day): [path, reported, closed]} for incidents filed / closed since ``since``."""
    reported = incidents if since is None else incidents.filter(reported_at__gte=since)
    closed = incidents.filter(status=Status.CLOSED, closed_at__isnull=False)
    if since is not None:
        closed = closed.filter(closed_at__gte=since)
    counts: dict[tuple[int, date], list] = {}
    for row in (reported.order_by().annotate(day=TruncDate("reported_at")).values("grid_id", "day")
                .annotate(path=F("grid__path"), n=Count("pk"))):
        counts[(row["grid_id"], row["day"])] = [row["path"], row["n"], 0]
    for row in (closed.order_by().annotate(day=TruncDate("closed_at")).values("grid_id", "day")
                .annotate(path=F("grid__path"), n=Count("pk"))):
        counts.setdefault((row["grid_id"], row["day"]), [row["path"], 0, 0])[2] = row["n"]
    return counts


def _write_day_tallies(counts: dict[tuple[int, date], list], stale: QuerySet) -> None:
    objects = [GridDayTally(grid_id=grid_id, day=day, path=path, reported=reported, closed=closed)
               for (grid_id, day), (path, reported, closed) in counts.items()]
    GridDayTally.objects.bulk_create(objects, batch_size=BATCH, update_conflicts=True,
                                     unique_fields=["grid", "day"], update_fields=["path", "reported", "closed"])
    keep = set(counts)
    gone = [pk for pk, grid_id, day in stale.values_list("pk", "grid_id", "day") if (grid_id, day) not in keep]
    for start in range(0, len(gone), BATCH):
        GridDayTally.objects.filter(pk__in=gone[start:start + BATCH]).delete()


@dataclass
class RefreshResult:
    category_rows: int
    day_rows: int
    seconds: float


def refresh_tallies(*, now: datetime | None = None, full_days: bool = False) -> RefreshResult:
    """Rebuild the tallies from the incidents: safe to run at any time, twice, or concurrently.

    The grid × category table is rebuilt whole (one GROUP BY over the incidents);
    the day table for the trend window only, unless ``full_days`` (after seeding).
    """
    started = timezone.now()
    now = now or started
    with transaction.atomic():
        _hold_off_writers()
        keys = _upsert_category_tallies(Incident.objects.all(), now)
        GridCategoryTally.objects.exclude(refreshed_at=now).delete()
        since = None if full_days else day_start(timezone.localdate(now) - timedelta(days=TREND_DAYS + 1))
        counts = _day_counts(Incident.objects.all(), since)
        stale = GridDayTally.objects.all() if since is None else GridDayTally.objects.filter(day__gte=since.date())
        _write_day_tallies(counts, stale)
    latest = cache.get(OVERDUE_AS_OF_KEY)
    if latest is None or latest < now:  # the rebuild counted overdue as of ``now`` too
        cache.set(OVERDUE_AS_OF_KEY, now, timeout=None)
    return RefreshResult(len(keys), len(counts), (timezone.now() - started).total_seconds())


def _hold_off_writers() -> None:
    """Make the incident writers' tally updates wait until this rebuild commits.

    Writers add their difference to the rows in their own transaction
    (``dashboards.map.tallies``). Without this lock, a writer committing between the
    rebuild's count and its write would have its difference overwritten. With it,
    every incident is either in the count (it committed before the lock was granted)
    or adds its difference after the rebuild. SQLite's ``BEGIN IMMEDIATE`` already
    holds the database's one write lock.
    """
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (GridCategoryTally, GridDayTally))
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def refresh_overdue(*, now: datetime | None = None) -> int:
    """Bring ``overdue`` up to ``now`` (time alone makes incidents overdue): the every-minute job.

    One GROUP BY over the open incidents, then only the rows whose figure changed are written.
    Every other column is kept exact by the writers (``dashboards.map.tallies``) and repaired by
    ``refresh_tallies`` every night. Returns how many rows changed.
    """
    now = now or timezone.now()
    fresh = {(r["grid_id"], r["category_id"]): r["n"] for r in Incident.objects.filter(overdue_q(now)).order_by()
             .values("grid_id", "category_id").annotate(n=Count("pk"))}
    with transaction.atomic():
        current = {(g, c): (pk, n) for pk, g, c, n in GridCategoryTally.objects.filter(
            Q(overdue__gt=0) | Q(grid_id__in={g for g, _c in fresh})).values_list("pk", "grid_id", "category_id",
                                                                                  "overdue")}
        changed = [GridCategoryTally(pk=pk, overdue=fresh.get(key, 0), refreshed_at=now)
                   for key, (pk, n) in current.items() if fresh.get(key, 0) != n]
        GridCategoryTally.objects.bulk_update(changed, ["overdue", "refreshed_at"], batch_size=BATCH)
    # Touching every row's refreshed_at would rewrite 72,000 rows a minute; the instant goes to the cache.
    cache.set(OVERDUE_AS_OF_KEY, now, timeout=None)
    return len(changed)


def refresh_incident_keys(*, grid_id: int, category_id: int, days: list[date], now: datetime | None = None) -> None:
    """Recount the tally rows of one grid and category, and of its days, from the incidents.

    The fallback of ``dashboards.map.signals`` when a save's previous state is unknown.
    """
    now = now or timezone.now()
    with transaction.atomic():
        incidents = Incident.objects.filter(grid_id=grid_id, category_id=category_id)
        _upsert_category_tallies(incidents, now)
        GridCategoryTally.objects.filter(grid_id=grid_id, category_id=category_id).exclude(
            refreshed_at=now).delete()
        for day in set(days):
            start, end = day_start(day), day_start(day + timedelta(days=1))
            grid_incidents = Incident.objects.filter(grid_id=grid_id)
            counts = {key: value for key, value in _day_counts(
                grid_incidents.filter(Q(reported_at__gte=start, reported_at__lt=end)
                                      | Q(closed_at__gte=start, closed_at__lt=end)), start).items()
                if key[1] == day}
            _write_day_tallies(counts, GridDayTally.objects.filter(grid_id=grid_id, day=day))


# --- Reading the numbers -------------------------------------------------------------------------


class FilterError(ValueError):
    """The filters did not validate: ``errors`` per field (the API answers 400)."""

    def __init__(self, errors: dict):
        super().__init__("invalid filters")
        self.errors = errors


def filtered_incidents(user, params) -> tuple[QuerySet[Incident], IncidentFilter]:
    """The incident list the map, its numbers and its export summarise: scoped, then filtered."""
    filterset = IncidentFilter(params, queryset=incident_list(user), user=user)
    if not filterset.is_valid():
        raise FilterError({name: [str(e) for e in errors] for name, errors in filterset.errors.items()})
    return filterset.qs, filterset


def _active_filters(filterset: IncidentFilter) -> set[str]:
    return {name for name, value in filterset.form.cleaned_data.items() if value not in (None, "", [], False)}


def tallies_answer(user, filterset: IncidentFilter) -> bool:
    """Whether the tallies can give exactly what the live count would."""
    scope = get_scope(user)
    return not scope.units(Action.VIEW) and _active_filters(filterset) <= TALLY_FILTERS


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Figures:
    new_today: int
    open: int
    overdue: int
    total: int
    closed: int
    closure_rate: float | None  # closed / (all but voided and merged)
    on_time_rate: float | None  # closed on time / closed
    avg_handling_hours: float | None  # mean of closed_at - reported_at over the closed ones
    source: str  # "tallies" or "live"
    as_of: datetime
    trend: list[dict] = field(default_factory=list)  # [{day, reported, closed}] for the last 30 days
    by_category: list[dict] = field(default_factory=list)
    by_region: list[dict] = field(default_factory=list)


def _figures_from(row: dict, new_today: int, source: str, as_of: datetime) -> Figures:
    closed = int(row.get("closed") or 0)
    total = int(row.get("total") or 0)
    return Figures(
        new_today=int(new_today or 0), open=int(row.get("open") or 0), overdue=int(row.get("overdue") or 0),
        total=total, closed=closed, closure_rate=_rate(closed, total - int(row.get("dropped") or 0)),
        on_time_rate=_rate(int(row.get("closed_on_time") or 0), closed),
        avg_handling_hours=round(row["handling_seconds"] / closed / 3600, 2) if closed else None,
        source=source, as_of=as_of,
    )


def focus_region(user, filterset: IncidentFilter) -> Region | None:
    """The region the breakdown by sub-region splits: the chosen one, or the user's single scope root."""
    chosen = filterset.form.cleaned_data.get("region")
    if chosen is not None:
        return chosen
    roots = list(top_regions(user)[:2])
    return roots[0] if len(roots) == 1 else None


def _region_prefix_rows(rows: QuerySet, path_field: str, regions: list[Region], aggregates: dict) -> list[dict]:
    """Aggregates grouped by which of ``regions`` (all of one depth) holds each row's grid."""
    grouped: dict[str, dict] = {}
    for depth in sorted({r.depth for r in regions}):
        prefixes = [r.path for r in regions if r.depth == depth]
        narrowed = rows.filter(**{f"{path_field}__startswith": prefixes[0]}) if len(prefixes) == 1 else rows
        grouped.update({row["prefix"]: row for row in narrowed.order_by()
                        .annotate(prefix=Substr(path_field, 1, depth * Region.steplen))
                        .values("prefix").annotate(**aggregates)})
    return [{"region": region, **grouped.get(region.path, {})} for region in regions]


def sub_regions(user, focus: Region | None) -> list[Region]:
    if focus is None:
        return list(top_regions(user))
    if focus.level >= Level.GRID:
        return [focus]
    return list(Region.objects.restrict(user).filter(path__startswith=focus.path, depth=focus.depth + 1))


def compute_figures(user, params, *, now: datetime | None = None, breakdowns: bool = True,
                    force_live: bool = False) -> Figures:
    """Today's new incidents, open, overdue, closure rates, handling time; trend and breakdowns."""
    now = now or timezone.now()
    incidents, filterset = filtered_incidents(user, params)
    today = timezone.localdate(now)
    trend_start = today - timedelta(days=TREND_DAYS - 1)
    focus = focus_region(user, filterset)
    regions = sub_regions(user, focus) if breakdowns else []

    if tallies_answer(user, filterset) and not force_live:
        tallies = GridCategoryTally.objects.restrict(user, Action.VIEW)
        days = GridDayTally.objects.restrict(user, Action.VIEW)
        chosen = filterset.form.cleaned_data.get("region")
        if chosen is not None:
            tallies = tallies.filter(path__startswith=chosen.path)
            days = days.filter(path__startswith=chosen.path)
        new_today = days.filter(day=today).aggregate(n=Coalesce(Sum("reported"), 0))["n"]
        figures = _one_pass(tallies, "path", tally_aggregates(), regions, breakdowns, new_today=new_today,
                            source="tallies", as_of=_overdue_as_of(tallies, now))
        if breakdowns:
            per_day = {r["day"]: r for r in days.filter(day__gte=trend_start).order_by().values("day")
                       .annotate(reported=Sum("reported"), closed=Sum("closed"))}
            figures.trend = _trend(per_day, trend_start, today)
        return figures

    # Today is the local day (Asia/Shanghai) of ``now``, bounded on both sides like the day tally row and the
    # list's ``reported_after=today&reported_before=today``: an incident stamped after midnight is tomorrow's.
    aggregates = {"new_today": Count("pk", filter=Q(reported_at__gte=day_start(today),
                                                    reported_at__lt=day_start(today + timedelta(days=1)))),
                  **incident_aggregates(now)}
    figures = _one_pass(incidents, "grid__path", aggregates, regions, breakdowns, source="live", as_of=now)
    if breakdowns:
        figures.trend = _trend(_live_days(incidents, day_start(trend_start)), trend_start, today)
    return figures


def _live_days(incidents: QuerySet[Incident], since: datetime) -> dict[date, dict]:
    """Filed and closed per day since ``since``, in one pass: grouped by (day filed, day closed)."""
    closed_since = Q(status=Status.CLOSED, closed_at__gte=since)
    per_day: dict[date, dict] = {}
    for r in (incidents.filter(Q(reported_at__gte=since) | closed_since).order_by()
              .annotate(filed=Case(When(reported_at__gte=since, then=TruncDate("reported_at"))),
                        closed=Case(When(closed_since, then=TruncDate("closed_at"))))
              .values("filed", "closed").annotate(n=Count("pk"))):
        for column in ("filed", "closed"):
            if r[column] is not None:
                counts = per_day.setdefault(r[column], {"reported": 0, "closed": 0})
                counts["reported" if column == "filed" else "closed"] += r["n"]
    return per_day


def _overdue_as_of(tallies: QuerySet, now: datetime) -> datetime:
    """When ``overdue`` was last brought up to date: the minute job's instant, else the rows' own."""
    as_of = cache.get(OVERDUE_AS_OF_KEY)
    if as_of is None:
        as_of = tallies.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    return as_of or now


def _one_pass(rows: QuerySet, path_field: str, aggregates: dict, regions: list[Region], breakdowns: bool, *,
              source: str, as_of: datetime, new_today: int | None = None) -> Figures:
    """The figures and both breakdowns from one grouped pass over ``rows`` (incidents or tally rows).

    Grouped by category and by sub-region, then added up here (a few hundred groups), instead
    of one scan for the figures and one per breakdown. Grouped by the category's own id, not
    its major category: no join, and PostgreSQL hashes the groups instead of sorting a row
    per grid and category (30 ms against 85 ms for the city's 72,000 tally rows); the major
    category of each comes from the category tree every process keeps.
    """
    if not breakdowns:
        row = rows.order_by().aggregate(**aggregates)
        return _figures_from(row, row["new_today"] if new_today is None else new_today, source, as_of)
    depths = {r.depth for r in regions}
    prefix = {"prefix": Substr(path_field, 1, depths.pop() * Region.steplen)} if len(depths) == 1 else {}
    groups = list(rows.order_by().annotate(**prefix).values("category_id", *prefix).annotate(**aggregates))
    major_of = major_categories()
    for g in groups:
        g["major"] = major_of.get(g["category_id"], g["category_id"])
    row = _add_up(groups, [None])[None]
    figures = _figures_from(row, row.get("new_today") if new_today is None else new_today, source, as_of)
    figures.by_category = _categories([{"major": major_id, **r} for major_id, r in
                                       _add_up(groups, [g["major"] for g in groups], "major").items()])
    if prefix:
        per_prefix = _add_up(groups, [g["prefix"] for g in groups], "prefix")
        figures.by_region = _regions([{"region": region, **per_prefix.get(region.path, {})} for region in regions])
    else:  # sub-regions of several depths (a user holding regions at different levels)
        figures.by_region = _regions(_region_prefix_rows(rows, path_field, regions, aggregates))
    return figures


def _add_up(groups: list[dict], keys: list, key_name: str | None = None) -> dict:
    """Sums of the aggregate columns of grouped rows, per ``key_name`` (every row into ``keys[0]`` if None)."""
    out: dict = {key: {} for key in dict.fromkeys(keys)}
    for group in groups:
        target = out[group[key_name] if key_name else keys[0]]
        for name, value in group.items():
            if name not in ("major", "prefix", "category_id"):
                target[name] = target.get(name, 0) + (value or 0)
    return out


def _trend(per_day: dict, start: date, today: date) -> list[dict]:
    out = []
    day = start
    while day <= today:
        row = per_day.get(day) or {}
        out.append({"day": day.isoformat(), "reported": int(row.get("reported") or 0),
                    "closed": int(row.get("closed") or 0)})
        day += timedelta(days=1)
    return out


def _categories(rows) -> list[dict]:
    rows = list(rows)
    names = dict(Category.objects.filter(pk__in=[r["major"] for r in rows]).values_list("pk", "name"))
    out = [{"id": r["major"], "name": names.get(r["major"], "?"), "total": int(r["total"] or 0),
            "open": int(r["open"] or 0), "overdue": int(r["overdue"] or 0), "closed": int(r["closed"] or 0)}
           for r in rows]
    return sorted(out, key=lambda r: (-r["total"], r["name"]))


def region_measures(row: dict) -> dict:
    closed = int(row.get("closed") or 0)
    return {
        "total": int(row.get("total") or 0),
        "open": int(row.get("open") or 0),
        "overdue": int(row.get("overdue") or 0),
        "closed": closed,
        # the same rate as the territory's (``_figures_from``): closed / all but voided and merged
        "closure_rate": _rate(closed, int(row.get("total") or 0) - int(row.get("dropped") or 0)),
        "on_time_rate": _rate(int(row.get("closed_on_time") or 0), closed),
    }


def _regions(rows: list[dict]) -> list[dict]:
    return [{"id": r["region"].pk, "name": r["region"].name, "level": r["region"].level, **region_measures(r)}
            for r in rows]


def region_figures(user, params, regions: list[Region], *, now: datetime | None = None,
                   force_live: bool = False) -> tuple[dict[int, dict], str]:
    """Open, overdue, on-time rate… of each region (all of one level), counted by the database."""
    now = now or timezone.now()
    incidents, filterset = filtered_incidents(user, params)
    if tallies_answer(user, filterset) and not force_live:
        tallies = GridCategoryTally.objects.restrict(user, Action.VIEW)
        chosen = filterset.form.cleaned_data.get("region")
        if chosen is not None:
            tallies = tallies.filter(path__startswith=chosen.path)
        rows, source = _region_prefix_rows(tallies, "path", regions, tally_aggregates()), "tallies"
    else:
        rows, source = _region_prefix_rows(incidents, "grid__path", regions, incident_aggregates(now)), "live"
    return {r["region"].pk: region_measures(r) for r in rows}, source
