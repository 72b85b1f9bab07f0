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


@register.filter
def status_label(value):
    """A status code as the person reading it calls it ("Di instansi", not "assigned")."""
    from complaints.workflow import ComplaintStatus

    try:
        return ComplaintStatus(value).label
    except ValueError:
        return value
