"""``manage.py import_territory FILE [--dry-run]``: a GeoJSON FeatureCollection into the region tree."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids.services import TerritoryImportError, import_territory


def read_collection(path: str) -> object:
    """The parsed JSON of ``path`` ("-" for standard input), or a CommandError that says what is wrong."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            # utf-8-sig: files saved by Windows tools often start with a byte-order mark
            text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}).") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc


class Command(BaseCommand):
    help = (
        "Import or update the territory from a GeoJSON FeatureCollection. Each feature has properties code, name, "
        "level (city, district, street, community, grid) and parent_code. All or nothing: any problem imports "
        "nothing, and every problem is listed with its feature and reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON file (UTF-8), or - for standard input")
        parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        collection = read_collection(file)
        try:
            result = import_territory(collection, dry_run=dry_run)
        except TerritoryImportError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            count = len(exc.problems)
            raise CommandError(
                f"Nothing was imported from {file}: {count} problem{'s' if count != 1 else ''} (listed above)."
            ) from exc
        summary = f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        if dry_run:
            self.stdout.write(f"Dry run, nothing written. {file} would import: {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {file}: {summary}."))
