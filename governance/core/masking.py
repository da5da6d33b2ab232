"""One masking helper for personal data (phones, ID numbers, names) in lists and exports.

Shown unmasked only where a person needs it (the detail page of someone allowed to act),
and every reveal of a dispute party's data will be audited (mediation issue).
"""

from __future__ import annotations


def mask_phone(value: str | None) -> str:
    """13812345678 → 138****5678; short or odd values keep only their last two characters."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) == 11 and digits.isdigit():  # a mobile number
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 7:
        return f"{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_id_number(value: str | None) -> str:
    """A resident ID number: first 6 (region) and last 4 characters kept."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(value: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***."""
    if not value:
        return ""
    value = value.strip()
    return value[0] + "*" * (len(value) - 1) if len(value) > 1 else "*"
