"""Credentials: a sign's signed token, an API key's random secret, a tracking code.

A sign's token is ``<sign id>.<nonce>.<signature>`` signed with the project's secret
(django.core.signing, salted for signs): it cannot be forged nor changed to name another
sign or grid, and it can be printed again whenever a sign is lost. It is refused once its
sign is revoked (the row is read on every use). Rotating ``SECRET_KEY`` voids every printed
sign unless the old key stays in ``SECRET_KEY_FALLBACKS``.

An API key is ``o311_<prefix>_<secret>``: shown once when it is created, stored as its SHA-256
(a random 256-bit secret needs no slow hash), looked up by that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing

SIGN_SALT = "intake.sign"
_signer = signing.Signer(salt=SIGN_SALT, sep=".")

# No 0/O, 1/I/L: a code read aloud on the phone or typed from a screenshot.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12


def new_nonce() -> str:
    return secrets.token_hex(8)


def sign_token(sign_id: int, nonce: str) -> str:
    return _signer.sign(f"{sign_id}.{nonce}")


def read_sign_token(token: str) -> tuple[int, str] | None:
    """``(sign id, nonce)`` of a genuine token, or ``None``."""
    try:
        value = _signer.unsign(token or "")
    except signing.BadSignature:
        return None
    sign_id, _sep, nonce = value.partition(".")
    if not sign_id.isdigit() or not nonce:
        return None
    return int(sign_id), nonce


def new_api_key() -> tuple[str, str, str]:
    """``(key, prefix, hash)``: the key to show once, its public prefix, what is stored."""
    prefix = secrets.token_hex(4)
    key = f"o311_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())[:TRACKING_LENGTH * 2]


def client_fingerprint(address: str) -> str:
    """A keyed hash of a client's address: the same client is recognisable, the address is not kept."""
    return hmac.new(settings.SECRET_KEY.encode(), (address or "").encode(), hashlib.sha256).hexdigest()[:16]
