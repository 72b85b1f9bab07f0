"""/rankings/ in a real Chromium: chart and table in Indonesian, the CSV as downloaded matches the
table as shown, no serious accessibility violation (axe-core), and a clean print."""

import csv
import io
from pathlib import Path

import pytest

from . import dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "assets" / "axe.min.js"


@pytest.fixture
def published():
    return dataset.publish_small_year()


def table_as_shown(page):
    header = [th.inner_text().strip() for th in page.locator("#ranking-table thead th").all()]
    rows = []
    for tr in page.locator("#ranking-table tbody tr").all():
        rows.append([cell.inner_text().strip() for cell in tr.locator("th, td").all()])
    return header, rows


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_ranking_page_chart_table_csv_and_accessibility(live_server, page, published):
    page.goto(live_server.url + "/rankings/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert (
        "Peringkat pengelolaan pengaduan kabupaten dan kota, 2025"
        in page.locator("h1").inner_text()
    )
    chart = page.locator("svg.bar-chart")
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img"
    assert "Diagram batang" in chart.locator("title").text_content()
    assert "Kota Banjarbaru" in chart.locator("desc").text_content()
    segments = chart.locator("rect[fill]")
    assert segments.count() >= 3  # scored segments, drawn with a width
    assert all(segments.nth(i).bounding_box()["width"] > 1 for i in range(segments.count()))
    first_bar_value = chart.locator("text.chart-value").first
    assert first_bar_value.text_content() == "2,50"  # Banjarmasin: 2 of 4 received, all on time
    assert first_bar_value.bounding_box()["width"] < 40  # one piece of text, not scattered
    box = chart.bounding_box()
    assert box["width"] <= 390  # fits the phone's width

    # The compact table at 390 px: every group's rank, name, score, predicate, movement and
    # weakest criterion on screen, nothing wider than the phone.
    assert no_sideways_scroll(page)
    first = page.locator("#ranking-compact tbody.ranking-group").first
    for cell in ("th.c-name", "td.c-rank", "td.c-score", "td.c-band", "td.c-move", "td.c-weak"):
        item = first.locator(cell)
        assert item.is_visible(), cell
        item_box = item.bounding_box()
        assert item_box["x"] >= 0 and item_box["x"] + item_box["width"] <= 390, cell
    assert "Kota Banjarmasin" in first.locator("th.c-name").inner_text()
    assert first.locator("td.c-score").inner_text().endswith("2,50")
    breakdown = first.locator("details.breakdown")
    assert not breakdown.locator("ul").is_visible()  # on demand
    breakdown.locator("summary").click()
    assert "× bobot 1,00 =" in breakdown.locator("ul").inner_text()
    assert no_sideways_scroll(page)

    # The full table is folded; opened, it scrolls in its own region, not the page.
    assert not page.locator("#ranking-table").is_visible()
    page.locator("#full-table > summary").click()
    assert page.locator("#ranking-table").is_visible()
    assert no_sideways_scroll(page)
    header, rows = table_as_shown(page)
    assert header[:3] == ["Peringkat", "Pergerakan", "Kabupaten/kota"]
    assert len(header) == 18 and len(rows) == 13
    assert rows[0][2] == "Kota Banjarmasin"  # 2 of 2 followed up on time

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV untuk Excel (Indonesia)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    downloaded = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert downloaded[0] == header
    assert downloaded[1:] == rows  # the same numbers, in the same Indonesian form

    page.evaluate(AXE.read_text())  # not a script tag: the Content-Security-Policy refuses those
    result = page.evaluate("async () => await axe.run(document)")
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    assert result["passes"]  # axe really ran

    page.reload()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("link", name="CSV", exact=True).is_visible()
    assert page.locator("#ranking-table").is_visible()  # printed although folded on screen
    assert not page.locator("#ranking-compact").is_visible()


def test_regency_row_opens_its_public_figures(live_server, page, published):
    page.goto(live_server.url + "/rankings/2025/")
    page.get_by_role("link", name="Kota Banjarbaru").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/rankings/2025/regions/63.72/")
    assert "Kota Banjarbaru: angka pengaduan, 2025" in page.locator("h1").inner_text()
    page.evaluate(AXE.read_text())  # not a script tag: the Content-Security-Policy refuses those
    result = page.evaluate("async () => await axe.run(document)")
    assert [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")] == []


def test_print_button_and_print_layout(live_server, page, published):
    page.goto(live_server.url + "/rankings/2025/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    button = page.get_by_role("button", name="Cetak")
    assert button.is_visible()
    button.click()
    assert page.evaluate("window.printed") == 1
    assert not page.locator(".print-head").is_visible()  # on screen: no print heading

    # Printing opens the folded full table (and folds it again afterwards).
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("#full-table").get_attribute("open") is not None
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.locator("#full-table").get_attribute("open") is None

    page.emulate_media(media="print")
    head = page.locator(".print-head")
    assert head.is_visible()
    assert "Pemerintah Provinsi Kalimantan Selatan" in head.text_content()
    assert "Dinas Komunikasi dan Informatika" in head.text_content()
    meta = page.locator(".print-meta").inner_text()
    assert "Status: diterbitkan" in meta and "2025" in meta and "Dicetak pada" in meta
    assert (
        "Peringkat pengelolaan pengaduan kabupaten dan kota, 2025"
        in page.locator("h1").inner_text()
    )
    assert not button.is_visible()
    assert page.locator("#ranking-table").is_visible()
    rules = page.locator(".counting-rules")
    assert rules.is_visible()
    assert rules.evaluate("e => getComputedStyle(e).breakBefore") == "page"  # its own last page
    assert page.evaluate(
        "[...document.querySelectorAll('main section')].pop().classList.contains('counting-rules')"
    )
    assert len(page.pdf(format="A4", landscape=True)) > 1000  # Chromium prints it
