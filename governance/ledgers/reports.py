"""The progress report of a programme as files: xlsx (one sheet per view), PDF (embedded CJK font), CSV.

The figures are the dashboard's (``selectors.programme_report``, scoped to the reader); this module only
lays them out. xlsx is written with openpyxl's write-only mode (rows streamed, memory flat); column widths
are measured on the text they hold, a CJK character counting two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from governance.core import spreadsheets
from governance.core.pdf import cjk_font
from governance.ledgers import periods, progress
from governance.ledgers.selectors import Report

PERCENT_FORMAT = "0.0"
MAX_PERIOD_COLUMNS = 36


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: Iterable[Sequence]
    widths: list[int] | None = None
    freeze: str = "A2"


def _deadline() -> str:
    """A pilot task's deadline is its 完成时限 (an incident's is its 办理时限)."""
    return pgettext("pilot task", "Deadline")


def _pct(value: float | None):
    return None if value is None else round(value, 1)


def _level(node: progress.Node, figure: progress.NodeFigure) -> str:
    if figure.is_requirement:
        return _("Requirement")
    return _("Key task") if node.depth == 1 else _("Sub-task")


def task_sheet(report: Report) -> Sheet:
    rows = [[f.node.code, f.node.title, _level(f.node, f), f.node.lead_unit, f.node.leader, float(f.node.weight),
             f.node.deadline, _pct(f.progress), f.requirements, f.lagging] for f in report.rows]
    return Sheet(_("Progress by task"), [_("Code"), _("Task"), _("Level"), _("Lead unit"), _("Lead leader"),
                                         _("Weight"), _deadline(), _("Progress (%)"), _("Requirements"),
                                         _("Lagging")], rows, freeze="C2")


def unit_sheet(report: Report) -> Sheet:
    rows = [[n, u.unit_name, u.requirements, u.completed, _pct(u.completion), u.lagging, u.missing_filings,
             u.overdue_notices] for n, u in enumerate(report.units, start=1)]
    return Sheet(_("Units ranked"), [_("Rank"), _("Unit"), _("Requirements"), _("Completed"), _("Completion (%)"),
                                     _("Lagging requirements"), _("Missing filings"), _("Overdue notices")], rows,
                 freeze="C2")


def lagging_sheet(report: Report) -> Sheet:
    """Streamed (it may be long): widths from the titles and names the report holds, not from the rows."""
    rows = ([node.code, node.title, s.unit_name, node.deadline, _pct(s.percent),
             _("yes") if s.overdue else "", "、".join(s.missing)] for s, node in report.lagging_rows)
    header = [_("Code"), _("Requirement"), _("Unit"), _deadline(), _("Progress (%)"), _("Overdue"),
              _("Missing periods")]
    widths = [8, _title_width(report), _unit_width(report), 11, 10, 6, 40]
    return Sheet(_("Lagging requirements"), header, rows, widths=widths, freeze="C2")


def _title_width(report: Report) -> int:
    return min(max((spreadsheets.display_width(n.title) for n in report.nodes), default=10) + 2, 50)


def _unit_width(report: Report) -> int:
    return min(max((spreadsheets.display_width(u.unit_name) for u in report.units), default=10) + 2, 40)


def month_columns(report: Report) -> list[periods.Period]:
    """One column per month from the programme's start to this month (at most ``MAX_PERIOD_COLUMNS``, the last)."""
    last = min(report.today, report.programme.ends_on)
    first = report.programme.starts_on
    months = periods.periods_between(periods.Cycle.MONTHLY, first, max(last, first))
    return months[-MAX_PERIOD_COLUMNS:]


def _column_of(key: str, node: progress.Node, months: dict[str, int]) -> int | None:
    """The month column where a period's filing shows: a quarter at its last month, "once" at the deadline's."""
    if "Q" in key:
        year, quarter = key.split("Q")
        key = f"{year}-{int(quarter) * 3:02d}"
    elif key == "once":
        key = f"{node.deadline:%Y-%m}" if node.deadline else ""
    return months.get(key)


def matrix_rows(report: Report, months: list[periods.Period]) -> Iterable[list]:
    """One row per responsibility (requirement × unit), one column per month: the percentage filed."""
    index = {p.key: i for i, p in enumerate(months)}
    order = {n.id: i for i, n in enumerate(report.nodes)}
    cycles = {key: str(label) for key, label in periods.Cycle.choices}
    columns: dict[int, dict[str, int | None]] = {}  # per requirement: period key -> month column
    width = len(months)
    for state in sorted(report.states, key=lambda s: (order[s.task_id], s.unit_name)):
        node = report.node(state.task_id)
        where = columns.get(node.id)
        if where is None:
            where = columns[node.id] = {}
        cells: list = [None] * width
        for key, percent in report.matrix.get(state.responsibility_id, {}).items():
            column = where.get(key, -1)
            if column == -1:
                column = where[key] = _column_of(key, node, index)
            if column is not None:
                cells[column] = percent
        yield [node.code, node.title, state.unit_name, cycles.get(node.cycle, node.cycle), node.deadline,
               _pct(state.percent), *cells]


def matrix_sheet(report: Report) -> Sheet:
    months = month_columns(report)
    header = [_("Code"), _("Requirement"), _("Unit"), _("Filing cycle"), _deadline(), _("Progress (%)"),
              *[p.key for p in months]]
    widths = [8, _title_width(report), _unit_width(report), 8, 11, 10, *[8] * len(months)]
    return Sheet(_("Progress report"), header, matrix_rows(report, months), widths=widths, freeze="D2")


def _fit_widths(sheet: Sheet) -> tuple[list[int], Iterable[Sequence]]:
    """Column widths measured on the header and the rows (the rows are a list then), CJK counting two."""
    if sheet.widths is not None:
        return [spreadsheets.column_width(h, w) for h, w in zip(sheet.header, sheet.widths, strict=True)], sheet.rows
    rows = list(sheet.rows)
    widths = []
    for i, label in enumerate(sheet.header):
        longest = max([spreadsheets.display_width(str(label))]
                      + [spreadsheets.display_width(_text(row[i])) for row in rows if row[i] is not None])
        widths.append(max(spreadsheets.MIN_WIDTH, min(spreadsheets.MAX_WIDTH, longest + 2)))
    return widths, rows


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def write_xlsx(out: IO[bytes], sheets: Sequence[Sheet], *, on_row=None) -> None:
    """Several sheets, each with a formatted, frozen header (repeated on printed pages) and fitted widths."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="B91C1C")
    border = Border(bottom=Side(style="thin", color="7F1D1D"))
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for spec in sheets:
        sheet = workbook.create_sheet(spreadsheets._sheet_title(spec.title))
        widths, rows = _fit_widths(spec)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = spec.freeze
        sheet.print_title_rows = "1:1"
        header = []
        for label in spec.header:
            cell = WriteOnlyCell(sheet, value=spreadsheets.safe_text(str(label)))
            cell.data_type = "s"
            cell.font, cell.fill, cell.border, cell.alignment = bold, fill, border, centre
            header.append(cell)
        sheet.append(header)
        texts: dict[str, object] = {}  # titles and names repeat on every row: cleaned once
        for row in rows:
            sheet.append(_cells(sheet, row, texts))
            if on_row is not None:
                on_row()
    workbook.save(out)


def _cells(sheet, values: Sequence, texts: dict[str, object]) -> list:
    """``spreadsheets.xlsx_row``, with numbers passed straight through and plain text cleaned once per text
    (a text that needs a cell of its own, one that looks like a formula, is made afresh on each row)."""
    row = []
    for value in values:
        kind = type(value)
        if value is None or kind is int or kind is float:
            row.append(value)
        elif kind is str:
            cleaned = texts.get(value)
            if cleaned is None:
                cleaned = spreadsheets.xlsx_row(sheet, [value])[0]
                if isinstance(cleaned, str):
                    texts[value] = cleaned
            row.append(cleaned)
        else:
            row.append(spreadsheets.xlsx_row(sheet, [value])[0])
    return row


def write_csv(out: IO[bytes], report: Report) -> None:
    spec = matrix_sheet(report)
    spreadsheets.write_csv_bytes(out, spec.rows, spec.header)


# --- PDF ------------------------------------------------------------------------------------------------

# The PDF is read at meetings: its lagging list stops here and says how many more the xlsx lists.
PDF_LAGGING_ROWS = 500

def key_task_unit_rows(report: Report) -> list[list]:
    """Per key task, each unit's weighted progress under it (the unit's responsibilities only)."""
    by_unit: dict[int, list[progress.PairState]] = {}
    for state in report.states:
        by_unit.setdefault(state.unit_id, []).append(state)
    keys = [n for n in report.nodes if n.depth == 1]
    figures_by_unit = {unit_id: progress.roll_up(report.nodes, states) for unit_id, states in by_unit.items()}
    names = {u.unit_id: u.unit_name for u in report.units}
    rows = []
    ordered = sorted(figures_by_unit.items(), key=lambda item: names.get(item[0], ""))
    for node in keys:
        first = True
        for unit_id, figures in ordered:
            figure = figures.get(node.id)
            if figure is None or figure.progress is None:
                continue
            # the key task's code and title on its first row only: the rows below are its units
            rows.append([node.code if first else "", node.title if first else "", names.get(unit_id, ""),
                         figure.requirements, _pct(figure.progress), figure.lagging])
            first = False
    return rows


def write_pdf(out: IO[bytes], report: Report, *, on_row=None) -> None:
    """The key-task summary: progress by key task, units ranked, key task × unit, lagging; every table breaks
    across pages with its header repeated; each page carries the programme, the date and the scope."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=6, spaceAfter=4)
    title_style = ParagraphStyle("title", fontName=font, fontSize=17, leading=22, spaceAfter=6)
    scope = report.scope_label if report.scope_label != "*" else _("everything")
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    page_header = f"{report.programme.title} · {_('as of')} {report.today:%Y-%m-%d} · {_('Scope')}: {scope}"
    if len(page_header) > 110:
        page_header = page_header[:108] + "…"

    def on_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        width, height = doc.pagesize
        canvas.drawString(doc.leftMargin, height - 10 * mm, page_header)
        canvas.drawRightString(width - doc.rightMargin, 8 * mm,
                               _("Page %(n)d · printed %(at)s") % {"n": doc.page, "at": stamp})
        canvas.restoreState()

    def table(header: list[str], rows: list[list], widths: list[float], wrap: set[int]) -> LongTable:
        cells = [[Paragraph(h, body) for h in header]]
        # A Paragraph (which wraps) costs far more than a plain cell: only text too wide for its column gets one.
        fits = {i: int(widths[i] / 1.55) - 1 for i in wrap}
        for row in rows:
            cells.append([Paragraph(_escape(v), body)
                          if i in wrap and v and spreadsheets.display_width(str(v)) > fits[i]
                          else ("" if v is None else str(v)) for i, v in enumerate(row)])
            if on_row is not None:
                on_row()
        t = LongTable(cells, colWidths=[w * mm for w in widths], repeatRows=1)  # splits in linear time
        t.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#FDE2E2")),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#9CA3AF")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F9FAFB")]),
        ]))
        return t

    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=16 * mm,
                            bottomMargin=14 * mm, title=report.programme.title, author=scope)
    overall = "—" if report.overall is None else f"{report.overall:.1f}%"
    lagging = report.lagging_rows
    story = [Paragraph(_escape(f"{report.programme.title} {_('Progress report')}"), title_style),
             Paragraph(_escape(f"{_('Overall progress')}: {overall} · {_('Requirements')}: {len(report.states)} · "
                               f"{_('Lagging')}: {len(report.lagging)}"), body), Spacer(1, 4 * mm),
             Paragraph(_("Progress by key task"), heading),
             table([_("Code"), _("Key task"), _("Lead unit"), _("Weight"), _("Progress (%)"), _("Requirements"),
                    _("Lagging")],
                   [[f.node.code, f.node.title, f.node.lead_unit, f"{f.node.weight:g}", _pct(f.progress),
                     f.requirements, f.lagging] for f in report.key_tasks],
                   [14, 120, 55, 16, 24, 24, 18], {1, 2}),
             Paragraph(_("Units ranked"), heading),
             table([_("Rank"), _("Unit"), _("Requirements"), _("Completed"), _("Completion (%)"),
                    _("Lagging requirements"), _("Missing filings"), _("Overdue notices")],
                   [[n, u.unit_name, u.requirements, u.completed, _pct(u.completion), u.lagging, u.missing_filings,
                     u.overdue_notices] for n, u in enumerate(report.units, start=1)],
                   [12, 100, 24, 22, 28, 30, 28, 26], {1}),
             Paragraph(_("Progress by key task and unit"), heading),
             table([_("Code"), _("Key task"), _("Unit"), _("Requirements"), _("Progress (%)"), _("Lagging")],
                   key_task_unit_rows(report), [14, 110, 80, 24, 24, 18], {1, 2}),
             Paragraph(_("Lagging requirements"), heading),
             table([_("Code"), _("Requirement"), _("Unit"), _deadline(), _("Progress (%)"), _("Why")],
                   [[node.code, node.title, s.unit_name, f"{node.deadline:%Y-%m-%d}" if node.deadline else "",
                     _pct(s.percent), " ".join(filter(None, [_("Overdue") if s.overdue else "",
                                                            ("、".join(s.missing) if s.missing else "")]))]
                    for s, node in lagging[:PDF_LAGGING_ROWS]],
                   [16, 110, 60, 22, 22, 43], {1, 2, 5})]
    if len(lagging) > PDF_LAGGING_ROWS:
        story.append(Paragraph(_escape(_("%(n)d more lagging requirements: see the xlsx report.")
                                       % {"n": len(lagging) - PDF_LAGGING_ROWS}), body))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)


def _escape(value) -> str:
    from xml.sax.saxutils import escape

    return escape("" if value is None else str(value))
