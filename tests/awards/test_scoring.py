"""Scoring against hand-worked tables: raw → normalised → points → score → rank → band."""

from decimal import Decimal as D

import pytest

from awards import scoring
from awards.indicators import IndicatorSet
from awards.scoring import BandSpec, CriterionSpec

REGENCY = [
    CriterionSpec("received", D("1.0000"), "against_best", order=1),
    CriterionSpec("followed_up_share", D("1.0000"), "as_is", order=2),
    CriterionSpec("on_time_share", D("1.0000"), "as_is", order=3),
]
BANDS = [
    BandSpec("Sangat baik", "Very good", D("2.5")),
    BandSpec("Baik", "Good", D("2.0")),
    BandSpec("Cukup", "Fair", D("1.5")),
    BandSpec("Kurang", "Poor", D("0")),
]


def figures(received, followed=0, on_time=0, **kw):
    return IndicatorSet.build(
        received=received,
        followed_up=followed,
        followed_up_on_time=on_time,
        resolved=kw.get("resolved", 0),
        breached=kw.get("breached", 0),
        rated=kw.get("rated", 0),
        rating_sum=kw.get("rating_sum", 0),
        median_hours=kw.get("median_hours"),
    )


def table(result):
    return {
        s.key: (
            [(v.raw, v.normalised, v.points) for v in s.values],
            s.score,
            s.rank,
            s.band.name_id if s.band else None,
        )
        for s in result
    }


def test_the_regency_table_worked_by_hand():
    groups = {
        "A": figures(200, 180, 150),
        "B": figures(100, 100, 100),
        "E": figures(100, 100, 100),  # the same as B: a tie
        "D": figures(50, 50, 0),  # all late
        "C": figures(0),  # no complaints
    }
    ranked, bests = scoring.score_groups(groups, REGENCY, BANDS)
    assert [s.key for s in ranked] == ["A", "B", "E", "D", "C"]
    assert bests == {"received": D(200), "followed_up_share": None, "on_time_share": None}
    assert table(ranked) == {
        "A": (
            [
                (D(200), D("1.0000"), D("1")),
                (D("0.9"), D("0.9"), D("0.9")),
                (D("0.75"), D("0.75"), D("0.75")),
            ],
            D("2.65"),
            1,
            "Sangat baik",
        ),
        "B": (
            [(D(100), D("0.5"), D("0.5")), (D(1), D(1), D(1)), (D(1), D(1), D(1))],
            D("2.5"),
            2,
            "Sangat baik",
        ),
        "E": (
            [(D(100), D("0.5"), D("0.5")), (D(1), D(1), D(1)), (D(1), D(1), D(1))],
            D("2.5"),
            2,
            "Sangat baik",
        ),
        "D": (
            [(D(50), D("0.25"), D("0.25")), (D(1), D(1), D(1)), (D(0), D(0), D(0))],
            D("1.25"),
            4,
            "Kurang",
        ),
        "C": ([(D(0), D(0), D(0)), (None, D(0), D(0)), (None, D(0), D(0))], D(0), 5, "Kurang"),
    }


def test_every_score_is_the_sum_of_its_points():
    groups = {
        k: figures(r, f, o)
        for k, (r, f, o) in {"x": (7, 5, 2), "y": (3, 2, 2), "z": (11, 1, 0)}.items()
    }
    ranked, _ = scoring.score_groups(groups, REGENCY, BANDS)
    for s in ranked:
        assert s.score == sum(v.points for v in s.values)
        for v in s.values:
            assert v.points == v.criterion.weight * v.normalised


def test_shares_equal_after_rounding_tie_and_nobody_beats_the_best():
    # 2/3 and 20001/30000 both show as 0.6667: what is shown is what counts, so they tie.
    groups = {"small": figures(3, 2, 2), "large": figures(30000, 20001, 20001)}
    criteria = [
        CriterionSpec("followed_up_share", D(1), "against_best", order=1),
        CriterionSpec("on_time_share", D(1), "as_is", order=2),
    ]
    ranked, bests = scoring.score_groups(groups, criteria)
    assert bests["followed_up_share"] == D("0.6667")
    assert [(s.key, s.score, s.rank) for s in ranked] == [
        ("large", D("1.6667"), 1),
        ("small", D("1.6667"), 1),
    ]
    assert all(v.normalised <= 1 for s in ranked for v in s.values)


def test_inverse_against_the_best_floors_at_one_hour_and_caps_at_one():
    criteria = [CriterionSpec("median_hours_to_follow_up", D(1), "inverse_best")]
    groups = {
        "instant": figures(4, 4, 4, median_hours=D("0.25")),
        "quick": figures(4, 4, 4, median_hours=D("0.80")),
        "day": figures(4, 4, 4, median_hours=D("24.00")),
        "slow": figures(4, 4, 4, median_hours=D("36.00")),
        "none": figures(4),  # nothing followed up: no median
    }
    ranked, bests = scoring.score_groups(groups, criteria)
    assert bests["median_hours_to_follow_up"] == D("0.25")
    assert {s.key: s.values[0].normalised for s in ranked} == {
        "instant": D("1.0000"),
        "quick": D("1.0000"),  # under one hour counts as one hour: as good as the best
        "day": D("0.0417"),  # 1 / 24
        "slow": D("0.0278"),  # 1 / 36
        "none": D(0),
    }
    assert [s.rank for s in ranked] == [1, 1, 3, 4, 5]


def test_complement_for_breaches_and_rating_against_the_best():
    criteria = [
        CriterionSpec("breach_share", D("0.5"), "complement", order=1),
        CriterionSpec("mean_rating", D("0.5"), "against_best", order=2),
    ]
    groups = {
        "p": figures(10, breached=2, rated=3, rating_sum=14),  # 0.2000; 4.67
        "q": figures(10, breached=0, rated=2, rating_sum=9),  # 0.0000; 4.50
        "r": figures(0),
    }
    ranked, _ = scoring.score_groups(groups, criteria)
    rows = {s.key: [(v.raw, v.normalised, v.points) for v in s.values] for s in ranked}
    assert rows["p"] == [(D("0.2"), D("0.8"), D("0.4")), (D("4.67"), D(1), D("0.5"))]
    assert rows["q"] == [(D(0), D(1), D("0.5")), (D("4.5"), D("0.9636"), D("0.4818"))]
    assert rows["r"] == [(None, D(0), D(0)), (None, D(0), D(0))]


def test_the_agency_scale_reaches_exactly_one():
    criteria = [
        CriterionSpec("received", D("0.3333"), "against_best", order=1),
        CriterionSpec("followed_up_share", D("0.3333"), "as_is", order=2),
        CriterionSpec("on_time_share", D("0.3334"), "as_is", order=3),
    ]
    ranked, _ = scoring.score_groups({"perfect": figures(9, 9, 9)}, criteria)
    assert ranked[0].score == D("1.0000")


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (D("3"), "Sangat baik"),
        (D("2.5"), "Sangat baik"),
        (D("2.4999"), "Baik"),
        (D("1.5"), "Cukup"),
        (D("0"), "Kurang"),
    ],
)
def test_bands_by_threshold(score, band):
    assert scoring.band_for(score, BANDS).name_id == band


def test_no_band_below_the_lowest_threshold():
    assert scoring.band_for(D("0.4"), [BandSpec("Baik", "Good", D("0.5"))]) is None


def test_competition_ranks():
    assert scoring.rank([D(3), D(2), D(2), D(1), D(1), D(0)]) == [1, 2, 2, 4, 4, 6]
