"""Tracking codes: short, random, easy to read aloud and type on a phone; private-link keys;
the signed token of the "is it fixed?" email."""

import hashlib
import secrets

from django.core import signing

# No 0/O, 1/I/L: nothing a citizen can misread or mistype.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "LPR"


def tracking_code_new() -> str:
    """E.g. ``LPR-7K3M-9Q2X``: 31^8 (about 8.5e11) codes, drawn by a CSPRNG, so not guessable."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}-{chars[:4]}-{chars[4:]}"


def tracking_code_normalise(raw: str) -> str:
    """What a citizen typed, as stored: upper case, spaces ignored, dashes put back."""
    cleaned = "".join(ch for ch in raw.upper() if ch.isalnum())
    if cleaned.startswith(PREFIX):
        cleaned = cleaned[len(PREFIX) :]
    if len(cleaned) != 8:
        return raw.strip().upper()[:20]
    return f"{PREFIX}-{cleaned[:4]}-{cleaned[4:]}"


def access_key_new() -> str:
    return secrets.token_urlsafe(24)


def access_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# The "is it fixed?" email: one signed token per resolution, for its two answers.
FIXED_CHECK_SALT = "complaints.fixed-check"


def fixed_check_token(*, tracking_code: str, resolved_event_id: int) -> str:
    """A token naming one resolution of one complaint (no expiry: what the complaint has done
    since decides whether an answer still counts)."""
    return signing.dumps([tracking_code, resolved_event_id], salt=FIXED_CHECK_SALT, compress=True)


def fixed_check_read(token: str) -> tuple[str, int] | None:
    """(tracking code, resolution event id) of a token, or None when it was not made here."""
    try:
        code, event_id = signing.loads(token, salt=FIXED_CHECK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(code, str) or not isinstance(event_id, int):
        return None
    return code, event_id


def supporter_email_hash(email: str) -> str:
    """How a supporter's address is kept: a digest, enough to count them once."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()
