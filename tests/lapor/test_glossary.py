"""One Indonesian voice (docs/glossary.md): the catalog, Django's own texts included, uses the
glossary's words, and flash messages are full sentences."""

import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

PO = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES" / "django.po"


def indonesian_texts() -> list[str]:
    """Every msgstr of our catalog, continuation lines joined."""
    texts, current = [], None
    for line in PO.read_text().splitlines():
        if line.startswith("msgstr"):
            current = [line.split(" ", 1)[1].strip('"')]
            texts.append(current)
        elif line.startswith('"') and current is not None:
            current.append(line.strip('"'))
        else:
            current = None
    return ["".join(parts) for parts in texts]


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"\binstansi\b", "agency: perangkat daerah (SKPD)"),
        (r"\brespon\b", "respons, not respon"),
        (r"(?<![Kk]ata )\b[Ss]andi\b", "kata sandi, not sandi"),
        (r"^Tersimpan:", "flash messages are full sentences"),
        (r"^Angka$", "the staff page's name says what it shows"),
    ],
)
def test_the_catalog_follows_the_glossary(pattern, why):
    offending = [text for text in indonesian_texts() if re.search(pattern, text)]
    assert offending == [], why


@pytest.mark.parametrize(
    "source",
    ["Password", "Password confirmation", "New password", "The two password fields didn’t match."],
)
def test_djangos_own_password_texts_say_kata_sandi(source):
    with translation.override("id"):
        text = gettext(source)
    assert "kata sandi" in text.lower(), text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("The action “%(action)s” has been saved.", "Tindakan “%(action)s” sudah disimpan."),
        ("Complaint statistics", "Statistik pengaduan"),
        ("With the agency", "Di perangkat daerah"),
    ],
)
def test_key_texts(source, expected):
    with translation.override("id"):
        assert gettext(source) == expected
