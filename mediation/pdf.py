"""PDF files of mediation (the case list, the court's result sheet), in the portal's embedded CJK font
(``governance.core.pdf.cjk_font``)."""

from __future__ import annotations

from governance.core.pdf import cjk_font


def styles():
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    font = cjk_font()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=font, fontSize=18, leading=24),
        "h2": ParagraphStyle("h", parent=base["Heading2"], fontName=font, fontSize=13, leading=18),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName=font, fontSize=10.5, leading=16,
                               wordWrap="CJK"),
        "cell": ParagraphStyle("c", parent=base["BodyText"], fontName=font, fontSize=8.5, leading=11,
                               wordWrap="CJK"),
    }


def paragraph(text, style):
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def write_table(out, title: str, header: list[str], rows, *, landscape_page: bool = True) -> None:
    """A titled table over as many pages as it takes, the header repeated on each."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, SimpleDocTemplate, Spacer, TableStyle

    s = styles()
    size = landscape(A4) if landscape_page else A4
    doc = SimpleDocTemplate(out, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=title)
    data = [[paragraph(h, s["cell"]) for h in header]]
    data += [[paragraph(_cell(v), s["cell"]) for v in row] for row in rows]
    table = LongTable(data, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    doc.build([paragraph(title, s["title"]), Spacer(1, 4 * mm), table])


def _cell(value) -> str:
    from datetime import date, datetime

    from django.utils import timezone

    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return "" if value is None else str(value)
