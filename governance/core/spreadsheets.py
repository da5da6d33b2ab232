"""Cells written into exports (xlsx and CSV) safely, whatever was stored.

* Formula injection (OWASP "CSV injection"): text that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is a formula to a spreadsheet program. In xlsx such
  text is written as a typed text cell (Excel shows it, never evaluates it); in CSV it is
  prefixed with an apostrophe, as OWASP recommends.
* Characters a spreadsheet cannot hold (control characters, which openpyxl refuses with
  ``IllegalCharacterError``) and bidi overrides are dropped on the way out, so a row
  stored before the input was cleaned (``governance.core.text``) never makes an export fail.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import IO

from governance.core.text import clean_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Stored text as an export may hold it: what ``clean_text`` keeps of multi-line text."""
    return clean_text(value, multiline=True)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_value(value):
    if not isinstance(value, str):
        return value
    text = safe_text(value)
    return "'" + text if is_formula_like(text) else text


def write_csv(out: IO[str], rows: Iterable[list], header: list[str]) -> None:
    writer = csv.writer(out)
    writer.writerow([csv_value(h) for h in header])
    writer.writerows([csv_value(v) for v in row] for row in rows)


def xlsx_row(sheet, values: Iterable) -> list:
    """A row for a write-only openpyxl sheet: text cleaned, and typed as text when it looks like a formula."""
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
        else:
            row.append(value)
    return row


def write_xlsx(out, rows: Iterator[list], header: list[str], *, title: str) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(xlsx_row(sheet, header))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    workbook.save(out)
