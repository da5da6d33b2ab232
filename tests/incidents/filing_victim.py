"""A process that files an incident with photos and stops in the middle, waiting to be killed.

Run by tests/incidents/test_killed_filing.py as ``python -m tests.incidents.filing_victim``
with the test's ``DATABASE_URL`` and ``MEDIA_ROOT``. It files through the real service;
after the ``--stop-after``-th attachment row is inserted (its file written, its
transaction open) it prints ``STOPPED`` and sleeps until the test kills it.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reporter", type=int, required=True)
    parser.add_argument("--category", type=int, required=True)
    parser.add_argument("--lat", type=float, required=True)
    parser.add_argument("--lng", type=float, required=True)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--stop-after", type=int, default=2, help="attachment rows inserted before stopping")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from PIL import Image

    from incidents.models import Category
    from incidents.services import incident_file

    def photo(n: int) -> SimpleUploadedFile:
        out = io.BytesIO()
        Image.new("RGB", (640, 480), (40 * n % 255, 90, 160)).save(out, "JPEG")
        return SimpleUploadedFile(f"photo{n}.jpg", out.getvalue(), content_type="image/jpeg")

    inserted = []

    def stop_in_the_middle(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("INSERT") and "incidents_attachment" in sql:
            inserted.append(1)
            if len(inserted) == args.stop_after:
                print("STOPPED", flush=True)
                while True:
                    time.sleep(60)
        return result

    reporter = get_user_model().objects.get(pk=args.reporter)
    category = Category.objects.get(pk=args.category)
    with connection.execute_wrapper(stop_in_the_middle):
        incident_file(reporter=reporter, category=category, title="路面塌陷", lat=args.lat, lng=args.lng,
                      photos=[photo(n) for n in range(args.photos)], idempotency_key="killed-filing")
    print("FILED", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
