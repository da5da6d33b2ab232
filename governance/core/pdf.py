"""The one CJK font of every PDF the portal writes (mediation's lists and court sheets, the ledgers'
reports, the grids' printed signs), embedded.

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
