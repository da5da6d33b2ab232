"""The ledger's progress report as files, at the issue's scale, beside the bare writer (issue 16).

    python bench/ledger_export.py                 # 200 requirements x 80 units, 24 monthly periods
    python bench/ledger_export.py --repeat 5

No database: the report (the dashboard's figures, ``governance.ledgers.selectors.Report``) is built in
memory as ``programme_report`` would build it, then written by the export's own code
(``governance.ledgers.reports``), which is what the export job runs after its queries.

What it measures, in one run:

1. **xlsx, the export**: the four sheets (tasks, units ranked, lagging, the progress report of 16,000 rows
   with 24 period columns) through ``reports.write_xlsx`` (openpyxl write-only, formatted headers, frozen
   panes, fitted widths, cells cleaned against formula injection), best of ``--repeat``;
2. **xlsx, the bare writer**: openpyxl write-only writing the same cells (the same row lists, no styles,
   no cleaning), in the same run, best of ``--repeat``; the ratio of 1 to 2 (the target: at most 1.5);
3. **memory**: the writer's peak (tracemalloc) at 4,000, 8,000 and 16,000 rows, beside the bare writer's:
   the rows are streamed to the file; what still grows is openpyxl's shared-strings table (every distinct
   text of the file, which the xlsx format keeps until the end), the same for both;
4. **PDF**: the key-task summary of 60 key tasks x 80 units (``reports.write_pdf``: key tasks, units
   ranked, key task x unit, lagging list), with the embedded CJK font; the target: under 10 s.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


@dataclass
class FakeProgramme:
    title: str
    starts_on: date
    ends_on: date
    pk: int = 1


def build_report(requirements: int, units: int, months: int, key_tasks: int = 60):
    from governance.ledgers import periods, progress
    from governance.ledgers.selectors import Report

    today = date(2026, 12, 2)
    starts = date(today.year - (months // 12), today.month, 1)
    while len(periods.periods_between("monthly", starts, today)) > months:
        starts = date(starts.year + (starts.month == 12), starts.month % 12 + 1, 1)
    programme = FakeProgramme("示范市市域社会治理现代化试点工作方案", starts, date(2028, 12, 31))
    nodes, pk = [], 0
    per_key = [requirements // key_tasks + (1 if k < requirements % key_tasks else 0) for k in range(key_tasks)]
    requirement_nodes = []
    for k in range(key_tasks):
        pk += 1
        key = progress.Node(pk, None, str(k + 1), f"推进市域社会治理重点任务第{k + 1}项", 1, Decimal(1 + k % 3), None,
                            "monthly", "示范市司法局", "陈志强")
        nodes.append(key)
        for r in range(per_key[k]):
            pk += 1
            node = progress.Node(pk, key.id, f"{k + 1}.{r + 1}", f"制定实施方案并建立工作台账（要求{r + 1}）", 2,
                                 Decimal(1), date(2027, 6, 30) if r % 5 else date(2026, 6, 30), "monthly",
                                 "示范市司法局")
            nodes.append(node)
            requirement_nodes.append(node)
    unit_names = [f"示范市第{u + 1}责任单位（城市管理和综合执法局）" for u in range(units)]
    keys = [p.key for p in periods.periods_between("monthly", starts, today)]
    states, matrix, rid = [], {}, 0
    for n, node in enumerate(requirement_nodes):
        for u in range(units):
            rid += 1
            skips = (n * 31 + u * 7) % 20 == 0  # one responsibility in twenty misses periods: lagging
            filed = {key: min(100, 4 * (i + 1) + (n + u) % 7) for i, key in enumerate(keys)
                     if not skips or (i + n + u) % 5}
            matrix[rid] = filed
            filings = [progress.CountedFiling(rid, key, "in_progress", pct) for key, pct in filed.items()]
            states.append(progress.pair_state(responsibility_id=rid, task_id=node.id, unit_id=u + 1,
                                              unit_name=unit_names[u], node=node, filings=filings,
                                              starts_on=starts, ends_on=programme.ends_on, today=today))
    figures = progress.roll_up(nodes, states)
    return Report(programme=programme, today=today, nodes=nodes, figures=figures, states=states,
                  units=progress.unit_figures(nodes, states), overall=progress.programme_progress(nodes, figures),
                  scope_label="示范市", matrix=matrix)


def sheets_of(report):
    from governance.ledgers import reports

    return [reports.task_sheet(report), reports.unit_sheet(report), reports.lagging_sheet(report),
            reports.matrix_sheet(report)]


def write_export(report) -> int:
    from governance.ledgers import reports

    out = io.BytesIO()
    reports.write_xlsx(out, sheets_of(report))
    return out.tell()


def bare_rows(report):
    """The same cells as lists, made before the clock starts: what the bare writer writes."""
    return [(sheet.title, [list(sheet.header)] + [list(row) for row in sheet.rows]) for sheet in sheets_of(report)]


def write_bare(rows) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, sheet_rows in rows:
        sheet = workbook.create_sheet(title[:31])
        for row in sheet_rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.tell()


def best_of(repeat: int, func, *args) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = func(*args)
        times.append(time.perf_counter() - started)
    return min(times), size


def writer_peak(report) -> float:
    tracemalloc.start()
    write_export(report)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def bare_peak(report) -> float:
    rows = bare_rows(report)
    tracemalloc.start()
    write_bare(rows)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", type=int, default=200)
    parser.add_argument("--units", type=int, default=80)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--pdf-only", action="store_true", help="only the PDF")
    args = parser.parse_args()

    import django

    django.setup()
    from django.utils import translation

    from governance.ledgers import reports

    translation.activate("zh-hans")
    started = time.perf_counter()
    report = build_report(args.requirements, args.units, args.months)
    print(f"report: {len(report.states):,} rows x {args.months} periods, {len(report.units)} units, "
          f"{len(report.lagging):,} lagging; built in {time.perf_counter() - started:.2f} s")

    if args.pdf_only:
        return pdf(args, reports)
    export_s, export_size = best_of(args.repeat, write_export, report)
    rows = bare_rows(report)
    bare_s, bare_size = best_of(args.repeat, write_bare, rows)
    print(f"xlsx export : {export_s:6.2f} s  {export_size / 1e6:5.1f} MB  (4 sheets, formatted)")
    print(f"xlsx bare   : {bare_s:6.2f} s  {bare_size / 1e6:5.1f} MB  (openpyxl write-only, same cells)")
    print(f"ratio       : {export_s / bare_s:6.2f}  (target <= 1.5)")

    for requirements in (50, 100, 200):
        small = build_report(requirements, args.units, args.months)
        print(f"writer peak at {len(small.states):>6,} rows: {writer_peak(small):6.1f} MB  "
              f"(bare writer, rows already in memory: {bare_peak(small):6.1f} MB)")

    pdf(args, reports)


def pdf(args, reports) -> None:
    key_report = build_report(args.requirements, args.units, args.months, key_tasks=60)
    started = time.perf_counter()
    out = io.BytesIO()
    reports.write_pdf(out, key_report)
    pdf_s = time.perf_counter() - started
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(out.getvalue())).pages)
    print(f"pdf         : {pdf_s:6.2f} s  {out.tell() / 1e6:5.1f} MB  {pages} pages, font {reports.cjk_font()} "
          f"(60 key tasks x {args.units} units; target < 10 s)")


if __name__ == "__main__":
    main()
