"""Too little data is not a score: the scheme's minimums, unranked or ranked after the others."""

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine

from awards import scoring
from awards.indicators import IndicatorSet
from awards.models import Level, Scheme, ThinData
from awards.services import ranking_compute
from tests.factories import complaint_new

from .dataset import WITA

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)
CRITERIA = [
    scoring.CriterionSpec("received", Decimal(1), "against_best", order=1),
    scoring.CriterionSpec("followed_up_share", Decimal(1), "as_is", order=2),
]


def figures(received, followed, rated=0, rating_sum=0):
    return IndicatorSet.build(
        received=received,
        followed_up=followed,
        followed_up_on_time=followed,
        resolved=0,
        breached=0,
        rated=rated,
        rating_sum=rating_sum,
    )


def test_a_group_under_the_minimum_is_not_ranked_and_sets_no_best():
    groups = {"big": figures(40, 20), "small": figures(3, 3), "mid": figures(25, 20)}
    ranked, bests = scoring.score_groups(
        groups, CRITERIA, [scoring.BandSpec("Baik", "Good", Decimal(0))], thin=scoring.Thin(20)
    )
    by_key = {s.key: s for s in ranked}
    assert [s.key for s in ranked] == ["big", "mid", "small"]  # 1.5, 1.425, then thin
    assert (by_key["big"].rank, by_key["mid"].rank) == (1, 2)
    assert by_key["small"].rank is None and by_key["small"].insufficient
    assert by_key["small"].band is None
    assert bests["received"] == Decimal(40)  # from the groups with enough data


def test_ranked_after_the_others_when_the_scheme_says_so():
    groups = {"big": figures(40, 20), "small": figures(3, 3), "tiny": figures(1, 0)}
    ranked, _ = scoring.score_groups(groups, CRITERIA, thin=scoring.Thin(20, rank_after=True))
    assert [(s.key, s.rank) for s in ranked] == [("big", 1), ("small", 2), ("tiny", 3)]


def test_a_rating_criterion_needs_its_own_minimum_of_rated_complaints():
    criteria = [
        *CRITERIA,
        scoring.CriterionSpec("mean_rating", Decimal(1), "against_best", order=3),
    ]
    groups = {
        "rated": figures(30, 10, rated=12, rating_sum=48),
        "one_five": figures(30, 10, rated=1, rating_sum=5),
    }
    ranked, bests = scoring.score_groups(groups, criteria, thin=scoring.Thin(20, min_rated=10))
    by_key = {s.key: s for s in ranked}
    assert by_key["rated"].rank == 1 and by_key["one_five"].rank is None
    assert bests["mean_rating"] == Decimal("4.00")  # one 5-star rating sets no best
    # Without a rating criterion the rated minimum does not apply.
    ranked, _ = scoring.score_groups(groups, CRITERIA, thin=scoring.Thin(20, min_rated=10))
    assert all(s.rank == 1 for s in ranked)


@pytest.mark.django_db
@pytest.mark.scheme_minimums
def test_the_default_scheme_leaves_thin_regencies_unranked_and_the_page_says_so(client):
    for _ in range(3):
        complaint_new(now=datetime(2025, 4, 1, 9, tzinfo=WITA), region_code="63.72")
    with time_machine.travel(NOW, tick=False):
        result = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
        rows = list(result.rows.all())
        assert len(rows) == 13
        assert all(r.rank is None and r.insufficient and not r.band_id for r in rows)
        assert result.scheme_snapshot["min_received"] == 20
        page = client.get("/rankings/2025/", HTTP_ACCEPT_LANGUAGE="id")
    html = page.content.decode()
    assert "data belum cukup" in html
    assert "tidak diperingkat" in html
    assert "Sangat baik</td>" not in html


@pytest.mark.django_db
@pytest.mark.scheme_minimums
def test_a_year_scheme_may_rank_thin_groups_after():
    for _ in range(21):
        complaint_new(now=datetime(2025, 4, 1, 9, tzinfo=WITA), region_code="63.71")
    complaint_new(now=datetime(2025, 4, 1, 9, tzinfo=WITA), region_code="63.72")
    ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    Scheme.objects.filter(year=2025, level=Level.REGENCY).update(thin_data=ThinData.AFTER)
    result = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    ranks = {r.name: (r.rank, r.insufficient) for r in result.rows.all()}
    assert ranks["Kota Banjarmasin"] == (1, False)
    assert ranks["Kota Banjarbaru"] == (2, True)  # ahead of the eleven with nothing
    assert ranks["Kabupaten Balangan"][0] == 3
