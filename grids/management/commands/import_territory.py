"""``manage.py import_territory FILE [--dry-run] [--accept-gaps]``: a GeoJSON FeatureCollection into the region tree."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids.services import TerritoryImportError, import_territory


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


def _read_bytes(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path`` ("-" for standard input), or a CommandError."""
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode("utf-8")
        else:
            with Path(path).open("rb") as f:
                data = f.read(limit + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if len(data) > limit:
        raise CommandError(f"{path} is larger than {_mib(limit)}, the limit of a territory file "
                           "(TERRITORY_FILE_MAX_BYTES); split it, e.g. one file per district.")
    return data


def read_collection(path: str) -> object:
    """The parsed JSON of ``path`` ("-" for standard input), or a CommandError that says what is wrong."""
    data = _read_bytes(path, settings.TERRITORY_FILE_MAX_BYTES)
    try:
        # utf-8-sig: files saved by Windows tools often start with a byte-order mark
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}).") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return (
            "Import or update the territory from a GeoJSON FeatureCollection. Each feature has properties code, "
            "name, level (city, district, street, community, grid) and parent_code. All or nothing: any problem "
            "imports nothing, and every problem is listed with its feature and reason. Every region the file "
            "touches must be covered by its children; a gap is refused with its area and a point in it, unless "
            f"--accept-gaps. Files larger than {_mib(settings.TERRITORY_FILE_MAX_BYTES)} are refused "
            "(TERRITORY_FILE_MAX_BYTES)."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON file (UTF-8), or - for standard input")
        parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
        parser.add_argument(
            "--accept-gaps", action="store_true",
            help="import even where a region is left partly covered by none of its children; each gap is listed "
                 "and recorded in the region's history (a point in a gap is located to the deepest region that "
                 "holds it, and a report filed there goes to that region's nearest grid)")

    def handle(self, *args, file: str, dry_run: bool, accept_gaps: bool, **options) -> None:
        collection = read_collection(file)
        try:
            result = import_territory(collection, dry_run=dry_run, accept_gaps=accept_gaps)
        except TerritoryImportError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            count = len(exc.problems)
            raise CommandError(
                f"Nothing was imported from {file}: {count} problem{'s' if count != 1 else ''} (listed above)."
            ) from exc
        for accepted in result.gaps:
            verb = "would be accepted" if dry_run else "accepted and recorded"
            self.stdout.write(self.style.WARNING(f"Gap {verb}: {accepted.describe()}"))
        summary = f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        if dry_run:
            self.stdout.write(f"Dry run, nothing written. {file} would import: {summary}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {file}: {summary}."))
