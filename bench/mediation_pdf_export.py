"""Peak memory of the dispute list's PDF export (``mediation.exports.CaseListExport.write``), at 2,000 and 8,000
cases (issue 15: exports at 200,000 cases).

    python bench/mediation_pdf_export.py                   # 2,000 and 8,000 cases
    python bench/mediation_pdf_export.py --cases 2000 4000 8000

Builds a throwaway SQLite database under /tmp (migrate, the test city of ``tests.factories``, the cases
bulk-created for one committee), then writes the PDF of all cases (the export's default columns) through the
export's own ``write``, as a superuser, with the job's progress counted in memory. It prints, per size, the
peak of Python's allocations during the write (tracemalloc), the time and the file's size. Not a test: the
figures go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class CountingProgress:
    """The job's progress, without the job's row."""

    def __init__(self):
        self.total, self.done = None, 0

    def start(self, total):
        self.total = total

    def advance(self, rows=1):
        self.done += rows

    def track(self, items):
        for item in items:
            yield item
            self.advance()


def load(n: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from governance.access.models import Unit, UnitKind
    from mediation.models import Case, DisputeType, Status

    Case.objects.all().delete()
    organisation = Unit.objects.get(kind=UnitKind.MEDIATION_ORG, code="BENCH-MED")
    types = list(DisputeType.objects.all()[:8])
    region = organisation.home_region
    now = timezone.now()
    batch = []
    for i in range(n):
        at = now - timedelta(minutes=17 * i)
        batch.append(Case(number=f"TJ2026-{i + 1:06d}", title=f"楼上漏水纠纷 第{i + 1}号，双方就赔偿金额未能达成一致",
                          dispute_type=types[i % len(types)], region=region, district=region, organisation=organisation,
                          status=Status.CLOSED if i % 5 else Status.IN_MEDIATION, registered_at=at,
                          risk_changed_at=at, clock_started_at=at, deadline_days=30, due_at=at + timedelta(days=30),
                          warn_at=at + timedelta(days=24), last_activity_at=at))
    Case.objects.bulk_create(batch, batch_size=1000)


def measure(n: int) -> tuple[int, float, int]:
    from django.contrib.auth import get_user_model
    from django.http import QueryDict

    from governance.exports.kinds import ExportRun
    from mediation.exports import CaseListExport

    kind = CaseListExport()
    user = get_user_model().objects.get(username="bench_admin")
    out = io.BytesIO()
    run = ExportRun(job_id=0, user=user, params=QueryDict(""), options={"columns": []}, fmt="pdf",
                    out=out, progress=CountingProgress())
    tracemalloc.start()
    started = time.perf_counter()
    kind.write(run)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert run.progress.done == n, (run.progress.done, n)
    return peak, elapsed, len(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--warm", type=int, default=200, help="cases of the first, unmeasured run (font, imports)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench_medpdf_"))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)

    import django

    django.setup()
    from governance.access.models import Unit, UnitKind
    from tests.factories import build_city

    city = build_city()
    Unit.objects.create(code="BENCH-MED", name="南街道人民调解委员会（基准）", kind=UnitKind.MEDIATION_ORG,
                        home_region=city.s11)
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench_admin", password="x")
    load(args.warm)
    measure(args.warm)  # warm: the font file read and registered, the imports done
    print(f"{'cases':>7} {'peak (tracemalloc)':>20} {'time':>8} {'file':>10}")
    for n in sorted(args.cases):
        load(n)
        peak, elapsed, size = measure(n)
        print(f"{n:>7} {peak / 2**20:>17.1f} MB {elapsed:>6.1f} s {size / 2**20:>7.2f} MB")


if __name__ == "__main__":
    main()
