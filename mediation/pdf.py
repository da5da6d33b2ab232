"""PDF files of mediation (the case list, the court's result sheet), in the portal's embedded CJK font
(``governance.core.pdf.cjk_font``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from governance.core import spreadsheets
from governance.core.pdf import cjk_font

# Rows turned into one table at a time: what the document holds of the list at any moment.
ROWS_PER_TABLE = 200
CELL_FONT_SIZE = 8.5


def styles():
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    font = cjk_font()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=font, fontSize=18, leading=24),
        "h2": ParagraphStyle("h", parent=base["Heading2"], fontName=font, fontSize=13, leading=18),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName=font, fontSize=10.5, leading=16,
                               wordWrap="CJK"),
        "cell": ParagraphStyle("c", parent=base["BodyText"], fontName=font, fontSize=CELL_FONT_SIZE, leading=11,
                               wordWrap="CJK"),
    }


def paragraph(text, style):
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


class _Story(list):
    """The flowables still to lay out, refilled from ``more`` as reportlab takes them from the front.

    reportlab's ``build`` asks ``len(story)`` before each flowable and puts the parts of a split table back at
    the front; so it sees a list that never runs dry until ``more`` does, and only a table or two of the list
    exists at any moment, not the whole list's cells.
    """

    def __init__(self, more: Iterator):
        super().__init__()
        self._more = more

    def __len__(self) -> int:
        while super().__len__() < 2:
            item = next(self._more, None)
            if item is None:
                break
            self.append(item)
        return super().__len__()


def write_table(out, title: str, header: Sequence[str], rows: Iterable[Sequence], *,
                widths: Sequence[int | None] | None = None, note: str = "", landscape_page: bool = True,
                rows_per_table: int = ROWS_PER_TABLE) -> None:
    """A titled table over as many pages as it takes, the header drawn atop each page, written as ``rows``
    come: they are laid out ``rows_per_table`` at a time and let go, so a long list is never held whole.
    ``widths``: each column's share of the page (characters, as the xlsx's; default: its header's);
    ``note``: a last line (the list was cut, and where the rest is)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, LongTable, PageTemplate, Spacer, TableStyle

    s = styles()
    font = cjk_font()
    width, height = landscape(A4) if landscape_page else A4
    margin = 12 * mm
    usable = width - 2 * margin
    shares = [spreadsheets.column_width(str(h), (widths or [None] * len(header))[i]) for i, h in enumerate(header)]
    col_widths = [usable * share / sum(shares) for share in shares]
    # Text that fits its column is a plain cell; only longer text gets a Paragraph (which wraps, at far more cost).
    fits = [int((w - 6) / (CELL_FONT_SIZE / 2)) for w in col_widths]  # display_width counts a CJK character 2
    grid = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), CELL_FONT_SIZE)]

    heading = LongTable([[paragraph(h, s["cell"]) for h in header]], colWidths=col_widths)
    heading.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#e5e7eb"))]))
    _w, heading_height = heading.wrap(usable, height)
    title_block = paragraph(title, s["title"])
    _w, title_height = title_block.wrap(usable, height)
    title_height += 4 * mm

    def draw(canvas, doc, *, first: bool) -> None:
        canvas.saveState()
        top = height - margin
        if first:
            title_block.drawOn(canvas, margin, top - title_height + 4 * mm)
            top -= title_height
        heading.drawOn(canvas, margin, top - heading_height)
        canvas.setFont(font, 8)
        canvas.drawRightString(width - margin, 6 * mm, str(doc.page))
        canvas.restoreState()

    def frame(top: float) -> Frame:
        return Frame(margin, margin, usable, height - margin - top, leftPadding=0, rightPadding=0, topPadding=0,
                     bottomPadding=0)

    doc = BaseDocTemplate(out, pagesize=(width, height), leftMargin=margin, rightMargin=margin, topMargin=margin,
                          bottomMargin=margin, title=title)
    doc.addPageTemplates([
        PageTemplate(id="first", frames=[frame(margin + title_height + heading_height)],
                     onPage=lambda c, d: draw(c, d, first=True), autoNextPageTemplate="later"),
        PageTemplate(id="later", frames=[frame(margin + heading_height)], onPage=lambda c, d: draw(c, d, first=False)),
    ])

    def cell(value, i: int):
        text = _cell(value)
        return paragraph(text, s["cell"]) if spreadsheets.display_width(text) > fits[i] else text

    def tables() -> Iterator:
        yield Spacer(1, 0)  # the first page, title and header, even for an empty list
        chunk: list[list] = []
        for row in rows:
            chunk.append([cell(v, i) for i, v in enumerate(row)])
            if len(chunk) == rows_per_table:
                yield _table(chunk)
                chunk = []
        if chunk:
            yield _table(chunk)
        if note:
            yield Spacer(1, 4 * mm)
            yield paragraph(note, s["body"])

    def _table(cells: list[list]):
        table = LongTable(cells, colWidths=col_widths)  # splits across pages in linear time
        table.setStyle(TableStyle(grid))
        return table

    doc.build(_Story(tables()))


def _cell(value) -> str:
    from datetime import date, datetime

    from django.utils import timezone

    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else str(value)
