"""The staff queue: filters, counts per status, order, time left in words, pages; and the
coordinator's triage with all-or-nothing bulk actions."""

import importlib
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from agencies.models import Category
from complaints.enforcement import deadlines_sweep
from complaints.models import Complaint, ComplaintEvent
from complaints.services import complaint_transition
from complaints.workflow import Action, ArchiveReason, ComplaintStatus, Role
from tests.factories import agency, complaint_submitted, coordinator, officer, province_staff
from workspace.templatetags.staff import time_left

from .workspace_helpers import triage_complaint

pytestmark = pytest.mark.django_db
S = ComplaintStatus
WITA = timezone.get_fixed_timezone(8 * 60)
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=WITA)  # a Tuesday


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def codes(response) -> list[str]:
    return [c.tracking_code for c in response.context["page"].object_list]


def submit(days_ago: float, **kw):
    return complaint_submitted(now=NOW - timedelta(days=days_ago), **kw).complaint


def test_filters_each_narrow_the_officers_queue(client, frozen):
    perkim = officer("63.72", "perkim")
    late = submit(5, title="Lampu mati lama")  # follow-up overdue
    soon = submit(2.5, title="Lampu mati kemarin lusa")  # due within 24 hours
    fresh = submit(0.1, title="Tiang miring", classification="aspirasi")
    started = submit(1, title="Sudah dicek", is_anonymous=True)
    complaint_transition(
        complaint=started, action=Action.FOLLOW_UP, role=Role.AGENCY_OFFICER, actor=perkim,
        note="Dicek.",
    )  # fmt: skip
    done = submit(20, title="Lampu diganti")
    complaint_transition(
        complaint=done, action=Action.RESOLVE, role=Role.AGENCY_OFFICER, actor=perkim, note="OK"
    )
    Complaint.objects.filter(pk=fresh.pk).update(channel="sms")
    submit(1, region_code="63.71", title="Lampu Banjarmasin")  # another agency's
    deadlines_sweep(now=NOW)  # records the breach of the late one
    client.force_login(perkim)

    def q(query=""):
        response = client.get("/dashboard/queue/?" + query)
        assert response.status_code == 200
        return codes(response)

    open_ = {late.tracking_code, soon.tracking_code, fresh.tracking_code, started.tracking_code}
    assert set(q()) == open_  # open complaints by default
    assert set(q("status=all")) == open_ | {done.tracking_code}
    assert q("status=resolved") == [done.tracking_code]
    assert q("overdue=on") == [late.tracking_code]
    assert q("due_soon=on") == [soon.tracking_code]
    assert q("breached=on&status=all") == [late.tracking_code]
    assert q("classification=aspirasi") == [fresh.tracking_code]
    assert q("channel=sms") == [fresh.tracking_code]
    assert q("category=jalan") == []
    assert set(q("category=pju")) == open_
    assert q("q=miring") == [fresh.tracking_code]
    assert q("q=" + started.tracking_code.lower().replace("-", "")) == [started.tracking_code]
    assert q("q=lama") == [late.tracking_code]
    since = (NOW - timedelta(days=3)).date().isoformat()
    until = (NOW - timedelta(days=2)).date().isoformat()
    assert q(f"since={since}&until={until}") == [soon.tracking_code]


def test_the_queue_counts_each_status_and_keeps_the_other_filters(client, frozen):
    perkim = officer("63.72", "perkim")
    submit(5)
    submit(1)
    resolved = submit(4)
    complaint_transition(
        complaint=resolved, action=Action.RESOLVE, role=Role.AGENCY_OFFICER, actor=perkim, note="x"
    )
    client.force_login(perkim)
    response = client.get("/dashboard/queue/?overdue=on")
    counts = {code: count for code, _label, count in response.context["counts"]}
    assert counts[S.ASSIGNED] == 1  # the overdue filter holds, the status filter does not
    response = client.get("/dashboard/queue/")
    counts = {code: count for code, _label, count in response.context["counts"]}
    assert (counts[S.ASSIGNED], counts[S.RESOLVED], counts[S.TRIAGE]) == (2, 1, 0)
    assert 'status=resolved">Selesai <strong>1</strong>' in response.content.decode()


def test_the_queue_orders_by_urgency_or_date_and_shows_time_left_in_words(client, frozen):
    perkim = officer("63.72", "perkim")
    waiting = submit(1, title="Menunggu")  # 2 days left
    late = submit(5, title="Terlambat")  # 2 days late
    newest = submit(0.5, title="Baru")
    client.force_login(perkim)
    response = client.get("/dashboard/queue/")
    assert codes(response) == [late.tracking_code, waiting.tracking_code, newest.tracking_code]
    page = response.content.decode()
    assert "terlambat 2 hari" in page
    assert "sisa 2 hari" in page
    newest_first = codes(client.get("/dashboard/queue/?sort=newest"))
    assert newest_first == [newest.tracking_code, waiting.tracking_code, late.tracking_code]
    assert codes(client.get("/dashboard/queue/?sort=oldest")) == newest_first[::-1]


@pytest.mark.parametrize(
    ("delta", "indonesian", "english"),
    [
        (timedelta(hours=5, minutes=30), "sisa 5 jam", "5 hours left"),
        (timedelta(days=1, hours=2), "sisa 1 hari", "1 day left"),
        (timedelta(minutes=20), "sisa 20 menit", "20 minutes left"),
        (-timedelta(days=2, hours=3), "terlambat 2 hari", "2 days late"),
        (-timedelta(hours=1), "terlambat 1 jam", "1 hour late"),
    ],
)
def test_time_left_reads_naturally_in_both_languages(delta, indonesian, english):
    with translation.override("id"):
        assert time_left(NOW + delta, NOW) == indonesian
    with translation.override("en"):
        assert time_left(NOW + delta, NOW) == english
    assert time_left(None, NOW) == ""


def test_pages_are_stable_and_complete(client, frozen, monkeypatch):
    queue_module = importlib.import_module("workspace.queue")
    monkeypatch.setattr(queue_module, "PAGE_SIZE", 3)
    perkim = officer("63.72", "perkim")
    made = {submit(1, title=f"Lampu {n}").tracking_code for n in range(7)}  # equal deadlines
    client.force_login(perkim)
    for sort in ("urgency", "newest"):
        seen = []
        url = f"/dashboard/queue/?sort={sort}"
        for _page in (1, 2, 3):
            response = client.get(url)
            seen += codes(response)
            url = f"/dashboard/queue/?{response.context['page'].next_query}"
        assert len(seen) == 7 and set(seen) == made


def test_a_coordinator_filters_by_agency_and_sees_the_whole_regency(client, frozen):
    lighting = submit(1)  # Perkim
    road = submit(1, category_code="jalan")  # PUPR
    waiting = triage_complaint("63.72")
    submit(1, region_code="63.71")
    client.force_login(coordinator("63.72"))
    everything = set(codes(client.get("/dashboard/queue/")))
    assert everything == {lighting.tracking_code, road.tracking_code, waiting.tracking_code}
    pupr = agency("63.72", "pupr")
    assert codes(client.get(f"/dashboard/queue/?agency={pupr.pk}")) == [road.tracking_code]
    foreign = agency("63.71", "pupr")
    assert client.get(f"/dashboard/queue/?agency={foreign.pk}").status_code == 404


def test_bad_filters_get_a_clear_answer(client, frozen):
    client.force_login(officer("63.72", "perkim"))
    response = client.get("/dashboard/queue/?since=kemarin&status=hilang&page=abc")
    assert response.status_code == 400
    errors = response.context["filter"].form.errors
    assert "since" in errors and "status" in errors
    assert "error-summary" in response.content.decode()


# --- triage and bulk actions ---------------------------------------------------------------


def test_a_coordinator_routes_several_to_one_agency_each_with_its_event(client, frozen):
    first, second = triage_complaint("63.72"), triage_complaint("63.72", title="Kedua")
    pupr = agency("63.72", "pupr")
    client.force_login(coordinator("63.72"))
    page = client.get("/dashboard/triage/")
    assert set(codes(page)) == {first.tracking_code, second.tracking_code}
    response = client.post(
        "/dashboard/triage/",
        {
            "complaints": [first.tracking_code, second.tracking_code],
            "bulk_action": "route",
            "agency": pupr.pk,
        },
    )
    assert response.status_code == 302
    for complaint in (first, second):
        complaint.refresh_from_db()
        assert (complaint.status, complaint.assigned_agency) == (S.ASSIGNED, pupr)
        event = complaint.events.get(kind="rerouted")
        assert event.actor_role == Role.REGION_COORDINATOR
    followed = client.get("/dashboard/triage/")
    assert "2 pengaduan dikirim ke" in followed.content.decode()


def test_archiving_several_as_duplicates_of_one(client, frozen):
    original = submit(2, title="Asli")
    copies = [triage_complaint("63.72", title=f"Salinan {n}") for n in range(3)]
    client.force_login(coordinator("63.72"))
    response = client.post(
        "/dashboard/triage/",
        {
            "complaints": [c.tracking_code for c in copies],
            "bulk_action": "duplicate",
            "duplicate_of": original.tracking_code,
        },
    )
    assert response.status_code == 302
    for copy in copies:
        copy.refresh_from_db()
        assert (copy.status, copy.archive_reason, copy.duplicate_of) == (
            S.ARCHIVED,
            ArchiveReason.DUPLICATE,
            original,
        )
        assert copy.events.filter(kind="archived").count() == 1


def test_a_bulk_action_is_all_or_nothing_and_says_which_complaint_failed(client, frozen):
    waiting = triage_complaint("63.72")
    already = submit(1)  # with Perkim already: routing it to Perkim again is refused
    perkim = agency("63.72", "perkim")
    client.force_login(coordinator("63.72"))
    events = ComplaintEvent.objects.count()
    response = client.post(
        "/dashboard/triage/",
        {
            "complaints": [waiting.tracking_code, already.tracking_code],
            "bulk_action": "route",
            "agency": perkim.pk,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tidak ada yang diubah" in page and already.tracking_code in page
    waiting.refresh_from_db()
    assert waiting.status == S.TRIAGE
    assert ComplaintEvent.objects.count() == events


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"bulk_action": "spam"}, "complaints"),
        ({"bulk_action": ""}, "bulk_action"),
        ({"bulk_action": "delete"}, "bulk_action"),
        ({"bulk_action": "route"}, "agency"),
        ({"bulk_action": "route", "agency": "999999"}, "agency"),
        ({"bulk_action": "duplicate"}, "duplicate_of"),
        ({"bulk_action": "duplicate", "duplicate_of": "LPR-2222-2222"}, "duplicate_of"),
    ],
)
def test_bad_bulk_input_is_named_and_nothing_changes(client, frozen, data, field):
    waiting = triage_complaint("63.72")
    client.force_login(coordinator("63.72"))
    if field != "complaints":
        data = {**data, "complaints": [waiting.tracking_code]}
    events = ComplaintEvent.objects.count()
    response = client.post("/dashboard/triage/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    waiting.refresh_from_db()
    assert waiting.status == S.TRIAGE
    assert ComplaintEvent.objects.count() == events


def test_provincial_staff_read_the_triage_without_acting(client, frozen):
    waiting = triage_complaint("63.71")
    client.force_login(province_staff())
    response = client.get("/dashboard/triage/")
    assert codes(response) == [waiting.tracking_code]
    assert response.context["form"] is None
    assert 'name="complaints"' not in response.content.decode()


def test_categories_in_the_filter_are_every_category(client, frozen):
    client.force_login(officer("63.72", "perkim"))
    form = client.get("/dashboard/queue/").context["filter"].form
    assert form.fields["category"].queryset.count() == Category.objects.count()
