"""Signed webhooks: the sender proves it holds the shared secret and that the call is fresh.

The signature is HMAC-SHA256, keyed with the secret, over ``<timestamp>.<body>`` (the Unix time
in seconds as ASCII, a dot, the raw body bytes), sent as ``X-Lapor-Signature: sha256=<hex>``
with ``X-Lapor-Timestamp: <timestamp>``. A call older or newer than ``TOLERANCE_SECONDS`` is
refused, so a captured call cannot be replayed later.
"""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Lapor-Signature"
TIMESTAMP_HEADER = "X-Lapor-Timestamp"


def signature_for(secret: str, body: bytes, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_valid(
    *, secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None
) -> bool:
    """True when ``signature`` is the secret's over this body and a fresh ``timestamp``; False
    without a secret (a webhook with no secret configured accepts nothing)."""
    if not secret or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature_for(secret, body, timestamp), signature or "")
