"""The monitoring report in a real Chromium: readable at 390 px (nothing wider than the phone),
clean in print, and the printed ranking page and printed report carry the page's numbers."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from awards.models import Level

from . import dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "assets" / "axe.min.js"


@pytest.fixture
def published():
    dataset.publish_small_year(levels=Level.values)


def words(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def compact_rows(page) -> list[list[str]]:
    rows = []
    for group in page.locator("#ranking-compact tbody.ranking-group").all():
        rows.append(
            [
                group.locator(selector).first.inner_text().strip()
                for selector in ("td.c-rank", "th.c-name", "td.c-score", "td.c-band")
            ]
        )
    return rows


def test_report_on_a_phone_and_in_print(live_server, page, published):
    page.goto(live_server.url + "/rankings/2025/")
    ranking = compact_rows(page)
    assert len(ranking) == 13 and ranking[0][1] == "Kota Banjarmasin"
    printed_ranking = words(page.pdf(format="A4", landscape=True))  # the print layout
    for rank, name, score, band in ranking:
        # The printed full table: rank, movement, name, score, exact score, predicate, ...
        row = rf"{rank} \S+ {re.escape(name)} {re.escape(score)} \S+ {re.escape(band)} "
        assert re.search(row, printed_ranking), name

    page.get_by_role("link", name="Laporan monitoring 2025").click()
    page.wait_for_load_state()
    assert page.url.endswith("/rankings/2025/report/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for section in ("#report-summary", "#report-ranking", "#report-regencies", "#report-plans"):
        box = page.locator(section).bounding_box()
        assert box is not None and box["x"] >= 0, section
    cells = page.locator("#report-ranking tbody tr").first.locator("th, td").all()
    assert [c.inner_text().strip() for c in cells][:4] == ranking[0]
    for cell in cells[:4]:  # rank, name, score, predicate on screen at 390 px
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.evaluate(AXE.read_text())  # not a script tag: the Content-Security-Policy refuses those
    result = page.evaluate("async () => await axe.run(document)")
    assert [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")] == []

    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("link", name="Unduh PDF").is_visible()
    assert "PEMERINTAH PROVINSI KALIMANTAN SELATAN" in page.locator(".report-head").inner_text()
    printed_report = words(page.pdf(format="A4"))
    for rank, name, score, band in ranking:
        assert f"{rank} {name} {score} {band}" in printed_report, name
