from datetime import datetime

from django import template

register = template.Library()


@register.filter
def isodatetime(value):
    """An ISO 8601 string from an event's data, as a datetime the date filter can format."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
