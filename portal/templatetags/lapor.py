from datetime import datetime

from django import template
from django.utils import timezone
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
def digest_lines(rows, site_url):
    """The staff digest's list of complaints, one line each ("- code — title: link"), built in
    one pass: as a template loop, 20,000 lines took the sweep about 0.15 s of its second."""
    return "".join(
        f"\n- {code} — {row['title']}: {site_url}/complaints/{code}/"
        for row in rows
        for code in (row["tracking_code"],)
    )


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


@register.simple_tag
def complaint_progress(complaint, now=None):
    """Where ``complaint`` stands (``complaints.workflow.complaint_progress``), for
    ``complaints/_progress.html``."""
    from complaints.workflow import complaint_progress as progress

    return progress(complaint, now=now or timezone.now())
