"""Session rules decided once at sign-in and kept in the session: staff or not, idle limit."""

import time

from django.conf import settings

from .selectors import user_is_staff

SESSION_STAFF = "lapor_staff"
SESSION_IDLE_SECONDS = "lapor_idle_seconds"
SESSION_LAST_SEEN = "lapor_last_seen"
# The last-seen time is written at most this often, so browsing does not write every request.
TOUCH_SECONDS = 60


def idle_seconds_for(*, is_staff: bool) -> int:
    minutes = settings.LAPOR_STAFF_IDLE_MINUTES if is_staff else settings.LAPOR_CITIZEN_IDLE_MINUTES
    return int(minutes) * 60


def session_rules_remember(request, user, *, is_staff: bool | None = None) -> None:
    if is_staff is None:
        is_staff = user_is_staff(user)
    idle = idle_seconds_for(is_staff=is_staff)
    request.session[SESSION_STAFF] = is_staff
    request.session[SESSION_IDLE_SECONDS] = idle
    request.session[SESSION_LAST_SEEN] = int(time.time())
    # The cookie and the stored session end with the idle limit too, renewed with each touch.
    request.session.set_expiry(idle)
