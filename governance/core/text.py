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


# --- The same rule, spelt for the OpenAPI schema ----------------------------------------------------------

def _class_of(ranges: list[tuple[int, int]]) -> str:
    """A regex character class body of code point ranges, escaped so that ECMAScript, Python and Rust read it."""
    def esc(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in sorted(set(codes)):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


# Whitespace as str.strip() sees it (DRF trims input with it); all of it lies below U+3001.
_WHITESPACE = [code for code in range(0x3001) if chr(code).isspace()]
# What clean_text removes from one-line text (lone surrogates aside: no JSON text a client sends holds one).
_REMOVED = [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A),
            0xFEFF, 0xFFFE, 0xFFFF]

#: No NUL anywhere: DRF's CharField and Django's form fields refuse it (400).
NO_NUL_PATTERN = "^[^\\x00]*$"
#: Not only whitespace (DRF trims it, then refuses what is left blank), and no NUL.
NON_BLANK_PATTERN = f"^[^\\x00]*[^{_class_of(_ranges([0, *_WHITESPACE]))}][^\\x00]*$"
#: Text the services clean and require: at least one character that neither trimming nor ``clean_text``
#: removes, and no NUL. tests/governance/test_openapi.py holds it to ``clean_text``.
MEANINGFUL_TEXT_PATTERN = f"^[^\\x00]*[^{_class_of(_ranges([*_WHITESPACE, *_REMOVED]))}][^\\x00]*$"
