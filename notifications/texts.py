"""Short messages: rendered from ``templates/messages/<name>.txt`` in the site's language, on
one line, and for SMS made to fit one message of the GSM-7 alphabet where possible.

A text of GSM-7 characters fits 160 in one SMS; one character outside it (a curly quote, an
emoji) makes the whole message UCS-2, 70 a part. So typographic characters are replaced by their
plain equivalents and accents dropped; what still falls outside the alphabet (a script that has
no Latin form) is kept, and the text is cut at 70 characters instead.
"""

import unicodedata

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

SMS_GSM7_LIMIT = 160
SMS_UCS2_LIMIT = 70
WHATSAPP_LIMIT = 1000

# The GSM 03.38 basic character set (the extension table's characters count double; left out).
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
PLAIN = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "–": "-",
        "—": "-",
        "…": "...",
        "•": "-",
        "\u00a0": " ",
        "\t": " ",
    }
)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7 for ch in text)


def gsm7_text(text: str) -> str:
    """``text`` with typographic characters made plain and accents dropped where that brings
    it into the GSM-7 alphabet; characters with no plain form are kept."""
    text = text.translate(PLAIN)
    out = []
    for ch in text:
        if ch in GSM7:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(c in GSM7 for c in base) else ch)
    return "".join(out)


def one_line(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with "..." when it is longer."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "..."


def sms_text(text: str) -> str:
    """One SMS: GSM-7 and 160 characters where possible, else 70 characters."""
    text = gsm7_text(one_line(text))
    return shorten(text, SMS_GSM7_LIMIT if is_gsm7(text) else SMS_UCS2_LIMIT)


def whatsapp_text(text: str) -> str:
    return shorten(one_line(text.translate(PLAIN)), WHATSAPP_LIMIT)


def message_render(template: str, context: dict, *, channel: str) -> str:
    """The text of a short message, in the site's language (Indonesian)."""
    context = {**context, "site_url": settings.LAPOR_SITE_URL}
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string(f"messages/{template}.txt", context)
    return sms_text(text) if channel == "sms" else whatsapp_text(text)
