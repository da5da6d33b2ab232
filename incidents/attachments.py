"""Photos: checked with Pillow, stripped of EXIF (and so of GPS), downscaled and re-encoded before storage.

The decoding work of one request is bounded before any photo is decoded: each photo's
size is read from its header, and the pixels the request would decode in all
(``INCIDENT_PHOTOS_MAX_DECODED_PIXELS``) must fit, counting a JPEG at the reduced scale
Pillow's ``draft`` mode decodes it at. A stored photo is at most ``PHOTO_MAX_EDGE``
pixels on its long side: more than a command centre needs, and a decompression bomb
never reaches a full decode.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from governance.core.errors import InvalidInput

ALLOWED_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# The long side of a stored photo, in pixels.
PHOTO_MAX_EDGE = 2560
# The long side of a photo's thumbnail: the pages show photos 120 × 90 CSS pixels (76 on the map's panel),
# so 360 px is sharp on a phone's 3× screen. A JPEG of that size at quality 72 weighs 10–40 KB.
THUMBNAIL_EDGE = 360
THUMBNAIL_QUALITY = 72


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str
    original_name: str
    thumbnail: bytes  # JPEG, THUMBNAIL_EDGE on its long side, made once here (never per request)


@dataclass(frozen=True)
class _Probe:
    uploaded: object
    name: str
    raw: bytes
    format: str
    size: tuple[int, int]

    @property
    def decoded_pixels(self) -> int:
        """The pixels decoding this photo costs: a JPEG is decoded at the smallest scale (1/8 … 1/1) that still
        covers ``PHOTO_MAX_EDGE``, as ``Image.draft`` does; other formats whole."""
        width, height = self.size
        if self.format == "JPEG":
            scale = 1
            while scale < 8 and max(width, height) // (scale * 2) >= PHOTO_MAX_EDGE:
                scale *= 2
            return (width // scale) * (height // scale)
        return width * height


def _too_large(name: str, max_bytes: int) -> InvalidInput:
    return InvalidInput(_("The photo %(name)s is larger than %(mb)d MB.")
                        % {"name": name, "mb": max_bytes // (1024 * 1024)}, code="photo_too_large")


def _not_an_image(name: str) -> InvalidInput:
    return InvalidInput(_("The file %(name)s is not an image that can be read.") % {"name": name},
                        code="photo_not_image")


def _probe(uploaded, max_bytes: int) -> _Probe:
    """Read the file and its header only: format and size, nothing decoded."""
    name = getattr(uploaded, "name", "") or ""
    size = getattr(uploaded, "size", None)
    if size is not None and size > max_bytes:
        raise _too_large(name, max_bytes)
    raw = uploaded.read()
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    if len(raw) > max_bytes:
        raise _too_large(name, max_bytes)
    try:
        with Image.open(io.BytesIO(raw)) as header:
            fmt, dimensions = header.format, header.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _not_an_image(name) from exc
    if fmt not in ALLOWED_FORMATS:
        raise InvalidInput(_("The file %(name)s is a %(fmt)s image; use JPEG, PNG or WebP.")
                           % {"name": name, "fmt": fmt}, code="photo_format")
    if dimensions[0] * dimensions[1] > settings.INCIDENT_PHOTO_MAX_PIXELS:
        raise InvalidInput(_("The photo %(name)s has too many pixels.") % {"name": name}, code="photo_too_large")
    return _Probe(uploaded, name, raw, fmt, dimensions)


def clean_images(photos: Sequence, *, max_bytes: int | None = None) -> list[CleanImage]:
    """Every photo of one request checked, within the request's decoding budget, then cleaned; or InvalidInput."""
    max_bytes = max_bytes or settings.INCIDENT_PHOTO_MAX_BYTES
    probes = [_probe(photo, max_bytes) for photo in photos]
    budget = settings.INCIDENT_PHOTOS_MAX_DECODED_PIXELS
    if sum(p.decoded_pixels for p in probes) > budget:
        raise InvalidInput(
            _("These photos are too large to process together (at most %(mp)d megapixels in one request). "
              "Send smaller photos or fewer at a time.") % {"mp": budget // 1_000_000},
            code="photos_too_large", field_errors={"photos": [_("Too many pixels in one request.")]})
    return [_clean(probe) for probe in probes]


def clean_image(uploaded, *, max_bytes: int | None = None) -> CleanImage:
    """One photo: a real image under the limits, re-encoded with no metadata, or InvalidInput saying why."""
    return clean_images([uploaded], max_bytes=max_bytes)[0]


def _clean(probe: _Probe) -> CleanImage:
    try:
        with Image.open(io.BytesIO(probe.raw)) as check:
            check.verify()  # catches truncated and corrupt files
        image = Image.open(io.BytesIO(probe.raw))
        if probe.format == "JPEG":
            image.draft("RGB", (PHOTO_MAX_EDGE, PHOTO_MAX_EDGE))  # decode at a reduced scale where it can
        # Turn the picture upright before the orientation tag is dropped with the rest of EXIF.
        image = ImageOps.exif_transpose(image)
        if max(image.size) > PHOTO_MAX_EDGE:
            image.thumbnail((PHOTO_MAX_EDGE, PHOTO_MAX_EDGE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if probe.format == "JPEG":
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        elif probe.format == "PNG":
            image.save(out, "PNG")  # optimize=True costs seconds on a large picture and saves little
        else:
            image.save(out, "WEBP", quality=85)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _not_an_image(probe.name) from exc
    content = out.getvalue()
    content_type, extension = ALLOWED_FORMATS[probe.format]
    return CleanImage(content, content_type, extension, image.width, image.height,
                      hashlib.sha256(content).hexdigest(), probe.name[:200], thumbnail=make_thumbnail(image))


def make_thumbnail(image: Image.Image) -> bytes:
    """A small JPEG of an upright, already cleaned photo (no metadata: Pillow writes none unless asked).

    Transparent pixels (PNG, WebP) are laid on white, as the pages' backgrounds are."""
    small = image.copy()
    small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    if small.mode in ("RGBA", "LA") or (small.mode == "P" and "transparency" in small.info):
        rgba = small.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        small = flat
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def thumbnail_of_stored(content: bytes) -> bytes:
    """The thumbnail of a photo already in storage (clean: upright, no EXIF), for photos stored before
    thumbnails existed (``manage.py make_photo_thumbnails``)."""
    with Image.open(io.BytesIO(content)) as stored:
        if stored.format == "JPEG":
            stored.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        stored.load()
        return make_thumbnail(stored)


def reclaim_orphan_photos(*, now=None, grace=None) -> list[str]:
    """Photos of the last two months' folders that no attachment row refers to (``governance.core.orphans``)."""
    from django.utils import timezone

    from governance.core import orphans
    from incidents.models import Attachment

    def referenced(names) -> set[str]:
        photos = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
        thumbnails = set(Attachment.objects.filter(thumbnail__in=names).values_list("thumbnail", flat=True))
        return photos | thumbnails

    now = now or timezone.now()
    return orphans.reclaim(storage=Attachment._meta.get_field("file").storage,
                           folders=orphans.month_folders("incidents", now), referenced=referenced, now=now,
                           grace=orphans.GRACE if grace is None else grace)
