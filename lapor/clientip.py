"""The one answer to "which address did this request come from", for every limiter.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy's own address, so every citizen would share
one rate-limit bucket and one failed login would count against all of them. The proxy passes
the client's address in a header; only the entries that our own proxies appended can be
trusted (anything to their left was written by the client and may be forged). Both
django-ratelimit (``RATELIMIT_IP_META_KEY``) and django-axes (``AXES_CLIENT_IP_CALLABLE``)
call :func:`client_ip`, so the submission limit and the login lock-out see the same address.
"""

import ipaddress

from django.conf import settings


def _header_meta_key(header: str) -> str:
    return "HTTP_" + header.strip().upper().replace("-", "_")


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or the configured proxy header when set.

    ``LAPOR_CLIENT_IP_HEADER`` names the header (e.g. ``X-Forwarded-For`` or ``X-Real-IP``);
    ``LAPOR_TRUSTED_PROXIES`` says how many proxies of ours each append one address to it.
    The client is the address that the outermost of them appended: the N-th from the right.
    A header that is missing, shorter than that or malformed is not trusted, and the
    connection's own address is used instead.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    header = getattr(settings, "LAPOR_CLIENT_IP_HEADER", "")
    if not header:
        return remote
    value = request.META.get(_header_meta_key(header), "")
    hops = [part.strip() for part in value.split(",") if part.strip()]
    trusted = max(1, int(getattr(settings, "LAPOR_TRUSTED_PROXIES", 1)))
    if len(hops) < trusted:
        return remote
    return _valid(hops[-trusted]) or remote
