"""One writer of breaches and their events (``complaints.services.breaches_record``), and the same
rows on both databases: the scenario below runs here on PostgreSQL and in a subprocess on the
embedded SQLite, and every field of every breach and event it wrote must be the same (ids
aside: complaints, agencies and people are named by title, code and username)."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from agencies.models import RoutingRule
from complaints.enforcement import deadlines_sweep
from complaints.models import BreachKind, Complaint, ComplaintEvent, DeadlineBreach, EventKind
from complaints.services import BreachDue, breaches_record, complaint_transition
from complaints.workflow import Action, Role
from tests.factories import agency, complaint_new, coordinator, officer
from tests.lapor.helpers import BASE_DIR, clean_env

WITA = ZoneInfo("Asia/Makassar")
# A Monday morning, with a fraction of a second that a database could write in its own way.
T0 = datetime(2025, 3, 3, 9, 0, 0, 120000, tzinfo=WITA)
DUMP = "LAPOR_BREACH_DUMP"


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def scenario() -> None:
    """Breaches found by the sweep (follow-up, completion, triage, escalation) and at a re-route,
    with sweeps repeated: nothing may be written twice."""
    handler = officer("63.72", "pupr", username="pupr")
    boss = coordinator("63.72", username="koordinator")
    late = complaint_new(now=at(), title="Terlambat ditindaklanjuti")
    rerouted = complaint_new(now=at(), title="Dialihkan setelah terlambat")
    handled = complaint_new(now=at(), title="Ditindaklanjuti tepat waktu")
    RoutingRule.objects.filter(region__code="63.72", category__code="lainnya").delete()
    complaint_new(now=at(), category_code="lainnya", title="Menunggu verifikasi")
    complaint_transition(
        complaint=handled,
        action=Action.FOLLOW_UP,
        role=Role.AGENCY_OFFICER,
        actor=handler,
        note="Dijadwalkan.",
        now=at(days=1),
    )
    complaint_transition(
        complaint=rerouted,
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=boss,
        agency=agency("63.72", "perkim"),
        now=late.follow_up_due_at + timedelta(minutes=30),
    )
    for when in (at(days=3, hours=1), at(days=3, hours=1), at(days=10), at(days=90)):
        deadlines_sweep(now=when)


def _utc(value):
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def rows_written() -> dict:
    """Every breach and event, every field, ids replaced by names, in a stable order."""
    titles = dict(Complaint.objects.values_list("pk", "title"))
    agencies = {a.pk: f"{a.region.code}/{a.code}" for a in agency_all()}
    people = dict(ComplaintEvent.actor.field.related_model.objects.values_list("pk", "username"))
    names = {"complaint": titles, "agency": agencies, "from_agency": agencies}
    names |= {"to_agency": agencies, "actor": people}

    def named(row: dict) -> dict:
        out = {}
        for field, value in row.items():
            if field == "id":
                continue
            if field.endswith("_id") and field[:-3] in names:
                value = names[field[:-3]].get(value, value) if value is not None else None
            elif field == "region_id":
                value = region_codes().get(value)
            out[field] = _utc(value)
        return out

    breaches = [named(row) for row in DeadlineBreach.objects.values()]
    events = [named(row) for row in ComplaintEvent.objects.values()]

    def key(row):
        return json.dumps(row, sort_keys=True)

    return {"breaches": sorted(breaches, key=key), "events": sorted(events, key=key)}


def agency_all():
    from agencies.models import Agency

    return Agency.objects.select_related("region")


def region_codes() -> dict:
    from agencies.models import Region

    return dict(Region.objects.values_list("pk", "code"))


@pytest.mark.django_db
@pytest.mark.skipif(not os.environ.get(DUMP), reason="run by the comparison test only")
def test_dump_the_scenario_rows():
    scenario()
    with open(os.environ[DUMP], "w") as out:
        json.dump({"vendor": connection.vendor, **rows_written()}, out)


@pytest.mark.slow
@pytest.mark.django_db
def test_breaches_and_events_are_the_same_on_sqlite_and_postgresql(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("compares a PostgreSQL run with a SQLite one")
    scenario()
    here = rows_written()
    kinds = {row["kind"] for row in here["breaches"]}
    assert kinds == {BreachKind.FOLLOW_UP, BreachKind.COMPLETION, BreachKind.TRIAGE}
    assert any(row["escalated_to_province_at"] for row in here["breaches"])
    breach_events = [row for row in here["events"] if row["kind"] == EventKind.BREACH]
    assert len(breach_events) == len(here["breaches"])  # one each, none repeated

    dump = tmp_path / "sqlite.json"
    env = clean_env(LAPOR_VAR_DIR=str(tmp_path / "var"), **{DUMP: str(dump)})
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "dump", __file__],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    there = json.loads(dump.read_text())
    assert there.pop("vendor") == "sqlite"
    assert there["breaches"] == here["breaches"]
    assert there["events"] == here["events"]


@pytest.mark.django_db
def test_a_breach_is_recorded_once_with_its_event():
    complaint = complaint_new(now=at())
    missed = BreachDue(
        complaint.pk, complaint.follow_up_due_at, complaint.assigned_agency_id, complaint.region_id
    )
    now = at(days=4)
    assert breaches_record([missed], kind=BreachKind.FOLLOW_UP, now=now, escalated_to="") == {
        complaint.pk
    }
    assert breaches_record([missed], kind=BreachKind.FOLLOW_UP, now=now, escalated_to="") == set()
    breach = DeadlineBreach.objects.get(complaint=complaint)
    assert (breach.kind, breach.due_at, breach.recorded_at) == (
        BreachKind.FOLLOW_UP,
        complaint.follow_up_due_at,
        now,
    )
    (event,) = ComplaintEvent.objects.filter(complaint=complaint, kind=EventKind.BREACH)
    assert (event.actor_role, event.is_internal, event.created_at) == (Role.SYSTEM, True, now)
    assert event.from_agency_id == complaint.assigned_agency_id and event.to_agency_id is None
    assert event.data == {
        "deadline": BreachKind.FOLLOW_UP,
        "due_at": complaint.follow_up_due_at.isoformat(),
        "escalated_to": "",
    }
