"""PDF files of mediation (the case list, the court's result sheet), with a CJK TrueType font embedded.

reportlab's built-in CID font STSong-Light draws Chinese without a font file, but does not embed it: a
viewer without Chinese fonts draws boxes. So a TrueType CJK font is embedded whenever one is found:
``PDF_CJK_FONT`` (a path, in the settings) first, then the fonts Debian installs (``fonts-wqy-zenhei``,
``fonts-noto-cjk``, ``fonts-wqy-microhei``); STSong-Light is the fallback, and says so in the log.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
FALLBACK = "STSong-Light"


@functools.cache
def cjk_font() -> str:
    """The name of a registered font that draws Chinese: an embedded TrueType one when any is found."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    configured = getattr(settings, "PDF_CJK_FONT", "")
    for path in ([configured] if configured else []) + list(CANDIDATES):
        if path and Path(path).is_file():
            try:
                kwargs = {"subfontIndex": 0} if path.endswith(".ttc") else {}
                pdfmetrics.registerFont(TTFont("PortalCJK", path, **kwargs))
            except Exception:  # a damaged or unsupported file: try the next one
                logger.warning("Cannot use %s as the PDF's CJK font.", path, exc_info=True)
                continue
            return "PortalCJK"
    logger.warning("No CJK TrueType font found: PDFs use %s, which is not embedded.", FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return FALLBACK


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
