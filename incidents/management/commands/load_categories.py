import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidents.models import Category

DEFAULT_FILE = Path(settings.BASE_DIR) / "fixtures" / "incident_categories.json"


class Command(BaseCommand):
    help = "Load the incident categories from fixtures/incident_categories.json. Existing codes are left as edited."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))

    def handle(self, *args, file, **options):
        try:
            rows = json.loads(Path(file).read_text(encoding="utf-8"))["categories"]
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Cannot read categories from {file}: {exc}") from exc
        created = load_categories(rows)
        self.stdout.write(f"{created} categories created, {len(rows) - created} already present.")


@transaction.atomic
def load_categories(rows: list[dict]) -> int:
    """Create the categories that are missing; an administrator's edits to existing ones stay."""
    created = 0
    by_code = {c.code: c for c in Category.objects.all()}
    for row in sorted(rows, key=lambda r: r["parent"] is not None):
        if row["code"] in by_code:
            continue
        fields = {k: v for k, v in row.items() if k not in {"code", "parent"}}
        by_code[row["code"]] = Category.objects.create(
            code=row["code"], parent=by_code[row["parent"]] if row["parent"] else None, **fields)
        created += 1
    return created
