"""Template helpers for the staff workspace."""

from django import template

from portal.templatetags.lapor import time_left

register = template.Library()

# The time to a deadline in words, shared with the public pages' library.
register.simple_tag(time_left)


@register.filter
def channel_label(value):
    """A channel code as words ("Media sosial"), for the timeline's first event."""
    from complaints.models import Channel

    try:
        return Channel(value).label
    except ValueError:
        return ""
