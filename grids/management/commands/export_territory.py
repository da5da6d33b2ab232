"""``manage.py export_territory [--root CODE] [--output FILE]``: the region tree as GeoJSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids.models import Region
from grids.services import export_territory


class Command(BaseCommand):
    help = (
        "Export the territory (or the subtree under --root) as a GeoJSON FeatureCollection that "
        "import_territory reads back. Writes to standard output unless --output is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--root", metavar="CODE", help="code of the region to export with its subtree")
        parser.add_argument("--output", "-o", metavar="FILE", help="file to write (UTF-8); standard output if absent")

    def handle(self, *args, root: str | None, output: str | None, **options) -> None:
        root_region = None
        if root:
            root_region = Region.objects.filter(code=root).first()
            if root_region is None:
                raise CommandError(f"No region has the code {root}.")
        collection = export_territory(root_region)
        text = feature_collection_text(collection)
        if not output:
            self._write_stdout(text)
            return
        _write_atomically(Path(output), text)
        self.stderr.write(f"Exported {len(collection['features'])} regions to {output}.")

    def _write_stdout(self, text: str) -> None:
        """UTF-8 whatever the terminal's locale, so a redirect gives the same bytes as --output."""
        stream = getattr(self.stdout, "_out", None)
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text stream without bytes underneath (call_command with a StringIO)
            self.stdout.write(text, ending="")
            return
        stream.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()


def feature_collection_text(collection: dict) -> str:
    """JSON with one feature per line: diffs of two exports show the regions that changed."""
    lines = [json.dumps(feature, ensure_ascii=False, separators=(",", ":")) for feature in collection["features"]]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def _write_atomically(path: Path, text: str) -> None:
    """Write next to the target and rename, so a failed export never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
