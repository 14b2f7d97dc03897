"""Secrets handed to people: action links, sign-in links, API tokens, sessions, CSRF.

Only a SHA-256 of a token is ever stored. Action-link tokens are derived as
HMAC(secret key, random salt) so the outbox can rebuild the link when the email is
built; a copy of the database alone does not yield a working link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from core.settings import secret_key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(32)


def derive_token(salt: str) -> str:
    """The 256-bit link token for a salt; unguessable without the secret key."""
    return _b64(hmac.new(secret_key(), b"action-link:" + salt.encode(), hashlib.sha256).digest())


def new_random_token(prefix: str = "") -> str:
    return prefix + _b64(secrets.token_bytes(32))


def csrf_token(binding: str) -> str:
    return _b64(hmac.new(secret_key(), b"csrf:" + binding.encode(), hashlib.sha256).digest())


def csrf_matches(binding: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(binding), presented or "")


def looks_like_token(raw: str) -> bool:
    """Cheap shape check so junk never reaches the database."""
    return 20 <= len(raw) <= 100 and all(c.isalnum() or c in "-_" for c in raw)


def sign(purpose: str, value: str) -> str:
    """`value` with an HMAC bound to `purpose`, for small values kept in the browser."""
    payload = _b64(value.encode())
    mac = _b64(hmac.new(secret_key(), f"{purpose}:{payload}".encode(), hashlib.sha256).digest())
    return f"{payload}.{mac}"


def unsign(purpose: str, signed: str | None) -> str | None:
    """The value `sign` wrapped, or None if it was altered, truncated or signed for another use."""
    payload, _, mac = (signed or "").partition(".")
    if not payload or not mac or len(signed or "") > 4096:
        return None
    good = _b64(hmac.new(secret_key(), f"{purpose}:{payload}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(good, mac):
        return None
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
