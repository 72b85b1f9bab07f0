"""The ranking's downloads and the page agree number for number: the plain CSV with the English
page, the Indonesian Excel CSV (";", decimal comma, BOM) with the Indonesian page, the XLSX
(numbers as numbers) with both; every cell formula-safe in all three."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from openpyxl import load_workbook

from awards.models import ResultRow

from . import dataset
from .dataset import WITA

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=WITA)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def published(db):
    return dataset.publish_small_year()


class Tables(HTMLParser):
    """The text of every cell of the tables with an id, row by row."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif self._table is not None and tag == "tr":
            self._table.append([])
        elif self._table is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(client, url, language):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_of(response, delimiter=","):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))


def test_csv_excel_csv_xlsx_and_page_show_the_same_numbers(client, published):
    english = page_tables(client, "/rankings/2025/", "en")["ranking-table"]
    indonesian = page_tables(client, "/rankings/2025/", "id")["ranking-table"]
    plain = csv_of(client.get("/rankings/2025/csv/", HTTP_ACCEPT_LANGUAGE="en"))
    excel = client.get("/rankings/2025/csv/excel/", HTTP_ACCEPT_LANGUAGE="id")
    assert excel["Content-Disposition"].endswith('-excel-id.csv"')
    excel_id = csv_of(excel, delimiter=";")
    assert excel.content.decode("utf-8").splitlines()[1].count(";") == 17  # 18 columns
    assert plain == english and len(plain) == 14  # header and 13 regencies
    assert excel_id == indonesian
    assert indonesian[1][3:5] == ["2,50", "2,5000"]  # Indonesian numbers on Indonesian pages
    assert english[1][3:5] == ["2.50", "2.5000"]

    response = client.get("/rankings/2025/xlsx/", HTTP_ACCEPT_LANGUAGE="id")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    xlsx = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert xlsx[0] == excel_id[0]  # the header in the request's language
    for xrow, prow, irow in zip(xlsx[1:], plain[1:], indonesian[1:], strict=True):
        for value, text, shown in zip(xrow, prow, irow, strict=True):
            if isinstance(value, (int, float)):
                assert Decimal(text) == Decimal(str(value)), (text, value)
                assert Decimal(shown.replace(",", ".")) == Decimal(str(value))
            else:
                assert (value or "") == shown
    banjarmasin = next(r for r in xlsx if r[2] == "Kota Banjarmasin")
    assert banjarmasin[0] == 1 and banjarmasin[3] == 2.5  # numbers, not text

    compact = page_tables(client, "/rankings/2025/", "id")["ranking-compact"]
    head = compact[0]
    assert head == [
        "Peringkat",
        "Kabupaten/kota",
        "Nilai",
        "Predikat",
        "Pergerakan",
        "Kriteria terlemah",
    ]
    groups = [r for r in compact[1:] if len(r) == 6]
    assert [(r[0], r[1], r[2], r[3]) for r in groups] == [
        (r[0], r[2], r[3], r[5]) for r in indonesian[1:]
    ]


def test_weakest_criterion_is_the_one_that_lost_most_points(client, published):
    response = client.get("/rankings/2025/", HTTP_ACCEPT_LANGUAGE="en")
    rows = {c["row"].name: c for c in response.context["compact"]}
    # Banjar: 4 received of the best 4 (1.00), 1 of 4 followed up (0.25), on time 0.25:
    # followed up and on time both lose 0.75; the first in the scheme's order is named.
    banjar = rows["Kabupaten Banjar"]
    assert banjar["weakest"] == "Complaints followed up"
    assert [b["points"] for b in banjar["breakdown"]] == ["1.0000", "0.2500", "0.2500"]
    # Banjarmasin: 2 of the best 4 received, all followed up on time: participation is weakest.
    assert rows["Kota Banjarmasin"]["weakest"].startswith("Complaints through LAPOR")


def test_every_download_is_formula_safe(client, published):
    ResultRow.objects.filter(result=published, region__code="63.72").update(
        name='=HYPERLINK("http://evil.example","klik")'
    )
    rows = csv_of(client.get("/rankings/2025/csv/excel/"), delimiter=";")
    assert any(r[2] == '\'=HYPERLINK("http://evil.example","klik")' for r in rows)
    sheet = load_workbook(io.BytesIO(client.get("/rankings/2025/xlsx/").content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    evil = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert evil and all(c.data_type == "s" for c in evil)  # text, never a formula
    assert all(c.quotePrefix for c in evil)  # Excel's own "shown as text" mark
    assert not any(c.data_type == "f" for c in cells)


def test_downloads_refuse_bad_input_clearly(client, published):
    assert client.get("/rankings/2025/xlsx/?level=nope").status_code == 400
    assert client.get("/rankings/2025/csv/excel/?level=agency&region=99.99").status_code == 400
    assert client.get("/rankings/2019/xlsx/").status_code == 404
