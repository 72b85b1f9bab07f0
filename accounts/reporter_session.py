"""What a browser remembers of the complaints it reported: tracking codes, never secrets.

Opening a private link stores the complaint's tracking code in the session (the link's key was
checked against its SHA-256 and is not kept). Right after submitting, the reporter's own page
shows the private link once more: its key travels in a signed, short-lived cookie that only
that page reads, so the session table never holds it.
"""

from django.conf import settings

SESSION_REPORTER_CODES = "lapor_reporter_codes"
NEW_LINK_COOKIE = "lapor_new_link"
NEW_LINK_MAX_AGE = 3600
_MAX_CODES = 50


def reporter_codes(request) -> frozenset[str]:
    """Tracking codes whose private link (or submission) this browser has proven."""
    return frozenset(request.session.get(SESSION_REPORTER_CODES, []))


def reporter_remember(request, code: str) -> None:
    codes = request.session.get(SESSION_REPORTER_CODES, [])
    if code not in codes:
        request.session[SESSION_REPORTER_CODES] = [*codes, code][-_MAX_CODES:]


def new_link_set(response, *, code: str, access_key: str, path: str) -> None:
    """Hand the new private link's key to the page at ``path``, through the browser only."""
    response.set_signed_cookie(
        NEW_LINK_COOKIE,
        f"{code}:{access_key}",
        salt=NEW_LINK_COOKIE,
        max_age=NEW_LINK_MAX_AGE,
        path=path,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def new_link_key(request, code: str) -> str | None:
    value = request.get_signed_cookie(
        NEW_LINK_COOKIE, default=None, salt=NEW_LINK_COOKIE, max_age=NEW_LINK_MAX_AGE
    )
    if not value:
        return None
    cookie_code, _, key = value.partition(":")
    return key if cookie_code == code and key else None
