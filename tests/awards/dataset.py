"""A generated year of complaints in three regencies, made through the real services, and a
plain-Python recount of every indicator to check the SQL aggregates against."""

import random
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from agencies.models import Agency, RoutingRule
from complaints.enforcement import deadlines_sweep
from complaints.models import Complaint, ComplaintEvent, DeadlineBreach
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from tests.factories import complaint_new

WITA = ZoneInfo("Asia/Makassar")
YEAR = 2025
START = datetime(YEAR, 1, 1, tzinfo=WITA)
END = datetime(YEAR + 1, 1, 1, tzinfo=WITA)
REGIONS = ("63.72", "63.71", "63.03")
CATEGORIES = ("jalan", "pju", "sampah", "lainnya")


def generate(*, actor, seed: int = 9, count: int = 60) -> list[Complaint]:
    """``count`` complaints over the year (and a few either side of it) in every state the
    indicators tell apart; ``actor`` is a provincial staff account."""
    rng = random.Random(seed)
    # Kabupaten Banjar sends "lainnya" to triage: no rule.
    RoutingRule.objects.filter(region__code="63.03", category__code="lainnya").delete()
    made = []
    for n in range(count):
        # A few on the year's edges in WITA: 1 January 00:30 WITA is still 31 December in UTC.
        if n == 0:
            at = datetime(YEAR, 1, 1, 0, 30, tzinfo=WITA)
        elif n == 1:
            at = datetime(YEAR - 1, 12, 31, 23, 30, tzinfo=WITA)
        elif n == 2:
            at = datetime(YEAR + 1, 1, 1, 0, 10, tzinfo=WITA)
        else:
            at = START + timedelta(minutes=rng.randrange(0, 364 * 24 * 60, 7))
        complaint = complaint_new(
            now=at,
            region_code=rng.choice(REGIONS),
            category_code=rng.choice(CATEGORIES),
            is_confidential=rng.random() < 0.2,
        )
        _play(complaint, rng, at, actor)
        made.append(complaint)
    # Breaches the sweep records at the end of the period (and re-routing recorded before).
    deadlines_sweep(now=END + timedelta(days=60))
    return made


def _play(complaint, rng, at, actor):
    def act(action, hours, **kw):
        complaint_transition(
            complaint=complaint,
            action=action,
            role=kw.pop("role", Role.PROVINCE_STAFF),
            actor=kw.pop("actor", actor),
            now=at + timedelta(hours=hours),
            **kw,
        )

    story = rng.choice(
        [
            "nothing",
            "follow",
            "late",
            "resolve",
            "rate",
            "reroute",
            "spam",
            "dup",
            "general",
            "reopen",
        ]
    )
    if complaint.status == ComplaintStatus.TRIAGE:
        if story in ("spam", "general"):
            act(Action.ARCHIVE, 5, reason=story if story == "spam" else "too_general")
        elif story != "nothing":
            other = Agency.objects.filter(region=complaint.region, code="pupr").get()
            act(Action.REROUTE, 30, agency=other)
            act(Action.FOLLOW_UP, 40 + rng.randrange(0, 90), note="Ditinjau")
        return
    if story == "follow":
        act(Action.FOLLOW_UP, rng.randrange(1, 70), note="Ditinjau")
    elif story == "late":
        act(Action.FOLLOW_UP, 80 + rng.randrange(0, 100), note="Ditinjau")
    elif story in ("resolve", "rate", "reopen"):
        act(Action.FOLLOW_UP, rng.randrange(1, 100), note="Ditinjau")
        # Some within the completion target, some long after it.
        resolved_after = rng.choice([120, 24 * 60])
        act(Action.RESOLVE, resolved_after, note="Selesai")
        if story == "reopen":
            act(Action.REOPEN, resolved_after + 48, role=Role.REPORTER, actor=None, note="Belum")
        if story == "rate":
            act(Action.RATE, 130, role=Role.REPORTER, actor=None, rating=rng.randrange(1, 6))
    elif story == "reroute":
        # Late, re-routed: the breach stays with the first agency.
        other = (
            Agency.objects.filter(region=complaint.region, is_active=True)
            .exclude(pk=complaint.assigned_agency_id)
            .order_by("pk")
            .first()
        )
        act(Action.REROUTE, 100, agency=other)
        if rng.random() < 0.5:
            act(Action.FOLLOW_UP, 110, note="Ditinjau")
    elif story == "spam":
        act(Action.ARCHIVE, 2, reason="spam")
    elif story == "dup":
        original = Complaint.objects.exclude(pk=complaint.pk).order_by("pk").first()
        if original is not None:
            act(Action.ARCHIVE, 2, reason="duplicate", duplicate_of=original)
    elif story == "general":
        act(Action.FOLLOW_UP, 10, note="Ditinjau")
        act(Action.ARCHIVE, 20, reason="too_general")


# --- the recount, in plain Python over the rows -------------------------------------------------


def _share(part, whole):
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _median_hours(spans):
    if not spans:
        return None
    spans = sorted(spans)
    mid = len(spans) // 2
    value = spans[mid] if len(spans) % 2 else (spans[mid - 1] + spans[mid]) / 2
    return (Decimal(value) / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)


def is_counted(c, start=START, end=END):
    if not (start <= c.created_at < end) or c.status == ComplaintStatus.SUBMITTED:
        return False
    if c.status == ComplaintStatus.ARCHIVED:
        return c.archive_reason not in ("spam", "duplicate") and c.assigned_at is not None
    return True


def recount(group_by: str, start=START, end=END) -> dict:
    breaches = defaultdict(set)  # complaint id -> agencies that breached it (None: triage)
    triage_breached = set()
    for b in DeadlineBreach.objects.all():
        breaches[b.complaint_id].add(b.agency_id)
        if b.kind == "triage":
            triage_breached.add(b.complaint_id)
    reopened_ids = set(
        ComplaintEvent.objects.filter(kind="reopened").values_list("complaint_id", flat=True)
    )
    groups = defaultdict(list)
    for c in Complaint.objects.all():
        if not is_counted(c, start, end):
            continue
        if group_by == "region":
            groups[c.region_id].append(c)
        elif group_by == "month":
            local = c.created_at.astimezone(WITA)
            groups[local.date().replace(day=1)].append(c)
        elif c.assigned_agency_id is not None:
            groups[c.assigned_agency_id].append(c)
    breached_by = defaultdict(set)
    if group_by == "agency":
        counted_ids = {c.pk for c in Complaint.objects.all() if is_counted(c, start, end)}
        for complaint_id, agencies in breaches.items():
            if complaint_id in counted_ids:
                for agency_id in agencies - {None}:
                    breached_by[agency_id].add(complaint_id)
    out = {}
    for key in set(groups) | set(breached_by):
        rows = groups.get(key, [])
        received = len(rows)
        followed = [c for c in rows if c.first_follow_up_at is not None]
        on_time = [c for c in followed if c.first_follow_up_at <= c.follow_up_due_at]
        resolved = [c for c in rows if c.status in ("resolved", "closed")]
        rated = [c.rating for c in rows if c.rating is not None]
        triaged = [c for c in rows if c.status != "triage" and c.pk not in triage_breached]
        completed = [
            c
            for c in resolved
            if c.resolved_at and c.completion_due_at and c.resolved_at <= c.completion_due_at
        ]
        reopened = [c for c in rows if c.pk in reopened_ids]
        if group_by == "agency":
            breached = len(breached_by[key])
            elsewhere = len([i for i in breached_by[key] if i not in {c.pk for c in rows}])
        else:
            breached = len([c for c in rows if c.pk in breaches])
            elsewhere = 0
        out[key] = {
            "received": received,
            "followed_up": len(followed),
            "followed_up_on_time": len(on_time),
            "resolved": len(resolved),
            "breached": breached,
            "rated": len(rated),
            "followed_up_share": _share(len(followed), received),
            "on_time_share": _share(len(on_time), received),
            "resolved_share": _share(len(resolved), received),
            "breach_share": _share(breached, received + elsewhere),
            "median_hours_to_follow_up": _median_hours(
                [(c.first_follow_up_at - c.assigned_at).total_seconds() for c in followed]
            ),
            "mean_rating": (
                (Decimal(sum(rated)) / len(rated)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                if rated
                else None
            ),
            "breached_elsewhere": elsewhere,
            "triaged_on_time": len(triaged),
            "completed_on_time": len(completed),
            "reopened": len(reopened),
            "triage_on_time_share": _share(len(triaged), received),
            "completed_on_time_share": _share(len(completed), received),
            "reopen_share": _share(len(reopened), received),
        }
    return out


SMALL_YEAR_T0 = datetime(YEAR, 3, 3, 9, 0, tzinfo=WITA)


def publish_small_year(levels=("regency",)):
    """Nine complaints of 2025 in three regencies, some followed up, and the year's ranking
    computed and published at each of ``levels``; returns the last result published (the
    pages, exports and report tests read it)."""
    from awards.services import ranking_compute, ranking_publish
    from tests.factories import province_staff

    staff = province_staff(username="prov.kalsel")
    for region_code, count, followed in (("63.72", 3, 2), ("63.71", 2, 2), ("63.03", 4, 1)):
        for n in range(count):
            complaint = complaint_new(
                now=SMALL_YEAR_T0 + timedelta(days=n), region_code=region_code
            )
            if n < followed:
                complaint_transition(
                    complaint=complaint,
                    action=Action.FOLLOW_UP,
                    role=Role.PROVINCE_STAFF,
                    actor=staff,
                    note="Ditinjau",
                    now=complaint.created_at + timedelta(hours=6 + 40 * n),
                )
    published = None
    for level in levels:
        result = ranking_compute(year=YEAR, level=level, now=datetime(YEAR + 1, 1, 5, tzinfo=WITA))
        published = ranking_publish(result=result, actor=staff)
    return published
