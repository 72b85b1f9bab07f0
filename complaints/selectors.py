"""Reads for complaints: lists, figures, timelines. Every query starts from
``complaints.scope.complaints_for`` and states its joins."""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Floor
from django.utils import timezone

from agencies.models import Region
from agencies.selectors import staff_scope_for

from .codes import supporter_email_hash
from .models import (
    Assignment,
    Attachment,
    Complaint,
    ComplaintEvent,
    ContactView,
    DeadlineBreach,
    Follow,
    ResponseTemplate,
    Support,
    TallyLive,
)
from .pagination import (
    MOST_SUPPORTED_FIRST,
    NEWEST_FIRST,
    OLDEST_FIRST,
    Keys,
    KeysetPage,
    keyset_page,
    ordering,
)
from .querysets import URGENCY, ComplaintQuerySet
from .scope import Purpose, complaints_for, counts_scope_q
from .workflow import HANDLERS, ComplaintStatus

if TYPE_CHECKING:
    from lapor.types import AnyUser

S = ComplaintStatus

LIST_RELATED = ("category", "region", "assigned_agency")

# The staff queue's orders, as the pager's keys (``complaints.pagination``): the same on the
# officer's overview, the work queue, its CSV export and the API's staff queue.
QUEUE_ORDERINGS: dict[str, Keys] = {
    "urgency": URGENCY,
    "newest": NEWEST_FIRST,
    "oldest": OLDEST_FIRST,
    "supporters": MOST_SUPPORTED_FIRST,
}


def queue_keys(sort: str) -> Keys:
    return QUEUE_ORDERINGS.get(sort, QUEUE_ORDERINGS["urgency"])


def queue_rows(queryset: ComplaintQuerySet, *, sort: str, now: datetime) -> ComplaintQuerySet:
    """The rows of a (scoped, filtered) staff queue in a stable order (``queue_keys``), with
    what each row shows (``is_overdue``, ``next_due``, category, region, agency)."""
    return (
        queryset.with_overdue(now)
        .with_next_due()
        .select_related(*LIST_RELATED)
        .order_by(*ordering(queue_keys(sort)))
    )


def queue_page(
    queryset: ComplaintQuerySet,
    *,
    sort: str,
    now: datetime,
    after: str | None = None,
    before: str | None = None,
    size: int,
) -> KeysetPage:
    """One page of a staff queue (``queue_rows``) after or before a signed cursor: the HTML
    queue's pager, for callers that are not a page (the API)."""
    rows = queue_rows(queryset, sort=sort, now=now)
    return keyset_page(rows, keys=queue_keys(sort), after=after, before=before, size=size)


def complaints_public_list() -> ComplaintQuerySet:
    return (
        complaints_for(None, purpose=Purpose.PUBLIC)
        .with_overdue()
        .select_related(*LIST_RELATED)
        .order_by("-created_at")
    )


def complaints_recent_public(limit: int = 5) -> list[Complaint]:
    return list(complaints_public_list()[:limit])


FEED_SIZE = 50


def complaints_feed(
    *, region: Any = None, category: Any = None, agency: Any = None, limit: int = FEED_SIZE
) -> list[Complaint]:
    """The newest public complaints of a regency, a category or an agency (the Atom feeds):
    never rahasia, archived or unrouted ones (``Purpose.PUBLIC``)."""
    qs = complaints_for(None, purpose=Purpose.PUBLIC).select_related(*LIST_RELATED)
    if region is not None:
        qs = qs.filter(region=region)
    if category is not None:
        qs = qs.filter(category=category)
    if agency is not None:
        qs = qs.filter(assigned_agency=agency)
    return list(qs.order_by("-created_at", "-pk")[:limit])


def complaints_new_public(
    *, region_id: int, category_id: int | None, since: datetime, until: datetime
) -> list[Complaint]:
    """Public complaints of a regency (and category) that became public in ``[since, until)``
    (first given to an agency: a complaint is public from then), oldest first: an area alert's
    digest. A complaint re-routed later is not new again."""
    first_assigned = (
        Assignment.objects.filter(complaint=OuterRef("pk"))
        .order_by("assigned_at")
        .values("assigned_at")[:1]
    )
    qs = (
        complaints_for(None, purpose=Purpose.PUBLIC)
        .filter(region_id=region_id, assigned_at__gte=since)
        .annotate(first_public_at=Subquery(first_assigned))
        .filter(first_public_at__gte=since, first_public_at__lt=until)
    )
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    return list(qs.select_related(*LIST_RELATED).order_by("first_public_at", "pk"))


def follows_of(addresses: Iterable[str]) -> list[Follow]:
    """Every follow (confirmed or not) of these email addresses: part of "my data"."""
    wanted = sorted({a.strip().lower() for a in addresses if a and a.strip()})
    if not wanted:
        return []
    return list(
        Follow.objects.filter(email__in=wanted)
        .select_related("complaint", "region", "category")
        .order_by("created_at", "pk")
    )


def complaint_figures(*, now: datetime | None = None) -> dict[str, int]:
    """Live figures for the home page: received this year, followed up, overdue now.

    Counted over complaints the public may know exist (``Purpose.PUBLIC``), so rahasia ones add
    nothing to any drill-down; archived and not yet routed ones are not counted either. "Overdue
    now" counts every public complaint overdue at this moment, whatever year it came in. Read
    from the tally (docs/figures.md) and the deadline indexes: no scan of the complaints.
    """
    now = now or timezone.now()
    this_year = _tally("complaint", None, Purpose.PUBLIC, since=year_start(now))
    figures = this_year.aggregate(
        received=Sum("n"), followed_up=Sum("n", filter=Q(followed_up=True))
    )
    overdue = overdue_counts(None, purpose=Purpose.PUBLIC, now=now)
    assert isinstance(overdue, int)  # without ``by``: one number
    return {
        "received": figures["received"] or 0,
        "followed_up": figures["followed_up"] or 0,
        "overdue": overdue,
    }


def year_start(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now()).replace(month=1, day=1)


def _tally(
    subject: str,
    user: "AnyUser | None",
    purpose: Purpose,
    *,
    region_ids: Iterable[int] | None = None,
    agency_ids: Iterable[int] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[TallyLive]:
    qs = TallyLive.objects.filter(counts_scope_q(user, purpose=purpose), subject=subject)
    if region_ids is not None:
        qs = qs.filter(region_id__in=list(region_ids))
    if agency_ids is not None:
        qs = qs.filter(agency_id__in=list(agency_ids))
    if since is not None:
        qs = qs.filter(month__gte=since.replace(day=1))
    if until is not None:
        qs = qs.filter(month__lt=until)
    return qs


def _sum(qs: QuerySet[TallyLive], by: str | None) -> int | dict[Any, int]:
    if by is None:
        return qs.aggregate(n=Sum("n"))["n"] or 0
    rows = qs.order_by().values_list(by).annotate(total=Sum("n"))
    return {key: total for key, total in rows if total}


def complaint_counts(
    user: "AnyUser | None" = None,
    *,
    purpose: Purpose = Purpose.PUBLIC,
    by: str | None = None,
    region_ids: Iterable[int] | None = None,
    agency_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    followed_up: bool | None = None,
) -> int | dict[Any, int]:
    """How many complaints ``user`` may count for ``purpose`` (``PUBLIC`` or ``WORK``, the same
    scope as ``complaints_for``), exactly, from the tally: one number, or ``{key: n}`` ``by``
    ``"region_id"``, ``"agency_id"`` (0: none yet), ``"status"`` or ``"month"``.

    ``since``/``until`` bound the local month of submission (``since`` the first of a month or
    of a year to be exact; ``until`` a first of a month, excluded).
    """
    qs = _tally(
        "complaint",
        user,
        purpose,
        region_ids=region_ids,
        agency_ids=agency_ids,
        since=since,
        until=until,
    )
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    if followed_up is not None:
        qs = qs.filter(followed_up=followed_up)
    return _sum(qs, by)


def breach_counts(
    user: "AnyUser | None",
    *,
    by: str | None = None,
    region_ids: Iterable[int] | None = None,
    agency_ids: Iterable[int] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> int | dict[Any, int]:
    """Deadline breaches recorded in ``user``'s work scope (by local month of ``recorded_at``),
    like ``complaint_counts``; ``by="status"`` groups by breach kind. A breach stays with the
    agency and region it was recorded against, after a re-routing too."""
    qs = _tally(
        "breach",
        user,
        Purpose.WORK,
        region_ids=region_ids,
        agency_ids=agency_ids,
        since=since,
        until=until,
    )
    return _sum(qs, by)


def overdue_counts(
    user: "AnyUser | None" = None,
    *,
    purpose: Purpose = Purpose.PUBLIC,
    by: str | None = None,
    region_ids: Iterable[int] | None = None,
    agency_ids: Iterable[int] | None = None,
    triage: bool = True,
    now: datetime | None = None,
) -> int | dict[Any, int]:
    """Complaints within ``complaints_for(user, purpose)`` overdue at ``now`` (no follow-up, or
    with ``triage`` no verification, in time), of any year.

    Time alone makes a complaint overdue, so this is counted live, from the two partial deadline
    indexes that cover it (``by``: ``"region_id"`` or ``"assigned_agency_id"``).
    """
    now = now or timezone.now()
    count = 0
    by_key: dict[Any, int] = {}
    branches = [(S.ASSIGNED, "follow_up_due_at")]
    if triage:
        branches.append((S.TRIAGE, "triage_due_at"))
    for status, due in branches:
        qs = complaints_for(user, purpose=purpose).filter(status=status, **{f"{due}__lt": now})
        if region_ids is not None:
            qs = qs.filter(region_id__in=list(region_ids))
        if agency_ids is not None:
            qs = qs.filter(assigned_agency_id__in=list(agency_ids))
        if by is None:
            count += qs.count()
        else:
            for key, n in qs.order_by().values_list(by).annotate(n=Count("pk")):
                by_key[key] = by_key.get(key, 0) + n
    return count if by is None else by_key


def complaint_for_detail(
    *, tracking_code: str, user: "AnyUser | None", reporter_codes: frozenset[str]
) -> Complaint | None:
    """The complaint with its timeline, or None when this visitor may not see it."""
    return (
        complaints_for(user, purpose=Purpose.SEE, reporter_codes=reporter_codes)
        .with_overdue()
        .select_related(*LIST_RELATED, "reporter", "duplicate_of")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=ComplaintEvent.objects.select_related(
                    "from_agency", "to_agency"
                ).prefetch_related("attachments"),
            ),
            Prefetch("attachments", queryset=Attachment.objects.filter(event__kind="submitted")),
        )
        .filter(tracking_code=tracking_code)
        .first()
    )


def complaints_of_reporter(user: "AnyUser | None") -> ComplaintQuerySet:
    return (
        complaints_for(user, purpose=Purpose.OWN)
        .with_overdue()
        .select_related(*LIST_RELATED)
        .order_by("-created_at")
    )


def complaints_claimable(user: "AnyUser | None") -> list[Complaint]:
    """Guest complaints sent with ``user``'s confirmed address, newest first (code and title)."""
    return list(
        complaints_for(user, purpose=Purpose.CLAIM)
        .only("pk", "tracking_code", "title", "created_at")
        .order_by("-created_at")
    )


def complaint_claimable(*, tracking_code: str, reporter_codes: frozenset[str]) -> Complaint | None:
    """A guest complaint (no account yet) whose private link this browser has opened."""
    return (
        complaints_for(None, purpose=Purpose.OWN, reporter_codes=reporter_codes)
        .filter(tracking_code=tracking_code, reporter__isnull=True)
        .first()
    )


def breached_q() -> Q:
    """Missed a deadline at some time (recorded by the sweep or at re-routing)."""
    return Q(Exists(DeadlineBreach.objects.filter(complaint_id=OuterRef("pk"))))


def attachment_visible(*, pk: int, user, reporter_codes: frozenset[str]):
    """An attachment, or None unless this visitor may see its complaint and it is not part of
    an internal note."""
    attachment = Attachment.objects.select_related("event").filter(pk=pk).first()
    if attachment is None or (attachment.event and attachment.event.is_internal):
        return None
    visible = complaints_for(user, purpose=Purpose.SEE, reporter_codes=reporter_codes).filter(
        pk=attachment.complaint_id
    )
    return attachment if visible.exists() else None


def attachment_in_work(*, pk: int, tracking_code: str, user) -> Attachment | None:
    """An attachment of a complaint in ``user``'s work set (staff), with its complaint; None
    when there is no such attachment or the complaint is not theirs."""
    complaint = (
        complaints_for(user, purpose=Purpose.WORK).filter(tracking_code=tracking_code).first()
    )
    if complaint is None:
        return None
    attachment = Attachment.objects.filter(pk=pk, complaint=complaint).first()
    if attachment is not None:
        attachment.complaint = complaint
    return attachment


def complaints_public_with_latest_note():
    """Public complaints, newest first, each with the handlers' latest public note
    (``status_note``) and its first submitted photo (``media_id``): Open311's requests."""
    notes = (
        ComplaintEvent.objects.filter(
            complaint=OuterRef("pk"), is_internal=False, actor_role__in=HANDLERS
        )
        .exclude(note="")
        .order_by("-created_at", "-pk")
        .values("note")[:1]
    )
    media = (
        Attachment.objects.filter(
            complaint=OuterRef("pk"), event__kind="submitted", content_type__startswith="image/"
        )
        .order_by("pk")
        .values("pk")[:1]
    )
    return (
        complaints_for(None, purpose=Purpose.PUBLIC)
        .select_related(*LIST_RELATED)
        .annotate(status_note=Subquery(notes), media_id=Subquery(media))
        .order_by("-created_at", "-pk")
    )


def attachments_submitted() -> Prefetch:
    """A complaint's own attachments (those sent with it), to prefetch with a scoped list."""
    return Prefetch("attachments", queryset=Attachment.objects.filter(event__kind="submitted"))


def complaint_timeline(complaint, *, with_internal: bool):
    """The events of a complaint the caller may already see, oldest first; internal notes
    only for the staff who handle it."""
    events = (
        ComplaintEvent.objects.filter(complaint=complaint)
        .select_related("from_agency", "to_agency")
        .prefetch_related("attachments")
    )
    return events if with_internal else events.filter(is_internal=False)


@dataclass(frozen=True)
class BeforeAfter:
    """The photos sent with a complaint and those its resolution carried."""

    before: list[Attachment]
    after: list[Attachment]


def photos_before_after(complaint: Complaint) -> BeforeAfter | None:
    """For a complaint fetched by ``complaint_for_detail`` (its prefetched attachments and
    events): the submitted photos and the photos of its latest resolution, while it stands
    resolved or closed. None for a rahasia complaint (never shown side by side, to anyone) and
    when there is no "after" photo."""
    if complaint.is_confidential or complaint.status not in (S.RESOLVED, S.CLOSED):
        return None
    resolutions = [e for e in complaint.events.all() if e.kind == "resolved" and not e.is_internal]
    if not resolutions:
        return None
    latest = max(resolutions, key=lambda e: (e.created_at, e.pk))
    after = [a for a in latest.attachments.all() if a.is_image]
    if not after:
        return None
    return BeforeAfter(before=[a for a in complaint.attachments.all() if a.is_image], after=after)


# -- "Is it fixed?" ------------------------------------------------------------------------


class FixedState:
    OPEN = "open"  # the question stands: an answer counts
    ANSWERED = "answered"  # this question was answered already
    MOVED_ON = "moved_on"  # the complaint was resolved again, reopened, rated or closed since
    UNKNOWN = "unknown"  # no such complaint (a forged or mangled link, or it was deleted)


@dataclass(frozen=True)
class FixedCheck:
    state: str
    complaint: Complaint | None = None
    answer: str = ""  # for ANSWERED: "fixed" or "not_fixed"
    answered_at: datetime | None = None
    done: bool = False  # the service has just recorded this answer


def fixed_check_state(
    *, tracking_code: str, resolved_event_id: int, lock: bool = False
) -> FixedCheck:
    """Whether the "is it fixed?" question about one resolution may still be answered.

    The signed link proves its holder is the reporter (the email went to them), as the private
    link does: the complaint is read as theirs (``Purpose.OWN`` with its code). ``lock``: lock
    its row (the service, inside its transaction).
    """
    own = complaints_for(None, purpose=Purpose.OWN, reporter_codes=frozenset({tracking_code}))
    if lock:
        own = own.select_for_update()
    complaint = own.first()
    if complaint is None:
        return FixedCheck(FixedState.UNKNOWN)
    answer = (
        ComplaintEvent.objects.filter(complaint=complaint, data__answer_to=resolved_event_id)
        .order_by("created_at", "pk")
        .first()
    )
    if answer is not None:
        return FixedCheck(
            FixedState.ANSWERED,
            complaint,
            answer="not_fixed" if answer.kind == "reopened" else "fixed",
            answered_at=answer.created_at,
        )
    latest = (
        ComplaintEvent.objects.filter(complaint=complaint, kind="resolved")
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if complaint.status != S.RESOLVED or latest != resolved_event_id:
        return FixedCheck(FixedState.MOVED_ON, complaint)
    return FixedCheck(FixedState.OPEN, complaint)


# -- The public map -------------------------------------------------------------------------

# From this zoom on the map shows single complaints (at most MAP_MARKER_LIMIT, newest first);
# below it, counts per grid cell.
MAP_MARKER_ZOOM = 15
MAP_MARKER_LIMIT = 300
MAP_ZOOM_RANGE = (1, 19)


def complaints_map():
    """Public complaints with a pin: what the map, "similar nearby" and the open data's points
    are drawn from (never rahasia: ``Purpose.PUBLIC``; read by ``complaint_map_idx``)."""
    return complaints_for(None, purpose=Purpose.PUBLIC).filter(latitude__isnull=False)


def map_cell_step(zoom: int) -> Decimal:
    """The grid's cell size in degrees at ``zoom``: a quarter of a 256-pixel map tile (about
    64 pixels), exact as a decimal because it is 90 / 2**zoom."""
    return Decimal(90) / Decimal(2**zoom)


@dataclass
class MapCell:
    latitude: float
    longitude: float
    count: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _in_box(qs, box):
    south, west, north, east = box
    return qs.filter(
        latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
    )


def map_cells(qs, *, box: tuple, zoom: int) -> list[MapCell]:
    """Counts per grid cell and status of ``qs`` (``complaints_map()`` narrowed by the page's
    filters) inside ``box`` (south, west, north, east): one ``GROUP BY`` in the database, at
    most a few hundred rows whatever the number of complaints. A cell sits at the mean of its
    points."""
    step = map_cell_step(zoom)
    rows = (
        _in_box(qs, box)
        .order_by()
        .annotate(
            cell_y=Floor(F("latitude") / Value(step)), cell_x=Floor(F("longitude") / Value(step))
        )
        .values("cell_y", "cell_x", "status")
        .annotate(n=Count("pk"), lat=Avg("latitude"), lon=Avg("longitude"))
    )
    cells: dict[tuple, MapCell] = {}
    sums: dict[tuple, list[float]] = {}
    for row in rows:
        key = (row["cell_y"], row["cell_x"])
        cell = cells.setdefault(key, MapCell(0.0, 0.0))
        cell.count += row["n"]
        cell.by_status[row["status"]] = cell.by_status.get(row["status"], 0) + row["n"]
        acc = sums.setdefault(key, [0.0, 0.0])
        acc[0] += float(row["lat"]) * row["n"]
        acc[1] += float(row["lon"]) * row["n"]
    for key, cell in cells.items():
        cell.latitude = round(sums[key][0] / cell.count, 6)
        cell.longitude = round(sums[key][1] / cell.count, 6)
    return sorted(cells.values(), key=lambda c: -c.count)


def map_markers(qs, *, box: tuple, limit: int = MAP_MARKER_LIMIT) -> list[dict]:
    """Single complaints in ``box``, newest first, at most ``limit``: only what a marker shows
    (no reporter, no description)."""
    return list(
        _in_box(qs, box)
        .order_by("-created_at", "-pk")
        .values("tracking_code", "title", "status", "latitude", "longitude", "supporter_count")[
            :limit
        ]
    )


def map_region_counts(qs) -> list[dict]:
    """Per regency and status, the complaints of ``qs`` (the map's list without tiles)."""
    rows = qs.order_by().values("region_id", "status").annotate(n=Count("pk"))
    regions = {r.pk: r for r in Region.objects.order_by("code")}
    table: dict[int, dict] = {}
    for row in rows:
        entry = table.setdefault(
            row["region_id"],
            {"region": regions.get(row["region_id"]), "count": 0, "by_status": {}},
        )
        entry["count"] += row["n"]
        entry["by_status"][row["status"]] = row["n"]
    return sorted(table.values(), key=lambda e: e["region"].code if e["region"] else "")


# -- "Similar nearby" while filing ------------------------------------------------------------

SIMILAR_RADIUS_M = 300
SIMILAR_DAYS = 60
SIMILAR_LIMIT = 10
SIMILAR_STATUSES = (S.ASSIGNED, S.IN_PROGRESS)
_METRES_PER_DEGREE = 111_320


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lon1, lat2, lon2 = (math.radians(float(v)) for v in (lat1, lon1, lat2, lon2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def complaints_similar_nearby(
    *,
    category,
    latitude=None,
    longitude=None,
    region=None,
    district: str = "",
    now=None,
    limit: int = SIMILAR_LIMIT,
) -> list:
    """Open public complaints of ``category`` from the last ``SIMILAR_DAYS`` days, within
    ``SIMILAR_RADIUS_M`` of the pin (nearest first, each with ``distance_m``), or without a
    pin in the same ``region`` and ``district`` (newest first). Empty without enough to go by.
    """
    now = now or timezone.now()
    qs = (
        complaints_for(None, purpose=Purpose.PUBLIC)
        .filter(
            category=category,
            status__in=SIMILAR_STATUSES,
            created_at__gte=now - timedelta(days=SIMILAR_DAYS),
        )
        .select_related(*LIST_RELATED)
    )
    if latitude is not None and longitude is not None:
        dlat = SIMILAR_RADIUS_M / _METRES_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians(float(latitude))), 0.01)
        lat, lon = float(latitude), float(longitude)
        box = (
            Decimal(f"{lat - dlat:.6f}"),
            Decimal(f"{lon - dlon:.6f}"),
            Decimal(f"{lat + dlat:.6f}"),
            Decimal(f"{lon + dlon:.6f}"),
        )
        found = []
        for complaint in _in_box(qs, box).order_by("-created_at")[: limit * 5]:
            complaint.distance_m = distance_m(lat, lon, complaint.latitude, complaint.longitude)
            if complaint.distance_m <= SIMILAR_RADIUS_M:
                found.append(complaint)
        return sorted(found, key=lambda c: c.distance_m)[:limit]
    if region is not None and district.strip():
        return list(
            qs.filter(region=region, district__iexact=district.strip()).order_by("-created_at")[
                :limit
            ]
        )
    return []


# -- Open data ---------------------------------------------------------------------------------

OPEN_DATA_FIELDS = (
    "tracking_code",
    "title",
    "classification",
    "category__code",
    "category__name_id",
    "region__code",
    "region__name",
    "district",
    "status",
    "assigned_agency__name",
    "latitude",
    "longitude",
    "supporter_count",
    "created_at",
    "resolved_at",
    "closed_at",
)


def complaints_open_data():
    """Public complaints for the downloads, oldest first, as plain rows of ``OPEN_DATA_FIELDS``:
    nothing about the reporter, no free text but the title."""
    return complaints_for(None, purpose=Purpose.PUBLIC).order_by("created_at", "pk")


def open_data_rows(qs):
    return qs.order_by("created_at", "pk").values(*OPEN_DATA_FIELDS).iterator(chunk_size=2000)


def contact_views_of(complaint) -> list:
    """Who was shown the complaint's reporter contact, newest first (the staff page)."""
    return list(ContactView.objects.filter(complaint=complaint).select_related("viewer"))


def personal_data_of(user, *, reporter_codes: frozenset[str]) -> dict:
    """Everything held about the visitor as a reporter (the right of access): their complaints
    (by account, or by private links proven in this browser), the events of those they may see,
    their contact as given, their attachments (as everyone but the handling staff sees them:
    redacted where redacted), the emails sent to them about those complaints and their
    supports. Nothing about anyone else: no internal events or notes' files, no staff names, no
    other recipients."""
    from notifications.models import Notification

    own = list(
        complaints_for(user, purpose=Purpose.OWN, reporter_codes=reporter_codes)
        .select_related(*LIST_RELATED)
        .order_by("created_at", "pk")
    )
    account = user.email.lower() if user is not None and user.is_authenticated else ""
    addresses = {c.reporter_email.lower() for c in own if c.reporter_email} | (
        {account} if account else set()
    )
    events: dict[int, list[ComplaintEvent]] = {}
    for event in ComplaintEvent.objects.filter(complaint__in=own, is_internal=False).order_by(
        "created_at", "pk"
    ):
        events.setdefault(event.complaint_id, []).append(event)
    files: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(complaint__in=own).exclude(event__is_internal=True):
        files.setdefault(attachment.complaint_id, []).append(attachment)
    for complaint in own:
        complaint.held_events = events.get(complaint.pk, [])
        complaint.held_attachments = files.get(complaint.pk, [])
    mails = [
        n
        for n in Notification.objects.filter(complaint__in=own).order_by("created_at", "pk")
        if n.recipient and n.recipient.lower() in addresses
    ]
    return {
        "own": own,
        "events": events,
        "notifications": mails,
        "account": user,
        "follows": follows_of(addresses),
        "addresses": addresses,
        "supports": _supports_of(user, addresses, reporter_codes=reporter_codes),
    }


def _supports_of(user, addresses: set[str], *, reporter_codes: frozenset[str]) -> list[dict]:
    """The "me too"s given by the visitor's account or one of their proven addresses: when,
    and which complaint (its code only while the visitor may still open it)."""
    who = Q(email_hash__in=[supporter_email_hash(a) for a in addresses])
    if user is not None and user.is_authenticated:
        who |= Q(user=user)
    rows = list(Support.objects.filter(who).order_by("created_at", "pk"))
    codes = dict(
        complaints_for(user, purpose=Purpose.SEE, reporter_codes=reporter_codes)
        .filter(pk__in=[r.complaint_id for r in rows])
        .values_list("pk", "tracking_code")
    )
    return [{"at": r.created_at, "complaint": codes.get(r.complaint_id)} for r in rows]


# --- response templates ------------------------------------------------------------------------


def response_templates_for(
    complaint: Complaint, *, actions: Iterable[str]
) -> list[ResponseTemplate]:
    """The templates offered on ``complaint`` for ``actions`` (what its viewer may do now): the
    province's, those of the agency handling it and of its regency or city, for its category or
    for any."""
    owner = Q(agency__isnull=True, region__isnull=True) | Q(region_id=complaint.region_id)
    if complaint.assigned_agency_id:
        owner |= Q(agency_id=complaint.assigned_agency_id)
    return list(
        ResponseTemplate.objects.filter(owner, action__in=list(actions))
        .filter(Q(category__isnull=True) | Q(category_id=complaint.category_id))
        .order_by("action", "title", "pk")
    )


def response_templates_managed_by(user: "AnyUser | None") -> QuerySet[ResponseTemplate]:
    """The templates ``user`` may change: all for provincial staff; else their agencies' and
    their regions' (coordinators)."""
    scope = staff_scope_for(user)
    qs = ResponseTemplate.objects.select_related("agency", "region", "category")
    if scope.is_province:
        return qs
    return qs.filter(Q(agency_id__in=scope.agency_ids) | Q(region_id__in=scope.region_ids))


NATIONAL_RELATED = ("category", "region", "assigned_agency__region")


def complaints_national_export(
    user: "AnyUser | None", *, since: datetime, until: datetime
) -> ComplaintQuerySet:
    """The complaints of ``user``'s work set new or changed in (``since``, ``until``], oldest
    change first: what goes to SP4N-LAPOR! (``complaints.national``)."""
    return (
        complaints_for(user, purpose=Purpose.WORK)
        .filter(updated_at__gt=since, updated_at__lte=until)
        .select_related(*NATIONAL_RELATED)
        .order_by("updated_at", "pk")
    )


def complaints_national_match(
    user: "AnyUser | None", *, codes: Iterable[str], numbers: Iterable[str]
) -> tuple[dict[str, Complaint], dict[str, Complaint]]:
    """The complaints of ``user``'s work set with these tracking codes or national numbers:
    (by code, by national number)."""
    codes, numbers = set(codes), {n for n in numbers if n}
    found = list(
        complaints_for(user, purpose=Purpose.WORK)
        .filter(Q(tracking_code__in=codes) | Q(national_number__in=numbers))
        .select_related(*NATIONAL_RELATED)
    )
    by_code = {c.tracking_code: c for c in found}
    by_number = {c.national_number: c for c in found if c.national_number}
    return by_code, by_number


def complaint_for_mail_reply(tracking_code: str) -> Complaint | None:
    """The complaint a mail's subject names, for threading a reply (the caller checks that the
    sender is its reporter; nothing of it is shown to the sender)."""
    return Complaint.objects.filter(tracking_code=tracking_code).first()


# Within this time after its first message, a text-message complaint whose regency or category
# we asked for takes the reporter's next message as the answer.
ANSWER_WINDOW = timedelta(days=3)
FALLBACK_CATEGORY = "lainnya"


def complaint_details_missing(complaint: Complaint) -> list[str]:
    """What a text-message complaint lacks: "region" (it waits under the province), "category"
    (it was filed under "other")."""
    missing = []
    if complaint.region.is_province:
        missing.append("region")
    if complaint.category.code == FALLBACK_CATEGORY:
        missing.append("category")
    return missing


def complaint_awaiting_answer(
    *, reporter_codes: frozenset[str], channels: Iterable[str], now: datetime | None = None
) -> Complaint | None:
    """The reporter's newest text-message complaint that still waits for their answer to our
    question (in triage, regency or category missing, no reply yet, recent), or None."""
    now = now or timezone.now()
    replied = ComplaintEvent.objects.filter(complaint_id=OuterRef("pk"), kind="reply")
    return (
        complaints_for(None, purpose=Purpose.OWN, reporter_codes=reporter_codes)
        .filter(
            Q(region__kind="province") | Q(category__code=FALLBACK_CATEGORY),
            status=S.TRIAGE,
            channel__in=list(channels),
            created_at__gte=now - ANSWER_WINDOW,
        )
        .exclude(Exists(replied))
        .select_related("region", "category")
        .order_by("-created_at")
        .first()
    )


def complaints_of_codes(reporter_codes: frozenset[str]) -> ComplaintQuerySet:
    """The complaints a visitor proved theirs (private link, a code sent to their phone)."""
    return (
        complaints_for(None, purpose=Purpose.OWN, reporter_codes=reporter_codes)
        .with_overdue()
        .select_related(*LIST_RELATED)
        .order_by("-created_at")
    )


def complaint_of_reporter_link(tracking_code: str, *, lock: bool = False) -> Complaint | None:
    """The complaint a reporter's signed link names (the one-click link of their status
    messages, ``follows.reporter_unsubscribe_token``). The link proves its holder is the reporter
    (the message went to them), as the private link does: read as theirs (``Purpose.OWN``).
    ``lock``: lock its row (the service, inside its transaction)."""
    own = complaints_for(None, purpose=Purpose.OWN, reporter_codes=frozenset({tracking_code}))
    if lock:
        own = own.select_for_update()
    return own.first()
