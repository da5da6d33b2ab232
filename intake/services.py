"""Every write of intake: signs, API keys, and filing through them. One function per action.

Residents and Open311 clients file through ``incidents.services.incident_file`` as principals
(``intake.principals``), so the door decides where they may file exactly as it does for staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.core.authority import SYSTEM, actor_or_none, require_administer
from governance.core.errors import InvalidInput, PermissionDeniedError
from governance.core.files import atomic_with_files
from governance.core.scoping import Action, get_scope
from grids.models import Level, Region
from incidents.models import Category, Source
from incidents.services import incident_file
from intake import tokens
from intake.models import ApiKey, Sign, Submission
from intake.principals import ApiKeyPrincipal, SignPrincipal

# --- Signs ---------------------------------------------------------------------------------------

def may_manage_signs(acting_user, grid: Region) -> bool:
    """Command centres and administrators over the grid print, issue and revoke its sign."""
    if acting_user is SYSTEM:
        return True
    scope = get_scope(acting_user)
    return scope.covers_path(Action.TRIAGE, grid.path) or scope.covers_path(Action.ADMINISTER, grid.path)


def _require_manage(acting_user, grid: Region) -> None:
    if not may_manage_signs(acting_user, grid):
        raise PermissionDeniedError(_("You may not manage the signs of %(grid)s.") % {"grid": grid.name},
                                    code="outside_authority")


def sign_in_force(*, grid: Region, acting_user, now: datetime | None = None) -> Sign:
    """The grid's sign in force, issued now if it has none (printing a sign issues it)."""
    if grid.level != Level.GRID:
        raise InvalidInput(_("Only a grid has a sign."), field_errors={"grid": [_("Not a grid.")]})
    _require_manage(acting_user, grid)
    sign = Sign.objects.filter(grid=grid, revoked_at__isnull=True).first()
    if sign is not None:
        return sign
    try:
        with transaction.atomic():
            return Sign.objects.create(grid=grid, nonce=tokens.new_nonce(), issued_at=now or timezone.now(),
                                       issued_by=actor_or_none(acting_user))
    except IntegrityError:  # issued by someone else at the same moment: theirs is the one in force
        return Sign.objects.get(grid=grid, revoked_at__isnull=True)


@transaction.atomic
def sign_revoke(*, sign: Sign, acting_user, reissue: bool = True, now: datetime | None = None) -> Sign | None:
    """Revoke a sign (lost, defaced, abused): its token is refused from now on. Issues a new one unless told not to."""
    now = now or timezone.now()
    sign = Sign.objects.select_for_update().select_related("grid").get(pk=sign.pk)
    _require_manage(acting_user, sign.grid)
    if sign.revoked_at is None:
        sign.revoked_at, sign.revoked_by = now, actor_or_none(acting_user)
        sign.save(update_fields=["revoked_at", "revoked_by"])
    if not reissue:
        return None
    return Sign.objects.create(grid=sign.grid, nonce=tokens.new_nonce(), issued_at=now,
                               issued_by=actor_or_none(acting_user))


def sign_token(sign: Sign) -> str:
    return tokens.sign_token(sign.pk, sign.nonce)


def sign_from_token(token: str) -> Sign | None:
    """The sign a genuine token names, if it is still in force; ``None`` for anything else."""
    read = tokens.read_sign_token(token)
    if read is None:
        return None
    sign_id, nonce = read
    sign = (Sign.objects.select_related("grid").defer("grid__boundary")
            .filter(pk=sign_id, nonce=nonce, revoked_at__isnull=True, grid__level=Level.GRID).first())
    return sign


# --- API keys ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    key: str  # shown once, never stored


def api_key_issue(*, name: str, unit, territory: Region, acting_user, intake_grid: Region | None = None,
                  source: str = Source.API, now: datetime | None = None) -> IssuedKey:
    require_administer(acting_user, territory.path, territory)
    if intake_grid is not None and (intake_grid.level != Level.GRID or not intake_grid.path.startswith(territory.path)):
        raise InvalidInput(_("The grid for reports without coordinates must be a grid of the territory."),
                           field_errors={"intake_grid": [_("Not a grid of the territory.")]})
    key, prefix, digest = tokens.new_api_key()
    api_key = ApiKey.objects.create(name=name, unit=unit, territory=territory, intake_grid=intake_grid,
                                    source=source, prefix=prefix, key_hash=digest, created_at=now or timezone.now(),
                                    created_by=actor_or_none(acting_user))
    return IssuedKey(api_key, key)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, acting_user, now: datetime | None = None) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().select_related("territory").get(pk=api_key.pk)
    require_administer(acting_user, api_key.territory.path, api_key)
    if api_key.revoked_at is None:
        api_key.revoked_at, api_key.revoked_by = now or timezone.now(), actor_or_none(acting_user)
        api_key.save(update_fields=["revoked_at", "revoked_by"])
    return api_key


def api_key_from_key(key: str) -> ApiKey | None:
    if not key:
        return None
    return (ApiKey.objects.select_related("unit", "territory", "intake_grid")
            .defer("territory__boundary", "intake_grid__boundary")
            .filter(key_hash=tokens.hash_api_key(key), revoked_at__isnull=True).first())


# --- Filing ----------------------------------------------------------------------------------------

def resident_categories():
    """The minor categories residents may choose: those under ``INTAKE_RESIDENT_CATEGORIES`` (codes)."""
    codes = list(settings.INTAKE_RESIDENT_CATEGORIES)
    return (Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
            .filter(Q(code__in=codes) | Q(parent__code__in=codes))
            .select_related("parent").order_by("parent__sort_order", "sort_order"))


def _new_submission(**fields) -> Submission:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Submission.objects.create(tracking_code=tokens.new_tracking_code(), **fields)
        except IntegrityError:  # a tracking code drawn twice (1 in 10^17): draw again
            continue
    raise IntegrityError("no free tracking code")


def quick_report_file(*, sign: Sign, category: Category, description: str, photos: Sequence = (),
                      lat: float | None = None, lng: float | None = None, phone: str = "", client: str = "",
                      now: datetime | None = None) -> Submission:
    """A resident's quick report through a grid's sign: filed in the sign's grid, answered with a tracking code."""
    description = (description or "").strip()
    if not description:
        raise InvalidInput(_("Please describe what you saw."),
                           field_errors={"description": [_("This field is required.")]})
    if not resident_categories().filter(pk=category.pk).exists():
        raise InvalidInput(_("Choose one of the categories offered."),
                           field_errors={"category": [_("Not a category residents may choose.")]})
    if len(photos) > settings.INTAKE_MAX_PHOTOS:
        raise InvalidInput(_("At most %(n)d photos.") % {"n": settings.INTAKE_MAX_PHOTOS},
                           field_errors={"photo": [_("Too many.")]})
    for photo in photos:
        if photo.size > settings.INTAKE_PHOTO_MAX_BYTES:
            limit = settings.INTAKE_PHOTO_MAX_BYTES / 2**20
            raise InvalidInput(_("A photo may be at most %(mb).1f MB.") % {"mb": limit}, code="too_large",
                               field_errors={"photo": [_("Too large.")]})
    grid = sign.grid
    if lat is None or lng is None:
        lat, lng = grid.centroid_lat, grid.centroid_lng
    title = description.splitlines()[0][:40]
    with atomic_with_files():  # the incident, its photos and the submission, or nothing
        filing = incident_file(reporter=SignPrincipal(sign), category=category, title=title, lat=lat, lng=lng,
                               description=description, source=Source.QUICK_REPORT, photos=photos,
                               reporter_phone=phone, grid=grid, now=now)
        return _new_submission(incident=filing.incident, channel=Submission.Channel.QUICK_REPORT, sign=sign,
                               client=client, created_at=filing.incident.reported_at)


def open311_file(*, api_key: ApiKey, category: Category, description: str, lat: float | None, lng: float | None,
                 address: str = "", attributes: dict | None = None, name: str = "", phone: str = "",
                 title: str = "", severity: str | None = None, media: Sequence = (),
                 jurisdiction: Region | None = None, now: datetime | None = None) -> Submission:
    """An Open311 ``POST requests``: filed where the point lies if the key's territory holds it.

    With a ``jurisdiction`` (the request's ``jurisdiction_id``), the grid it lands in must lie in that region too:
    a report is never filed outside the jurisdiction its sender named (nothing is written then).
    """
    grid = None
    if lat is None or lng is None:
        if not address:
            raise InvalidInput(_("Give a location: lat and long, or an address."), code="location_required")
        grid = api_key.intake_grid
        if grid is None:
            raise InvalidInput(_("This key files by coordinates only: give lat and long."), code="location_required")
        lat, lng = grid.centroid_lat, grid.centroid_lng
    title = (title or (description or "").strip().split("\n")[0][:40] or category.name)[:200]
    with atomic_with_files():
        filing = incident_file(reporter=ApiKeyPrincipal(api_key), category=category, title=title, lat=lat, lng=lng,
                               description=description or "", address=address, source=api_key.source,
                               severity=severity,
                               photos=media, reporter_name=name, reporter_phone=phone, grid=grid, now=now)
        if jurisdiction is not None and not filing.incident.grid.path.startswith(jurisdiction.path):
            raise InvalidInput(_("The location is outside the jurisdiction %(code)s.") % {"code": jurisdiction.code},
                               code="outside_jurisdiction",
                               field_errors={"jurisdiction_id": [_("Not where the report is.")]})
        return _new_submission(incident=filing.incident, channel=Submission.Channel.OPEN311, api_key=api_key,
                               attributes=attributes or {}, created_at=filing.incident.reported_at)
