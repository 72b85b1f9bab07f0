"""CSV export of a filtered staff queue: streamed, spreadsheet-safe, scoped, anonim respected.

Rows are read with a server-side cursor in chunks (``iterator``) and written as they come, so
100,000 rows take no more memory than a few thousand. Names of categories, regions and agencies
come from small dictionaries read once, not from joins or per-row queries.
"""

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Category, Region
from complaints.models import Channel, Classification
from complaints.workflow import ComplaintStatus
from lapor.spreadsheet import safe_writer

from .common import staff_scope_or_403
from .queue import queue_filterset, render_queue
from .selectors import queue_rows

CHUNK_SIZE = 2000
BOM = "\ufeff"

COLUMNS = (
    "tracking_code",
    "created_at",
    "channel",
    "classification",
    "category_id",
    "region_id",
    "assigned_agency_id",
    "status",
    "is_overdue",
    "next_due",
    "first_follow_up_at",
    "resolved_at",
    "rating",
    "title",
    "description",
    "district",
    "address",
    "is_anonymous",
    "is_confidential",
    "source_url",
    "source_name",
)


def _local(value) -> str:
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


class _Echo:
    """A file-like object for csv.writer that hands each written line back."""

    def write(self, value):
        return value


def _header() -> list[str]:
    return [
        _("Tracking code"),
        _("Received (WITA)"),
        _("Channel"),
        _("Type"),
        _("Category"),
        _("Regency/city"),
        _("Agency"),
        _("Status"),
        _("Overdue"),
        _("Next deadline (WITA)"),
        _("First follow-up (WITA)"),
        _("Resolved (WITA)"),
        _("Rating"),
        _("Title"),
        _("Description"),
        _("District (kecamatan)"),
        _("Location"),
        _("Anonymous"),
        _("Confidential"),
        _("Source link"),
        _("Publication"),
    ]


def export_lines(queryset):
    """CSV lines (the first with a BOM) of ``queryset``, read in chunks."""
    categories = {c.pk: c.name for c in Category.objects.all()}
    regions = dict(Region.objects.values_list("pk", "name"))
    agencies = dict(Agency.objects.values_list("pk", "name"))
    channels = dict(Channel.choices)
    classifications = dict(Classification.choices)
    statuses = dict(ComplaintStatus.choices)
    yes, no = _("yes"), _("no")
    writer = safe_writer(_Echo())
    yield BOM + writer.writerow(_header())
    rows = queryset.values_list(*COLUMNS).iterator(chunk_size=CHUNK_SIZE)
    batch = []
    for (
        code,
        created_at,
        channel,
        classification,
        category_id,
        region_id,
        agency_id,
        status,
        is_overdue,
        next_due,
        first_follow_up_at,
        resolved_at,
        rating,
        title,
        description,
        district,
        address,
        anonymous,
        confidential,
        source_url,
        source_name,
    ) in rows:
        cells = (
            code,
            _local(created_at),
            channels.get(channel, channel),
            classifications.get(classification, classification),
            categories.get(category_id, ""),
            regions.get(region_id, ""),
            agencies.get(agency_id, ""),
            statuses.get(status, status),
            yes if is_overdue else no,
            _local(next_due),
            _local(first_follow_up_at),
            _local(resolved_at),
            rating or "",
            title,
            description,
            district,
            address,
            yes if anonymous else no,
            yes if confidential else no,
            source_url,
            source_name,
        )
        batch.append(writer.writerow(cells))
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


@login_required
def queue_export(request):
    """The filtered queue as CSV, with the same filters (and the same 404s) as the page."""
    scope = staff_scope_or_403(request)
    now = timezone.now()
    filterset = queue_filterset(request, now=now)
    if not filterset.is_valid():
        return render_queue(request, filterset, scope=scope, now=now)
    queryset = queue_rows(filterset.qs, sort=filterset.sort_value, now=now)
    response = StreamingHttpResponse(export_lines(queryset), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="lapor-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
