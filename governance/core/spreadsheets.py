"""Cells written into exports (xlsx and CSV) safely and typed, whatever was stored.

* Formula injection (OWASP "CSV injection"): text that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is a formula to a spreadsheet program. In xlsx such
  text is written as a typed text cell (Excel shows it, never evaluates it); in CSV it is
  prefixed with an apostrophe, as OWASP recommends.
* Characters a spreadsheet cannot hold (control characters, which openpyxl refuses with
  ``IllegalCharacterError``) and bidi overrides are dropped on the way out, so a row
  stored before the input was cleaned (``governance.core.text``) never makes an export fail.
* Dates and times are real date cells in xlsx, in the portal's time zone (``TIME_ZONE``,
  Asia/Shanghai) whatever the process's zone, formatted ``yyyy-mm-dd hh:mm`` like the lists;
  CSV writes the same text. Seconds and their fractions are dropped: a working-day deadline
  is stored as 23:59:59.999999 of its due day, which a spreadsheet rounds to 00:00 of the next
  day at millisecond precision (docs/workcalendar.md: the date must be the due day).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO

from django.utils import timezone

from governance.core.text import clean_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
# xlsx column widths, in characters of the default font (a CJK character counts two).
MIN_WIDTH, MAX_WIDTH = 8, 60


def safe_text(value: str) -> str:
    """Stored text as an export may hold it: what ``clean_text`` keeps of multi-line text."""
    return clean_text(value, multiline=True)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def local_datetime(value: datetime) -> datetime:
    """An instant as the portal's wall clock shows it, to the minute, with no zone (what a spreadsheet holds)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value, timezone.get_default_timezone())
    return value.replace(tzinfo=None, second=0, microsecond=0)


def csv_value(value):
    if isinstance(value, datetime):
        return local_datetime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    text = safe_text(value)
    return "'" + text if is_formula_like(text) else text


def write_csv(out: IO[str], rows: Iterable[Sequence], header: Sequence[str]) -> None:
    writer = csv.writer(out)
    writer.writerow([csv_value(h) for h in header])
    writer.writerows([csv_value(v) for v in row] for row in rows)


def write_csv_bytes(out: IO[bytes], rows: Iterable[Sequence], header: Sequence[str]) -> None:
    """CSV into a binary file, UTF-8 with a BOM so that Excel reads Chinese as UTF-8."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    write_csv(text, rows, header)
    text.flush()
    text.detach()  # the caller's file stays open


def xlsx_row(sheet, values: Iterable) -> list:
    """A row for a write-only openpyxl sheet: text cleaned and typed as text when it looks like a formula,
    dates and times as formatted date cells."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for value in values:
        if isinstance(value, str):
            text = safe_text(value)
            if is_formula_like(text):
                cell = WriteOnlyCell(sheet, value=text)
                cell.data_type = "s"  # a text cell: shown, never evaluated
                row.append(cell)
                continue
            row.append(text)
        elif isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=local_datetime(value))
            cell.number_format = DATETIME_FORMAT
            row.append(cell)
        elif isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATE_FORMAT
            row.append(cell)
        else:
            row.append(value)
    return row


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK (wide) character two, any other one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(header: str, width: int | None = None) -> int:
    return max(MIN_WIDTH, min(MAX_WIDTH, width or display_width(header) + 2))


def write_xlsx(out, rows: Iterator[Sequence], header: Sequence[str], *, title: str,
               widths: Sequence[int | None] | None = None) -> None:
    """One sheet: a bold, frozen header row (repeated on printed pages), columns wide enough for their header
    (or the width given, in characters), then the rows, streamed (openpyxl's write-only mode: flat memory)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    widths = widths or [None] * len(header)
    for index, (label, width) in enumerate(zip(header, widths, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column_width(label, width)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    bold = Font(bold=True)
    header_cells = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=safe_text(str(label)))
        cell.data_type = "s"  # a header is text, whatever it starts with
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    workbook.save(out)


def _sheet_title(title: str) -> str:
    """What Excel accepts as a sheet's name: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in safe_text(title)).strip()
    return (cleaned or "Sheet")[:31]
