"""``manage.py seed_demo``: a believable city to click through, the same every time.

The steps live in each app's ``demo`` module (see ``governance.demo``); this
command parses the sizes, guards production, runs the steps in one
transaction and prints what there is and who may log in.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from tqdm import tqdm

from governance.access.demo import GRID_WORKER_PREFIX
from governance.access.models import Unit
from governance.core.demo import DEFAULT_SEED, DEMO_PASSWORD, DemoContext, DemoLogin, demo_options, demo_steps
from grids.demo import DEMO_CITY_CODE, TerritorySize
from grids.models import Level, Region

LEVEL_PLURALS = {Level.CITY: "city", Level.DISTRICT: "districts", Level.STREET: "streets",
                 Level.COMMUNITY: "communities", Level.GRID: "grids"}


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def logins_table(logins: list[DemoLogin]) -> str:
    """The demo logins as a Markdown table (readable on a terminal, pasted into docs/demo.md)."""
    lines = ["| username | name | role | where |", "|---|---|---|---|"]
    lines += [f"| `{lg.username}` | {lg.full_name} | {lg.role_label} | {lg.where} |" for lg in logins]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Seed a demo city: territory (nested Voronoi tiling around Shantou), units, and a demo login for every "
        "role. Deterministic for a given --seed; running it again adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        default = TerritorySize()
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help="same seed, same city: regions, codes, names and polygons (default %(default)s)")
        parser.add_argument("--districts", type=positive_int, default=default.districts)
        parser.add_argument("--streets-per-district", type=positive_int, default=default.streets_per_district)
        parser.add_argument("--communities-per-street", type=positive_int, default=default.communities_per_street)
        parser.add_argument("--grids-per-community", type=positive_int, default=default.grids_per_community)
        parser.add_argument("--scale", type=positive_float, default=1,
                            help="make the city this many times larger, growing every level evenly "
                                 "(--scale 10: about 12,000 grids)")
        parser.add_argument("--workers-per-grid", type=int, default=1,
                            help="grid workers per grid, users gw_<grid code>[_<n>] (default %(default)s)")
        parser.add_argument("--no-grid-workers", action="store_true", help="same as --workers-per-grid 0")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars (also off when not a tty)")
        parser.add_argument("--allow-production", action="store_true",
                            help="seed even though DJANGO_ENV is production")
        # options that later steps asked for (governance.demo.demo_option)
        for option in demo_options():
            parser.add_argument(*option.flags, **option.kwargs)

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError("Refusing to seed demo data into a production deployment; "
                               "pass --allow-production if this really is a demo server.")
        try:
            size = TerritorySize(
                districts=options["districts"],
                streets_per_district=options["streets_per_district"],
                communities_per_street=options["communities_per_street"],
                grids_per_community=options["grids_per_community"],
            ).scaled(options["scale"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        show_progress = not options["no_progress"] and self.stderr.isatty()

        def progress(**kwargs) -> tqdm:
            return tqdm(disable=not show_progress, leave=False, dynamic_ncols=True, **kwargs)

        ctx = DemoContext(
            seed=options["seed"],
            size=size,
            city_code=DEMO_CITY_CODE,
            city_name=settings.CITY_NAME,
            workers_per_grid=0 if options["no_grid_workers"] else max(0, options["workers_per_grid"]),
            progress=progress,
            log=self.stdout.write,
            data={option.kwargs["dest"]: options.get(option.kwargs["dest"]) for option in demo_options()},
        )
        self.stdout.write(f"Seeding the demo city (seed {ctx.seed}): {size.districts} districts × "
                          f"{size.streets_per_district} streets × {size.communities_per_street} communities × "
                          f"{size.grids_per_community} grids.")
        started = time.monotonic()
        # One transaction: an interrupted run leaves nothing behind, and the next run starts clean.
        timings = []
        with transaction.atomic():
            for step in demo_steps():
                step_started = time.monotonic()
                step.run(ctx)
                timings.append(f"{step.name} {time.monotonic() - step_started:.1f} s")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f} s ({', '.join(timings)})."))
        self._summary(ctx)

    def _summary(self, ctx: DemoContext) -> None:
        city = ctx.city
        # order_by() drops the manager's ordering by path, which would split the groups
        per_level = dict(Region.objects.filter(path__startswith=city.path).order_by().values_list("level")
                         .annotate(n=Count("id")).values_list("level", "n"))
        User = get_user_model()
        workers = User.objects.filter(username__startswith=GRID_WORKER_PREFIX).count()
        self.stdout.write("")
        self.stdout.write(f"{city.name} ({city.code}):")
        for level in Level:
            self.stdout.write(f"  {LEVEL_PLURALS[level]:<12} {per_level.get(level, 0):>7,}")
        units = Unit.objects.filter(home_region__path__startswith=city.path)
        self.stdout.write(f"  {'units':<12} {units.count():>7,}  "
                          + ", ".join(f"{row['kind']} {row['n']}" for row in
                                      units.order_by("kind").values("kind").annotate(n=Count("id"))))
        users = User.objects.count()
        others = users - len(ctx.logins) - workers
        self.stdout.write(f"  {'users':<12} {users:>7,}  ({len(ctx.logins)} demo logins, {workers:,} grid workers "
                          f"{GRID_WORKER_PREFIX}<grid code>" + (f", {others:,} others" if others else "") + ")")
        self.stdout.write("")
        self.stdout.write(f"Demo logins, all with the password {DEMO_PASSWORD}:")
        self.stdout.write("")
        self.stdout.write(logins_table(ctx.logins))
