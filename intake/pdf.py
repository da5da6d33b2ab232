"""The printable sign of a grid: A4, in Chinese, with the QR code residents scan (随手报).

Drawn with reportlab; the QR code comes from segno (pure Python) and is drawn as vector squares,
so it prints sharp at any size, in the portal's embedded CJK font (``governance.core.pdf.cjk_font``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

import segno
from django.conf import settings
from django.utils import translation
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from governance.core.pdf import cjk_font


@dataclass(frozen=True)
class SignSheet:
    grid_name: str
    grid_code: str
    parents: str  # 东区 · 东街道 · 东一社区
    workers: list[str]
    hotline: str
    url: str


def draw_qr(c: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    border = 2
    n = len(matrix) + 2 * border
    cell = size / n
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                c.rect(x + (col + border) * cell, y + size - (r + border + 1) * cell, cell * 1.01, cell * 1.01,
                       stroke=0, fill=1)


def write_signs(out: IO[bytes], sheets: Iterable[SignSheet], progress=None) -> int:
    """One A4 page per sign, in Chinese whatever the asking user's language (it hangs in the street)."""
    font = cjk_font()
    width, height = A4
    c = canvas.Canvas(out, pagesize=A4)
    c.setTitle("网格随手报二维码")
    count = 0
    with translation.override("zh-hans"):
        for sheet in sheets:
            c.setFillColorRGB(0.72, 0.07, 0.07)
            c.rect(0, height - 40 * mm, width, 40 * mm, stroke=0, fill=1)
            c.setFillColorRGB(1, 1, 1)
            c.setFont(font, 30)
            c.drawCentredString(width / 2, height - 22 * mm, "网格随手报")
            c.setFont(font, 13)
            c.drawCentredString(width / 2, height - 33 * mm, f"{settings.CITY_NAME}市域社会治理综治中心")
            c.setFillColorRGB(0, 0, 0)
            c.setFont(font, 22)
            c.drawCentredString(width / 2, height - 56 * mm, sheet.grid_name)
            c.setFont(font, 12)
            c.drawCentredString(width / 2, height - 64 * mm, f"网格编码：{sheet.grid_code}")
            if sheet.parents:
                c.drawCentredString(width / 2, height - 71 * mm, sheet.parents)
            qr_size = 110 * mm
            draw_qr(c, sheet.url, (width - qr_size) / 2, height - 190 * mm, qr_size)
            c.setFont(font, 15)
            c.drawCentredString(width / 2, height - 200 * mm, "微信或手机浏览器扫码，随手上报身边问题")
            c.setFont(font, 11)
            c.drawCentredString(width / 2, height - 208 * mm,
                                "无需注册登录；提交后获得查询码，可随时查看办理进度和答复")
            c.setFont(font, 14)
            workers = "、".join(sheet.workers) if sheet.workers else "（待配备）"
            c.drawString(25 * mm, height - 228 * mm, f"网格员：{workers}"[:60])
            c.drawString(25 * mm, height - 238 * mm, f"联系电话：{sheet.hotline}")
            c.setFont(font, 9)
            c.setFillColorRGB(0.35, 0.35, 0.35)
            c.drawString(25 * mm, 18 * mm, "请勿遮挡、涂改本标识。二维码如被更换或无法使用，请拨打上方电话。")
            c.drawString(25 * mm, 12 * mm, sheet.url[:110])
            c.showPage()
            count += 1
            if progress is not None:
                progress(count)
    c.save()
    return count
