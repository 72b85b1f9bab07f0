"""Computing, publishing (frozen), withdrawing, republishing, movement; the default schemes."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from awards.models import (
    Level,
    LogAction,
    RankingLog,
    Result,
    ResultStatus,
    Scheme,
)
from awards.services import (
    RankingError,
    ranking_compute,
    ranking_publish,
    ranking_withdraw,
    rankings_refresh_current,
)
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from tests.factories import agency, complaint_new, coordinator, province_staff

from .dataset import WITA

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WITA)
NOW = datetime(2025, 12, 1, 9, 0, tzinfo=WITA)
# Publishing 2025 on 1 December is early: it needs a reason (see the test for that rule).
EARLY = "Rakerda dimajukan ke Desember"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    return province_staff(username="prov.kalsel")


def follow_up(complaint, staff, *, hours):
    complaint_transition(
        complaint=complaint,
        action=Action.FOLLOW_UP,
        role=Role.PROVINCE_STAFF,
        actor=staff,
        note="Ditinjau",
        now=complaint.created_at + timedelta(hours=hours),
    )


@pytest.fixture
def year_2025(staff):
    """Banjarbaru: 4 complaints, 3 followed up (2 on time); Banjarmasin: 2, both on time."""
    bjb = [complaint_new(now=T0 + timedelta(days=i)) for i in range(4)]
    for c, hours in zip(bjb[:3], (5, 20, 100), strict=True):
        follow_up(c, staff, hours=hours)
    for i in range(2):
        c = complaint_new(now=T0 + timedelta(days=i), region_code="63.71")
        follow_up(c, staff, hours=10)
    return bjb


def rows_by_code(result):
    return {r.region.code: r for r in result.rows.all()}


@pytest.mark.django_db
def test_default_schemes_are_created_by_migration():
    regency = Scheme.objects.get(year__isnull=True, is_default=True, level=Level.REGENCY)
    assert [(c.indicator, c.weight, c.normalisation) for c in regency.criteria.all()] == [
        ("received", Decimal("1.0000"), "against_best"),
        ("followed_up_share", Decimal("1.0000"), "as_is"),
        ("on_time_share", Decimal("1.0000"), "as_is"),
    ]
    assert [b.name_id for b in regency.bands.all()] == ["Sangat baik", "Baik", "Cukup", "Kurang"]
    agency_scheme = Scheme.objects.get(year__isnull=True, is_default=True, level=Level.AGENCY)
    assert sum(c.weight for c in agency_scheme.criteria.all()) == Decimal(1)


@pytest.mark.django_db
def test_compute_ranks_every_regency_with_its_breakdown(year_2025):
    result = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    assert result.status == ResultStatus.DRAFT
    rows = rows_by_code(result)
    assert len(rows) == 13  # every regency and city, the province itself not
    bjb, bjm = rows["63.72"], rows["63.71"]
    # Banjarbaru: 4/4 = 1, 3/4 = 0.75, 2/4 = 0.5 (100 hours is past the 3-day deadline).
    assert [(v.raw, v.normalised, v.points) for v in bjb.values.all()] == [
        (Decimal(4), Decimal(1), Decimal(1)),
        (Decimal("0.75"), Decimal("0.75"), Decimal("0.75")),
        (Decimal("0.5"), Decimal("0.5"), Decimal("0.5")),
    ]
    assert (bjb.score, bjb.rank, bjb.band_id) == (Decimal("2.25"), 2, "Baik")
    # Banjarmasin: 2/4 = 0.5, 1, 1.
    assert [v.normalised for v in bjm.values.all()] == [Decimal("0.5"), Decimal(1), Decimal(1)]
    assert (bjm.score, bjm.rank, bjm.band_id) == (Decimal("2.5"), 1, "Sangat baik")
    # No complaints: zero on every criterion, sharing the last rank.
    others = [r for code, r in rows.items() if code not in ("63.72", "63.71")]
    assert {(r.score, r.rank, r.band_id) for r in others} == {(Decimal(0), 3, "Kurang")}
    # The year's own scheme was copied from the default the first time.
    assert result.scheme.year == 2025
    assert result.scheme_snapshot["criteria"][0]["best"] == "4"


@pytest.mark.django_db
def test_every_row_re_adds_to_its_score(staff):
    from tests.awards import dataset

    dataset.generate(actor=staff, count=30)
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=WITA), tick=False):
        for level in Level.values:
            result = ranking_compute(year=2025, level=level)
            ranking_publish(result=result, actor=staff)
    for result in Result.objects.filter(status=ResultStatus.PUBLISHED):
        assert result.rows.exists()
        for row in result.rows.prefetch_related("values"):
            values = list(row.values.all())
            assert len(values) == 3
            assert row.score == sum(v.points for v in values)
            assert all(v.points == v.weight * v.normalised for v in values)


@pytest.mark.django_db
def test_publishing_freezes_the_year_while_the_draft_moves(year_2025, staff):
    published = ranking_publish(
        result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW),
        actor=staff,
        reason=EARLY,
        now=NOW,
    )
    before = {
        code: (r.rank, r.score, [(v.raw, v.points) for v in r.values.all()])
        for code, r in rows_by_code(published).items()
    }
    # Later: new complaints and a (late) follow-up.
    later = NOW + timedelta(days=3)
    for _ in range(5):
        complaint_new(now=later, region_code="63.03")
    follow_up(year_2025[3], staff, hours=24 * 20)
    scheme = published.scheme
    assert scheme.is_locked
    draft = ranking_compute(year=2025, level=Level.REGENCY, now=later + timedelta(hours=1))
    published.refresh_from_db()
    after = {
        code: (r.rank, r.score, [(v.raw, v.points) for v in r.values.all()])
        for code, r in rows_by_code(published).items()
    }
    assert after == before
    assert published.status == ResultStatus.PUBLISHED
    assert rows_by_code(draft)["63.03"].values.first().raw == Decimal(5)
    assert (rows_by_code(draft)["63.03"].rank, rows_by_code(draft)["63.03"].score) == (3, 1)
    assert rows_by_code(draft)["63.72"].values.all()[2].raw == Decimal("0.5")
    assert rows_by_code(draft)["63.72"].values.all()[1].raw == Decimal(1)


@pytest.mark.django_db
def test_withdrawing_and_republishing_need_a_reason_and_are_logged(year_2025, staff):
    first = ranking_publish(
        result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW),
        actor=staff,
        reason=EARLY,
        now=NOW,
    )
    with pytest.raises(RankingError) as error:
        ranking_withdraw(result=first, actor=staff, reason="  ", now=NOW)
    assert error.value.field == "reason"
    ranking_withdraw(result=first, actor=staff, reason="Data Tapin belum lengkap", now=NOW)
    first.refresh_from_db()
    assert first.status == ResultStatus.WITHDRAWN
    draft = ranking_compute(year=2025, level=Level.REGENCY, now=NOW + timedelta(hours=1))
    with pytest.raises(RankingError) as error:
        ranking_publish(result=draft, actor=staff, now=NOW + timedelta(hours=2))
    assert error.value.field == "reason"
    again = ranking_publish(
        result=draft, actor=staff, reason="Data Tapin sudah lengkap", now=NOW + timedelta(hours=2)
    )
    assert again.status == ResultStatus.PUBLISHED
    log = list(RankingLog.objects.filter(year=2025).order_by("at", "pk"))
    assert [e.action for e in log] == [
        LogAction.COMPUTED,
        LogAction.PUBLISHED,
        LogAction.WITHDRAWN,
        LogAction.COMPUTED,
        LogAction.REPUBLISHED,
    ]
    assert log[2].reason == "Data Tapin belum lengkap" and log[2].actor == staff


@pytest.mark.django_db
def test_publishing_over_a_published_year_replaces_it_with_a_reason(year_2025, staff):
    first = ranking_publish(
        result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW),
        actor=staff,
        reason=EARLY,
        now=NOW,
    )
    draft = ranking_compute(year=2025, level=Level.REGENCY, now=NOW + timedelta(days=1))
    with pytest.raises(RankingError):
        ranking_publish(result=draft, actor=staff, reason="short", now=NOW + timedelta(days=1))
    ranking_publish(
        result=draft, actor=staff, reason="Koreksi data Banjarbaru", now=NOW + timedelta(days=1)
    )
    first.refresh_from_db()
    assert first.status == ResultStatus.WITHDRAWN
    assert Result.objects.filter(year=2025, status=ResultStatus.PUBLISHED).get() == draft


@pytest.mark.django_db
def test_only_provincial_staff_publish_and_only_drafts(year_2025, staff):
    draft = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    with pytest.raises(RankingError):
        ranking_publish(result=draft, actor=coordinator("63.72"), now=NOW)
    published = ranking_publish(result=draft, actor=staff, reason=EARLY, now=NOW)
    with pytest.raises(RankingError, match="draf"):  # only a draft
        ranking_publish(result=published, actor=staff, reason="sekali lagi ya", now=NOW)
    with pytest.raises(RankingError, match="diterbitkan"):  # only a published one
        ranking_withdraw(
            result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW),
            actor=staff,
            reason="bukan yang terbit",
        )


@pytest.mark.django_db
def test_rank_movement_against_the_previous_published_year(staff):
    # 2024: Banjarmasin ahead; 2025: Banjarbaru ahead, Banjar new (no complaints in 2024 but
    # regencies are always ranked, so it is not "new": it was last).
    for _ in range(3):
        complaint_new(now=datetime(2024, 5, 1, 9, tzinfo=WITA), region_code="63.71")
    complaint_new(now=datetime(2024, 5, 1, 9, tzinfo=WITA), region_code="63.72")
    ranking_publish(
        result=ranking_compute(year=2024, level=Level.REGENCY, now=NOW), actor=staff, now=NOW
    )
    for _ in range(3):
        complaint_new(now=T0, region_code="63.72")
    result = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    rows = rows_by_code(result)
    assert (rows["63.72"].previous_rank, rows["63.72"].rank, rows["63.72"].movement) == (2, 1, 1)
    assert (rows["63.71"].previous_rank, rows["63.71"].rank, rows["63.71"].movement) == (1, 2, -1)
    assert rows["63.72"].previous_year == 2024


@pytest.mark.django_db
def test_agency_ranking_province_wide_and_within_a_regency(staff):
    complaint_new(now=T0)  # Banjarbaru PUPR
    follow_up(complaint_new(now=T0, category_code="pju"), staff, hours=2)  # Banjarbaru Perkim
    complaint_new(now=T0, region_code="63.71")  # Banjarmasin PUPR
    result = ranking_compute(year=2025, level=Level.AGENCY, now=NOW)
    rows = {(r.region.code, r.agency.code): r for r in result.rows.all()}
    assert set(rows) == {("63.72", "pupr"), ("63.72", "perkim"), ("63.71", "pupr")}
    assert rows[("63.72", "perkim")].rank == 1
    assert rows[("63.72", "perkim")].score == Decimal("1.0000")
    assert rows[("63.72", "pupr")].region_rank == 2
    assert rows[("63.71", "pupr")].region_rank == 1
    assert rows[("63.71", "pupr")].rank == rows[("63.72", "pupr")].rank == 2
    assert rows[("63.72", "perkim")].agency == agency("63.72", "perkim")


@pytest.mark.django_db
def test_bad_year_and_level_are_refused(db):
    with pytest.raises(RankingError) as error:
        ranking_compute(year=2031, level=Level.REGENCY, now=NOW)
    assert error.value.field == "year"
    with pytest.raises(RankingError) as error:
        ranking_compute(year=2025, level="kecamatan", now=NOW)
    assert error.value.field == "level"
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_nightly_refresh_and_the_command_recompute_drafts(year_2025, staff, capsys):
    published = ranking_publish(
        result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW),
        actor=staff,
        reason=EARLY,
        now=NOW,
    )
    results = rankings_refresh_current(now=NOW + timedelta(days=1))
    assert {r.level for r in results} == {"regency", "agency"}
    assert all(r.status == ResultStatus.DRAFT for r in results)
    published.refresh_from_db()
    assert published.status == ResultStatus.PUBLISHED
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        call_command("compute_ranking", "2025", "--level", "regency")
    assert "2025 regency" in capsys.readouterr().out
    assert Result.objects.filter(year=2025, level="regency", status="draft").count() == 1
    # The command's draft replaced the nightly one.
    assert not Result.objects.filter(pk=results[0].pk).exists()


def test_the_nightly_beat_entry_is_there(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-rankings"]
    assert entry["task"] == "awards.tasks.refresh_current_rankings"
    from lapor.celery import app

    app.loader.import_default_modules()
    assert "awards.tasks.refresh_current_rankings" in app.tasks
