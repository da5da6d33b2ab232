"""Residents' quick reports in a burst, the rate limiter's cost, and Open311 reads, in one process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_intake REDIS_URL=redis://127.0.0.1:6379/8 \\
        python bench/intake_burst.py [--reports 300] [--incidents 2000]

Builds the database once (migrate, ``seed_demo --scale 0.1`` with ``--incidents`` demo incidents;
later runs find it), then measures with Django's test client (no HTTP server: the view, the
services, the database and the cache, not the network):

1. **rate limiter**: ``intake.ratelimit.hit`` alone, on the configured cache (Redis when REDIS_URL is set);
2. **quick reports**: ``--reports`` POSTs of the QR page with a photo, each from another client address,
   spread over the demo city's signs (the limits do not bite), reports per second and latency percentiles;
3. **a burst on one grid**: ``--reports`` POSTs at one grid from one address: how many are filed (the
   per-client limit) and how fast the refusals are;
4. **Open311 reads**: ``GET requests.json`` (the last 90 days, up to 1,000) and ``requests.xml`` with the
   demo hotline's key over the whole city.

Rows it files are deleted at the end, so every run starts from the same database.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/gov_intake"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def report(name, times, extra=""):
    print(f"{name:<38} n={len(times):>5}  {len(times) / sum(times):8.1f}/s  p50 {pct(times, .5):6.1f} ms  "
          f"p95 {pct(times, .95):6.1f} ms  max {max(times) * 1000:6.1f} ms {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--incidents", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    env = {**os.environ}
    db = os.environ["DATABASE_URL"]
    if db.startswith("postgres"):
        name = db.rsplit("/", 1)[1]
        subprocess.run(["psql", db.rsplit("/", 1)[0] + "/postgres", "-qc", f"CREATE DATABASE {name}"],
                       capture_output=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], check=True, env=env)
    seeded = subprocess.run([*manage, "seed_demo", "--scale", "0.1", "--incidents", str(args.incidents),
                             "--no-progress"], check=True, env=env, capture_output=True, text=True)
    print(seeded.stdout.splitlines()[0] if seeded.stdout else "")

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from PIL import Image

    from incidents.models import Category, Incident
    from intake import ratelimit, tokens
    from intake.demo import DEMO_API_KEY
    from intake.models import Sign, Submission

    settings.ALLOWED_HOSTS = ["*"]
    print(f"cache: {settings.CACHES['default']['BACKEND']}  database: {django.db.connection.vendor}")
    cache.clear()

    # 1. the limiter alone
    times = []
    for i in range(2000):
        t = time.perf_counter()
        ratelimit.hit(f"bench:{i % 50}", "1000000/3600")
        times.append(time.perf_counter() - t)
    report("rate limiter hit", times)

    out = io.BytesIO()
    Image.new("RGB", (1280, 960), (120, 140, 160)).save(out, "JPEG", quality=85)
    jpeg = out.getvalue()
    signs = list(Sign.objects.filter(revoked_at__isnull=True).select_related("grid")[:200])
    category = Category.objects.get(code="0601")
    client = Client()
    before = set(Submission.objects.values_list("pk", flat=True))
    settings.INTAKE_RATE_PER_CLIENT = "100000/3600"
    settings.INTAKE_RATE_PER_GRID = "100000/3600"

    # 2. quick reports from many clients over the city's signs
    times, codes = [], []
    for i in range(args.reports):
        sign = signs[i % len(signs)]
        url = f"/q/{tokens.sign_token(sign.pk, sign.nonce)}/"
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {"category": category.pk, "description": f"垃圾堆积 bench {i}",
                "photo": SimpleUploadedFile("p.jpg", jpeg, content_type="image/jpeg")}
        t = time.perf_counter()
        response = client.post(url, data, REMOTE_ADDR=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}")
        times.append(time.perf_counter() - t)
        codes.append(response.status_code)
    report("quick report with a photo", times, f"answers {sorted(set(codes))}")

    # 3. a burst at one grid from one client, with the default limits
    settings.INTAKE_RATE_PER_CLIENT = "5/3600"
    settings.INTAKE_RATE_PER_GRID = "60/3600"
    cache.clear()
    sign = signs[0]
    url = f"/q/{tokens.sign_token(sign.pk, sign.nonce)}/"
    times, codes = [], []
    for i in range(args.reports):
        t = time.perf_counter()
        response = client.post(url, {"category": category.pk, "description": f"burst {i}"}, REMOTE_ADDR="10.9.9.9")
        times.append(time.perf_counter() - t)
        codes.append(response.status_code)
    filed = codes.count(302)
    report("burst, one client one grid", times, f"filed {filed}, refused {codes.count(429)}")
    refused = [t for t, c in zip(times, codes, strict=True) if c == 429]
    if refused:
        report("  of which refusals (429)", refused)

    # 4. Open311 reads over the city
    for fmt in ("json", "xml"):
        times, sizes = [], []
        for _ in range(20):
            t = time.perf_counter()
            response = client.get(f"/open311/v2/requests.{fmt}", {"api_key": DEMO_API_KEY})
            times.append(time.perf_counter() - t)
            sizes.append(len(response.content))
        report(f"open311 GET requests.{fmt}", times, f"{sizes[-1] / 1024:.0f} KiB, status {response.status_code}")

    # clean up what the bench filed


    new = Submission.objects.exclude(pk__in=before)
    incident_ids = list(new.values_list("incident_id", flat=True))
    new.delete()
    Incident.objects.filter(pk__in=incident_ids).delete()
    print(f"cleaned up {len(incident_ids)} bench incidents")


if __name__ == "__main__":
    main()
