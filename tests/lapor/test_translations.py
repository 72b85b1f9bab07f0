"""Indonesian is the default language: every text marked for translation must have one."""

import ast
import gettext
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PO = BASE_DIR / "locale" / "id" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def po_entries(path: Path) -> list[tuple[str, str, str]]:
    """(msgctxt, msgid, msgstr) of every singular entry; enough of the PO format for this check."""
    entries, current, field = [], {}, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current.get("msgid") and "msgid_plural" not in current:
                entries.append((current.get("msgctxt", ""), current["msgid"], current["msgstr"]))
            current, field = {}, None
        elif line.startswith('"'):
            current[field] += ast.literal_eval(line)
        else:
            keyword, _space, value = line.partition(" ")
            field = "msgstr" if keyword in {"msgstr", "msgstr[0]"} else keyword
            current[field] = ast.literal_eval(value)
    return entries


def test_every_indonesian_message_is_translated_and_compiled():
    entries = po_entries(PO)
    assert len(entries) > 50
    untranslated = [msgid for _ctx, msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for ctx, msgid, msgstr in entries
        if (catalog.pgettext(ctx, msgid) if ctx else catalog.gettext(msgid)) != msgstr and msgstr
    ]
    assert stale == [], "run `make messages` to compile locale/id"
