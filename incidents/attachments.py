"""Photos: checked with Pillow, stripped of EXIF (and so of GPS), re-encoded before storage."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from governance.errors import InvalidInput

ALLOWED_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str
    original_name: str


def clean_image(uploaded, *, max_bytes: int | None = None) -> CleanImage:
    """A real image under the size limit, re-encoded with no metadata, or InvalidInput saying why."""
    max_bytes = max_bytes or settings.INCIDENT_PHOTO_MAX_BYTES
    name = getattr(uploaded, "name", "") or ""
    size = getattr(uploaded, "size", None)
    if size is not None and size > max_bytes:
        raise InvalidInput(_("The photo %(name)s is larger than %(mb)d MB.")
                           % {"name": name, "mb": max_bytes // (1024 * 1024)}, code="photo_too_large")
    raw = uploaded.read()
    if len(raw) > max_bytes:
        raise InvalidInput(_("The photo %(name)s is larger than %(mb)d MB.")
                           % {"name": name, "mb": max_bytes // (1024 * 1024)}, code="photo_too_large")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()  # catches truncated and corrupt files
        image = Image.open(io.BytesIO(raw))
        fmt = image.format
        if fmt not in ALLOWED_FORMATS:
            raise InvalidInput(_("The file %(name)s is a %(fmt)s image; use JPEG, PNG or WebP.")
                               % {"name": name, "fmt": fmt}, code="photo_format")
        if image.width * image.height > settings.INCIDENT_PHOTO_MAX_PIXELS:
            raise InvalidInput(_("The photo %(name)s has too many pixels.") % {"name": name},
                               code="photo_too_large")
        # Turn the picture upright before the orientation tag is dropped with the rest of EXIF.
        image = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        if fmt == "JPEG":
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        elif fmt == "PNG":
            image.save(out, "PNG", optimize=True)
        else:
            image.save(out, "WEBP", quality=85)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(_("The file %(name)s is not an image that can be read.") % {"name": name},
                           code="photo_not_image") from exc
    content = out.getvalue()
    content_type, extension = ALLOWED_FORMATS[fmt]
    return CleanImage(content, content_type, extension, image.width, image.height,
                      hashlib.sha256(content).hexdigest(), name[:200])


def reclaim_orphan_photos(*, now=None, grace=None) -> list[str]:
    """Photos of the last two months' folders that no attachment row refers to (``governance.orphans``)."""
    from django.utils import timezone

    from governance import orphans
    from incidents.models import Attachment

    def referenced(names) -> set[str]:
        return set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))

    now = now or timezone.now()
    return orphans.reclaim(storage=Attachment._meta.get_field("file").storage,
                           folders=orphans.month_folders("incidents", now), referenced=referenced, now=now,
                           grace=orphans.GRACE if grace is None else grace)
