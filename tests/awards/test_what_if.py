"""What-if on the staff page: other weights or criteria ranked beside the year's scheme without
saving; saved as the year's scheme only when asked, and only before publication."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from awards.models import Criterion, Level, RankingLog, Scheme
from awards.services import ranking_compute, ranking_publish
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import complaint_new, coordinator, province_staff

from .dataset import WITA

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)
NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)
URL = "/rankings/staff/what-if/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    staff = province_staff(username="prov.kalsel")
    # Banjarbaru: 3 received, 1 followed up; Banjarmasin: 1 received, followed up on time.
    for n, region_code in enumerate(("63.72", "63.72", "63.72", "63.71")):
        complaint = complaint_new(now=T0 + timedelta(days=n), region_code=region_code)
        if n in (0, 3):
            complaint_transition(
                complaint=complaint,
                action=Action.FOLLOW_UP,
                role=Role.PROVINCE_STAFF,
                actor=staff,
                note="Ditinjau",
                now=complaint.created_at + timedelta(hours=2),
            )
    return staff


def form(**weights):
    data = {"year": 2025, "level": "regency", "min_received": 0, "min_rated": 0}
    data["thin_data"] = "unranked"
    for indicator, (weight, normalisation) in weights.items():
        data[f"weight_{indicator}"] = weight
        data[f"norm_{indicator}"] = normalisation
    return data


DEFAULT = {
    "received": ("1", "against_best"),
    "followed_up_share": ("1", "as_is"),
    "on_time_share": ("1", "as_is"),
}


@pytest.mark.django_db
def test_ranks_move_side_by_side_without_saving(client, staff):
    client.force_login(staff)
    page = client.get(URL + "?year=2025&level=regency")
    assert page.status_code == 200
    weights = {f["indicator"]: f["weight"] for f in page.context["fields"]}
    assert weights["received"] == "1.0000" and weights["mean_rating"] == ""  # the year's scheme

    response = client.post(URL, {**form(**{**DEFAULT, "received": ("5,0", "against_best")})})
    assert response.status_code == 200
    rows = {r["name"]: r for r in response.context["rows"]}
    banjarbaru, banjarmasin = rows["Kota Banjarbaru"], rows["Kota Banjarmasin"]
    assert (banjarmasin["current"].rank, banjarbaru["current"].rank) == (1, 2)
    assert (banjarbaru["proposed"].rank, banjarmasin["proposed"].rank) == (1, 2)
    assert banjarbaru["rank_change"] == 1 and banjarmasin["rank_change"] == -1
    assert str(banjarbaru["proposed"].score) == "5.66660000"  # 5 × 1 + 0.3333 + 0.3333
    html = response.content.decode()
    assert "▲1" in html and "▼1" in html
    scheme = Scheme.objects.get(year=2025, level="regency")
    assert [str(c.weight) for c in scheme.criteria.all()] == ["1.0000"] * 3  # nothing saved

    # The same figures as the draft: the year's scheme scores as ranking_compute does.
    draft = ranking_compute(year=2025, level=Level.REGENCY)
    assert draft.rows.get(region__code="63.71").score == banjarmasin["current"].score


@pytest.mark.django_db
def test_save_as_the_years_scheme_until_published(client, staff):
    client.force_login(staff)
    proposal = form(
        **{
            "received_per_10k": ("1", "against_best"),
            "followed_up_share": ("1", "as_is"),
            "breach_share": ("0.5", "complement"),
        }
    )
    saved = client.post(URL, {**proposal, "action": "save"})
    assert saved.status_code == 302
    scheme = Scheme.objects.get(year=2025, level="regency")
    assert [(c.indicator, str(c.weight)) for c in scheme.criteria.all()] == [
        ("followed_up_share", "1.0000"),
        ("breach_share", "0.5000"),
        ("received_per_10k", "1.0000"),
    ]
    names = {c.indicator: c.name_id for c in scheme.criteria.all()}
    assert names["followed_up_share"] == "Tindak lanjut pengaduan"  # kept from the scheme
    assert names["breach_share"]  # a new criterion is named after its indicator
    log = RankingLog.objects.get(action="scheme")
    assert log.actor == staff and log.reason.startswith("Diubah di halaman simulasi")
    draft = ranking_compute(year=2025, level=Level.REGENCY)
    assert [v["indicator"] for v in draft.scheme_snapshot["criteria"]][-1] == "received_per_10k"

    ranking_publish(result=draft, actor=staff)
    refused = client.post(URL, {**form(**DEFAULT), "action": "save"})
    assert refused.status_code == 400
    assert Criterion.objects.filter(scheme=scheme).count() == 3
    assert not client.get(URL + "?year=2025").context["can_save"]


@pytest.mark.django_db
def test_bad_input_is_a_field_error_never_a_500(client, staff):
    client.force_login(staff)
    bad = client.post(URL, form(received=("lots", "against_best")))
    assert bad.status_code == 400 and "weight_received" in bad.context["errors"]
    wrong = client.post(URL, form(breach_share=("1", "as_is")))
    assert wrong.status_code == 400 and "norm_breach_share" in wrong.context["errors"]
    none = client.post(URL, form())
    assert none.status_code == 400 and "criteria" in none.context["errors"]
    assert client.post(URL, {**form(**DEFAULT), "min_received": "-1"}).status_code == 400
    assert client.get(URL + "?year=1900").status_code == 400
    assert client.get(URL + "?level=kecamatan").status_code == 400
    agency = client.get(URL + "?year=2025&level=agency")
    assert "received_per_10k" not in [f["indicator"] for f in agency.context["fields"]]


@pytest.mark.django_db
def test_only_provincial_staff(client, staff):
    client.force_login(coordinator())
    assert client.get(URL).status_code == 403
    assert client.post(URL, {**form(**DEFAULT), "action": "save"}).status_code == 403


def what_if_against_stored(result, rows) -> list[str]:
    """Every difference between the what-if's "current" side and the stored result: rank,
    score, predicate, too little data, and each criterion's raw, normalised and points."""
    stored = {r.name: r for r in result.rows.prefetch_related("values")}
    found = []
    for row in rows:
        mine, theirs = row["current"], stored.get(row["name"])
        if theirs is None:
            found.append(f"{row['name']}: not stored")
            continue
        pairs = [
            ("rank", mine.rank, theirs.rank),
            ("score", mine.score, theirs.score),
            ("band", mine.band.name_id if mine.band else "", theirs.band_id),
            ("insufficient", mine.insufficient, theirs.insufficient),
        ]
        for value, saved in zip(mine.values, theirs.values.all(), strict=True):
            pairs += [
                (f"{saved.indicator} raw", value.raw, saved.raw),
                (f"{saved.indicator} normalised", value.normalised, saved.normalised),
                (f"{saved.indicator} points", value.points, saved.points),
            ]
        found += [f"{row['name']} {what}: {a} != {b}" for what, a, b in pairs if a != b]
    if len(rows) != len(stored):
        found.append(f"{len(rows)} rows, {len(stored)} stored")
    return found


@pytest.mark.django_db
@pytest.mark.scheme_minimums
@pytest.mark.parametrize("level", Level.values)
def test_what_if_with_the_years_scheme_is_the_stored_draft_exactly(staff, level):
    """One rule, one place: the what-if scores through the same count and the same scoring as
    ``ranking_compute``. Any difference (a planted one here) is caught."""
    from awards.whatif import proposal_from_scheme, what_if
    from tests.awards.dataset import generate

    generate(actor=staff, count=40)
    minimum = 8 if level == Level.REGENCY else 3
    Scheme.objects.filter(year__isnull=True).update(min_received=minimum, min_rated=2)
    now = datetime(2026, 1, 5, tzinfo=WITA)
    draft = ranking_compute(year=2025, level=level, now=now)
    scheme = Scheme.objects.get(year=2025, level=level)
    rows = what_if(year=2025, level=level, proposal=proposal_from_scheme(scheme), now=now)
    assert any(r["current"].insufficient for r in rows)  # the scheme's minimums at work
    assert any(r["current"].rank == 1 for r in rows)
    assert what_if_against_stored(draft, rows) == []

    # A planted difference: one stored criterion's points off by the smallest step.
    value = draft.rows.filter(rank=1).first().values.first()
    value.points += Decimal("0.00000001")
    value.save(update_fields=["points"])
    assert len(what_if_against_stored(draft, rows)) == 1
