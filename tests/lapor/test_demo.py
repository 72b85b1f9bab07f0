"""The demo seed shows what Lapor is for on the first run: a published ranking of last year
made from its own complaints, and this year's draft, at both levels."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.demo import demo_accounts_seed
from awards.models import Level, Result, ResultStatus
from complaints.models import ComplaintEvent, EventKind
from lapor.demo import demo_complaints_seed, demo_rankings_seed

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Makassar"))


@pytest.mark.django_db
def test_demo_publishes_last_years_ranking_and_drafts_this_years(settings, client, media_root):
    settings.DEBUG = True
    with time_machine.travel(NOW, tick=False):
        demo_accounts_seed()
        demo_complaints_seed(per_region=2, now=NOW)
        demo_rankings_seed(now=NOW)
        demo_rankings_seed(now=NOW)  # a second run publishes nothing again

        for level in Level.values:
            published = Result.objects.get(year=2025, level=level)
            assert published.status == ResultStatus.PUBLISHED
            assert published.published_by.username == "provinsi"
            assert published.rows.exists()
            assert Result.objects.get(year=2026, level=level).status == ResultStatus.DRAFT
        scores = Result.objects.get(year=2025, level=Level.REGENCY).rows.values_list(
            "score", flat=True
        )
        assert any(scores)  # ranked from the demo's own complaints

        # Resolved street lights and roads carry an "after" photo.
        resolutions = ComplaintEvent.objects.filter(
            kind=EventKind.RESOLVED, complaint__category__code__in=["pju", "jalan"]
        )
        assert resolutions.exists()
        for event in resolutions:
            assert [a.content_type for a in event.attachments.all()] == ["image/png"]

        response = client.get("/rankings/")
    assert response.status_code == 200
    assert response.context["result"].year == 2025
    assert response.context["result"].status == ResultStatus.PUBLISHED
