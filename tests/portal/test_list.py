"""The public list and search: keyset pages in a stable order, ranked search, no rahasia."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal import views
from tests.factories import complaint_submitted

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def codes(response) -> list[str]:
    return [c.tracking_code for c in response.context["page"].object_list]


def test_pages_follow_each_other_newest_first_without_gaps_or_repeats(client, monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 3)
    now = timezone.now()
    # Three complaints in the same microsecond: the id breaks the tie, so nothing is lost.
    made = [complaint_submitted(now=now - timedelta(hours=n // 3)).complaint for n in range(7)]
    expected = [
        c.tracking_code for c in sorted(made, key=lambda c: (c.created_at, c.pk), reverse=True)
    ]

    first = client.get("/complaints/")
    second = client.get(f"/complaints/?after={first.context['page'].next_cursor}")
    third = client.get(f"/complaints/?after={second.context['page'].next_cursor}")
    assert codes(first) + codes(second) + codes(third) == expected
    assert not third.context["page"].has_next
    assert not first.context["page"].has_previous
    back = client.get(f"/complaints/?before={second.context['page'].previous_cursor}")
    assert codes(back) == codes(first)
    html = second.content.decode()
    assert 'rel="next"' in html and 'rel="prev"' in html


def test_filters_are_kept_in_the_page_links(client, monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 1)
    complaint_submitted(region_code="63.71")
    complaint_submitted(region_code="63.71")
    complaint_submitted(region_code="63.72")
    first = client.get("/complaints/?region=63.71")
    assert f"region=63.71&amp;after={first.context['page'].next_cursor}" in first.content.decode()
    second = client.get(f"/complaints/?region=63.71&after={first.context['page'].next_cursor}")
    assert len(codes(second)) == 1
    assert not second.context["page"].has_next


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "W10",
        "WyJ4IiwgMV0",
        # 30 February, a +99:00 offset, year 1 and year 9999 in a well-formed cursor
        "WyIyMDI2LTAyLTMwVDEwOjAwOjAwKzA4OjAwIiwgMV0",
        "WyIyMDI2LTAxLTMwVDEwOjAwOjAwKzk5OjAwIiwgMV0",
        "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzA4OjAwIiwgMV0",
        "WyI5OTk5LTEyLTMxVDIzOjU5OjU5LTA4OjAwIiwgMV0",
    ],
)
def test_a_cursor_that_is_not_ours_shows_the_first_page(client, cursor):
    # (A NUL in any query value is refused earlier, by the input guard: a 400.)
    made = complaint_submitted().complaint
    response = client.get(f"/complaints/?after={cursor}&before={cursor}")
    assert response.status_code == 200
    assert codes(response) == [made.tracking_code]


def test_search_ranks_title_over_address_over_description_and_finds_affixed_words(client):
    in_description = complaint_submitted(
        title="Jalan gelap", description="Lampunya mati sejak minggu lalu."
    ).complaint
    in_title = complaint_submitted(title="Lampu jalan padam").complaint
    in_address = complaint_submitted(
        title="Jalan gelap", address="Gang Lampu Merah, RT 3", description="Gelap sekali."
    ).complaint
    complaint_submitted(title="Sampah menumpuk", description="Sampah di pasar.")
    response = client.get("/complaints/?q=LAMPU")
    assert codes(response) == [
        in_title.tracking_code,
        in_address.tracking_code,
        in_description.tracking_code,
    ]
    # Every word must occur.
    assert codes(client.get("/complaints/?q=lampu+padam")) == [in_title.tracking_code]


def test_search_never_shows_rahasia_complaints(client):
    complaint_submitted(title="Lampu rahasia", is_confidential=True)
    response = client.get("/complaints/?q=lampu")
    assert codes(response) == []
    assert "Lampu rahasia" not in response.content.decode()


def test_a_search_with_only_short_words_says_why(client):
    made = complaint_submitted().complaint
    response = client.get("/complaints/?q=ab+c")
    assert response.status_code == 200
    assert response.context["filter"].errors["q"]
    assert codes(response) == [made.tracking_code]


def test_search_treats_like_wildcards_as_letters(client):
    complaint_submitted(title="Diskon 100% palsu")
    complaint_submitted(title="Jalan berlubang")
    assert len(codes(client.get("/complaints/?q=100%25"))) == 1
    assert codes(client.get("/complaints/?q=___")) == []
