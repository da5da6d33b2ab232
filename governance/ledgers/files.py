"""Evidence and attachment files: type by content (not by name), size checked, stored through the storage API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from governance.core.errors import InvalidInput

# extension -> (media type, the file's first bytes)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003, Excel 97-2003, PowerPoint 97-2003, WPS
ZIP = b"PK\x03\x04"  # docx, xlsx, pptx (Office Open XML)
ALLOWED: dict[str, tuple[str, bytes]] = {
    "pdf": ("application/pdf", b"%PDF-"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "doc": ("application/msword", OLE),
    "xls": ("application/vnd.ms-excel", OLE),
    "ppt": ("application/vnd.ms-powerpoint", OLE),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
}
MAX_FILES = 10


def max_bytes() -> int:
    return int(getattr(settings, "LEDGER_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    extension: str
    sha256: str
    original_name: str


def clean_files(uploaded: list, *, field: str = "evidence") -> list[CleanFile]:
    """The uploaded files checked: at most ``MAX_FILES``, each a PDF, an image or an office document by its
    content, at most ``LEDGER_EVIDENCE_MAX_BYTES``; ``InvalidInput`` naming the file otherwise."""
    if len(uploaded) > MAX_FILES:
        message = _("At most %(n)d files at a time.") % {"n": MAX_FILES}
        raise InvalidInput(message, code="too_many_files", field_errors={field: [message]})
    limit = max_bytes()
    cleaned = []
    for item in uploaded:
        name = (getattr(item, "name", "") or "file")[-200:]
        size = getattr(item, "size", None)
        if size is not None and size > limit:
            raise _refuse(field, _("The file %(name)s is larger than %(mb)d MB.")
                          % {"name": name, "mb": limit // (1024 * 1024)}, "file_too_large")
        raw = item.read()
        if len(raw) > limit:
            raise _refuse(field, _("The file %(name)s is larger than %(mb)d MB.")
                          % {"name": name, "mb": limit // (1024 * 1024)}, "file_too_large")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in ALLOWED:
            raise _refuse(field, _("The file %(name)s is not a PDF, an image (JPEG, PNG) or an office document.")
                          % {"name": name}, "file_type")
        content_type, magic = ALLOWED[extension]
        if not raw.startswith(magic):
            raise _refuse(field, _("The file %(name)s is not what its name says (%(ext)s).")
                          % {"name": name, "ext": extension}, "file_type")
        cleaned.append(CleanFile(raw, content_type, extension, hashlib.sha256(raw).hexdigest(), name))
    return cleaned


def _refuse(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, field_errors={field: [message]})
