"""Text as people typed it, without what only machines and attackers type.

``clean_text`` is applied by the services to every stored text (titles, descriptions,
notes, names): it drops C0 and C1 control characters (keeping line breaks and tabs
in multi-line text), Unicode bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069: they make "txt.exe" read as "exe.txt"), lone surrogates (which no
database can store) and the byte-order mark, and normalises line endings. Exports
clean again on the way out (``governance.exports``), so a row stored before this rule
never breaks a file.
"""

from __future__ import annotations

import re

_BIDI = "\u202a-\u202e\u2066-\u2069"
# C0 controls but tab and line feed, DEL, C1 controls, bidi controls, surrogates, BOM and noncharacters.
_UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff\ufeff\ufffe\uffff]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff\ufeff\ufffe\uffff]")


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """``value`` stripped of unsafe characters and of surrounding whitespace; "" for None.

    One-line text (a title, a name) loses line breaks and tabs too: they become spaces.
    """
    if not value:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        text = _UNSAFE_MULTILINE.sub("", text)
    else:
        text = _UNSAFE_ONE_LINE.sub("", re.sub(r"[\t\n]+", " ", text))
    return text.strip()
