"""Template helpers for the staff workspace."""

from django import template
from django.utils.translation import ngettext

register = template.Library()

HOUR, DAY = 3600, 86400


@register.simple_tag
def time_left(due, now):
    """The time to a deadline in words: "sisa 5 jam", "terlambat 2 hari"; empty when none."""
    if due is None or now is None:
        return ""
    seconds = (due - now).total_seconds()
    late, seconds = seconds < 0, abs(seconds)
    if seconds >= DAY:
        n = int(seconds // DAY)
        if late:
            return ngettext("%(n)d day late", "%(n)d days late", n) % {"n": n}
        return ngettext("%(n)d day left", "%(n)d days left", n) % {"n": n}
    if seconds >= HOUR:
        n = int(seconds // HOUR)
        if late:
            return ngettext("%(n)d hour late", "%(n)d hours late", n) % {"n": n}
        return ngettext("%(n)d hour left", "%(n)d hours left", n) % {"n": n}
    n = max(1, int(seconds // 60))
    if late:
        return ngettext("%(n)d minute late", "%(n)d minutes late", n) % {"n": n}
    return ngettext("%(n)d minute left", "%(n)d minutes left", n) % {"n": n}


@register.filter
def channel_label(value):
    """A channel code as words ("Media sosial"), for the timeline's first event."""
    from complaints.models import Channel

    try:
        return Channel(value).label
    except ValueError:
        return ""
