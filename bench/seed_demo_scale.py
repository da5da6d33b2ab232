"""How long ``manage.py seed_demo`` takes into a fresh database, at the default size and at ``--scale 10``.

    python bench/seed_demo_scale.py                      # SQLite in a temporary folder
    python bench/seed_demo_scale.py --postgres postgres://postgres@127.0.0.1:5432/bench_seed

Each run gets a fresh database (a new SQLite file, or the PostgreSQL
database dropped and created again), is migrated, then seeded in a
subprocess; the figure is the wall time of ``seed_demo`` alone (Python and
Django start-up included). A second ``seed_demo`` on the seeded database
measures the idempotent re-run. ``--repeat 3`` prints the best of three.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def manage(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Wall time of a management command, and the per-step times it printed (``Done in … (territory 1.2 s, …)``)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    steps = re.search(r"^Done in .*?\((.*)\)\.$", done.stdout, re.MULTILINE)
    return seconds, steps.group(1) if steps else ""


def fresh_postgres(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def run(label: str, scale: int, postgres: str | None, repeat: int) -> None:
    """The best of ``repeat`` runs, each into a fresh database: other work on the machine only adds time."""
    results = [run_once(scale, postgres) for _ in range(repeat)]
    first, again, size, steps = min(results)
    print(f"{label:<10} scale {scale:>2}: seed_demo {first:6.1f} s, re-run {again:5.1f} s{size}"
          + (f" (best of {repeat}: {', '.join(f'{r[0]:.1f}' for r in results)})" if repeat > 1 else ""), flush=True)
    print(f"{'':<20}steps: {steps}", flush=True)


def run_once(scale: int, postgres: str | None) -> tuple[float, float, str, str]:
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as var_dir:
        env = {**os.environ, "VAR_DIR": var_dir, "DJANGO_ENV": "development"}
        env.pop("DATABASE_URL", None)
        if postgres:
            fresh_postgres(postgres)
            env["DATABASE_URL"] = postgres
        manage(env, "migrate", "-v0")
        first, steps = manage(env, "seed_demo", "--no-progress", "--scale", str(scale))
        again, _steps = manage(env, "seed_demo", "--no-progress", "--scale", str(scale))
        size = ""
        if not postgres:
            size = f", database {Path(var_dir, 'db.sqlite3').stat().st_size / 1e6:.0f} MB"
        return first, again, size, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="DATABASE_URL", help="also measure on this PostgreSQL database "
                        "(dropped and created again for each run)")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is printed")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; wall time of `manage.py seed_demo` in a subprocess (Python start-up included)")
    for scale in args.scales:
        run("SQLite", scale, None, args.repeat)
    if args.postgres:
        for scale in args.scales:
            run("PostgreSQL", scale, args.postgres, args.repeat)


if __name__ == "__main__":
    main()
