"""Numbers in the reader's language: 2,59 on Indonesian pages, 2.59 on English ones; the plain
CSV keeps the machine's 2.59 whatever the language."""

import re

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from tests.awards.test_views import (  # noqa: F401 - fixtures
    csv_rows,
    data,
    fast_password_hashing,
    frozen_clock,
    published,
    staff,
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "2,59"), ("en", "2.59")],
)
def test_a_decimal_in_each_language(language, expected):
    template = Template("{{ number|floatformat:2 }}")
    with translation.override(language):
        assert template.render(Context({"number": 2.5912})) == expected


def decimals_in_table(html: str) -> set[str]:
    start = html.index('id="ranking-table"')
    table = html[start : html.index("</table>", start)]
    return set(re.findall(r"<td>(-?\d+[.,]\d+)</td>", table))


@pytest.mark.django_db
def test_the_ranking_page_in_indonesian_and_english(client, published):  # noqa: F811
    page_id = client.get("/rankings/2025/").content.decode()
    found = decimals_in_table(page_id)
    assert found and all("," in n and "." not in n for n in found)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page_en = client.get("/rankings/2025/").content.decode()
    assert 'lang="en"' in page_en
    found = decimals_in_table(page_en)
    assert found and all("." in n and "," not in n for n in found)

    rows = csv_rows(client.get("/rankings/2025/csv/"))
    assert any(re.fullmatch(r"\d+\.\d+", cell) for cell in rows[1])
    assert not any(re.fullmatch(r"\d+,\d+", cell) for row in rows for cell in row)


@pytest.mark.django_db
def test_home_figures_group_thousands_in_indonesian(client):
    template = Template('{{ n|floatformat:"0g" }}')
    with translation.override("id"):
        assert template.render(Context({"n": 12345})) == "12.345"
    with translation.override("en"):
        assert template.render(Context({"n": 12345})) == "12,345"
