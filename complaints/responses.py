"""Response templates: the placeholders their text may hold, and filling them in.

A template's text is written by staff for many complaints; when one is picked for a complaint
the placeholders are filled in from it (``response_fill``). ``{perangkat_daerah_baru}``, the
agency a complaint is re-routed to, is only known when the re-route is sent: it is filled in
then, and a note still holding a placeholder that cannot be filled is refused rather than sent.
"""

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# Name -> what it stands for (shown to staff writing a template).
PLACEHOLDERS = {
    "kode": gettext_lazy("the complaint's tracking code"),
    "judul": gettext_lazy("the complaint's title"),
    "kategori": gettext_lazy("its category"),
    "wilayah": gettext_lazy("its regency or city"),
    "perangkat_daerah": gettext_lazy("the agency handling it"),
    "perangkat_daerah_baru": gettext_lazy("the agency it is re-routed to (re-route only)"),
}


def placeholders_in(text: str) -> list[str]:
    """The names in braces in ``text``, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def response_body_check(text: str) -> None:
    """Refuse a template text naming a placeholder that does not exist (a typo would otherwise
    reach a citizen as ``{kode_}``)."""
    unknown = [name for name in placeholders_in(text) if name not in PLACEHOLDERS]
    if unknown:
        raise ValidationError(
            {
                "body": _("Unknown placeholder: %(names)s. Available: %(known)s.")
                % {
                    "names": ", ".join("{" + name + "}" for name in unknown),
                    "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
                }
            }
        )


def _values(complaint, new_agency=None) -> dict[str, str]:
    values = {
        "kode": complaint.tracking_code,
        "judul": complaint.title,
        "kategori": complaint.category.name if complaint.category_id else "",
        "wilayah": complaint.region.name if complaint.region_id else "",
        "perangkat_daerah": complaint.assigned_agency.name if complaint.assigned_agency_id else "",
    }
    if new_agency is not None:
        values["perangkat_daerah_baru"] = new_agency.name
    return {name: value for name, value in values.items() if value}


def response_fill(text: str, complaint, *, new_agency=None) -> str:
    """``text`` with each placeholder it can fill from ``complaint`` filled in; the others
    (``{perangkat_daerah_baru}`` before an agency is chosen) stay as they are."""
    values = _values(complaint, new_agency)
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")


def placeholders_left(text: str, names: Iterable[str] = PLACEHOLDERS) -> list[str]:
    """The known placeholders still in ``text`` (a note about to be sent)."""
    known = set(names)
    return [name for name in placeholders_in(text) if name in known]
