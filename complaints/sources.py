"""Source links of complaints staff found online, in one canonical form.

The same Facebook post or news article is often shared with tracking parameters or a fragment;
stored in canonical form, "was this entered already?" is one indexed equality lookup.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only say how a link was shared, never which page it is.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "igshid", "mibextid", "ref", "ref_src", "s", "si", "_rdr", "rdid"}
)


def source_url_normalise(url: str) -> str:
    """Lower-case scheme and host, no "www.", fragment, tracking parameters or trailing slash."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
    if parts.port:
        host = f"{host}:{parts.port}"
    query = urlencode(
        sorted(
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key.lower() not in TRACKING_PARAMS and not key.lower().startswith("utm_")
        )
    )
    path = parts.path.rstrip("/") or ""
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))
