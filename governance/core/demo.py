"""The registry of the demo city's seeding steps, which ``manage.py seed_demo`` runs.

A step is a function ``step(ctx)`` registered with ``@demo_step(order=...)``
in an app's ``demo`` module (a step that needs a command-line option asks for
it with ``demo_option``); the command imports every installed app's ``demo``
module and runs the steps by order, all in one transaction:

    100 territory      grids/demo.py                 the city, districts, streets, communities, grids
    200 units          governance/access/demo.py     departments, responsible units, courts, mediation bodies
    300 demo_users     governance/access/demo.py     one login per role and level, through role_assign
    400 grid_workers   governance/access/demo.py     a worker (or more) on every grid, in bulk
    500 incidents      incidents/demo.py
    800 alerts         governance/alerts/demo.py     one sweep, so overdue incidents show alerts at once

Later apps add theirs (mediation cases at 600, ledgers at 700). Every step must be
safe to run again on a seeded database: look up what is there by its natural key
(a code, a username) and add only what is missing. The registry is the kernel's and
knows no app: each app's steps come to it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import make_password
from django.utils.module_loading import autodiscover_modules

if TYPE_CHECKING:
    from governance.access.models import Unit
    from grids.demo import TerritorySize
    from grids.models import Region

# Every demo login shares it; printed by the command and written in docs/demo.md.
DEMO_PASSWORD = "demo12345"
DEFAULT_SEED = 2025
CHANGE_REASON = "seed_demo"
BATCH_SIZE = 1000


# --- The registry --------------------------------------------------------------------------------


@dataclass
class DemoContext:
    """What the steps share: the request (seed, sizes) and what earlier steps made."""

    seed: int
    size: TerritorySize
    city_code: str
    city_name: str
    workers_per_grid: int = 1
    # progress(total=, desc=, unit=) -> an object with update(n) and close(), such as tqdm
    progress: Callable[..., Any] = field(default=lambda **kwargs: _NoProgress())
    log: Callable[[str], None] = print
    city: Region | None = None
    units: dict[str, Unit] = field(default_factory=dict)  # by code
    logins: list[DemoLogin] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # anything a later step wants to hand on

    def rng(self, stream: str) -> random.Random:
        """A random stream of its own per purpose, so a new step never shifts what the others make."""
        return random.Random(f"{self.seed}/{stream}")

    @cached_property
    def password_hash(self) -> str:
        # Hashed once: the hasher is slow on purpose, and thousands of users share the password.
        return make_password(DEMO_PASSWORD)


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class DemoStep:
    order: int
    name: str
    run: Callable[[DemoContext], None]


DEMO_STEPS: dict[str, DemoStep] = {}


def demo_step(*, order: int, name: str | None = None) -> Callable[[Callable[[DemoContext], None]], Callable]:
    """Register ``step(ctx)`` to run at ``order`` (lower first) in ``seed_demo``."""

    def register(func: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        step = DemoStep(order, name or func.__name__, func)
        DEMO_STEPS[step.name] = step
        return func

    return register


def demo_steps() -> list[DemoStep]:
    """Every registered step, in order, after importing each installed app's ``demo`` module."""
    autodiscover_modules("demo")
    return sorted(DEMO_STEPS.values(), key=lambda s: (s.order, s.name))


@dataclass(frozen=True)
class DemoOption:
    flags: tuple[str, ...]
    kwargs: dict[str, Any]


DEMO_OPTIONS: dict[str, DemoOption] = {}  # by dest


def demo_option(*flags: str, **kwargs: Any) -> None:
    """Give ``seed_demo`` a command-line option for a step; its value lands in ``ctx.data[dest]``.

    The arguments are ``argparse``'s: ``demo_option("--incidents", type=int, help="...")``
    makes ``seed_demo --incidents 500`` set ``ctx.data["incidents"] = 500``.
    Left off the command line it is ``None`` (or ``default=``), and the step
    picks its own default.
    """
    dest = kwargs.pop("dest", None) or flags[0].lstrip("-").replace("-", "_")
    DEMO_OPTIONS[dest] = DemoOption(flags, {**kwargs, "dest": dest})


def demo_options() -> list[DemoOption]:
    """Every option the steps asked for, after importing each installed app's ``demo`` module."""
    autodiscover_modules("demo")
    return list(DEMO_OPTIONS.values())


@dataclass(frozen=True)
class DemoLogin:
    """A demo login the command prints: who, with which role (its label, in the interface's language), where."""

    username: str
    full_name: str
    role: str
    role_label: str
    where: str
