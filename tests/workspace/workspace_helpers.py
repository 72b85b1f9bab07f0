"""Shared set-up for the staff workspace tests: the seven kinds of visitor and a few complaints."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from agencies.models import RoutingRule
from tests.factories import (
    UserFactory,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
)

PERSONAS = (
    "anonymous",
    "citizen",
    "officer",
    "other_officer",
    "coordinator",
    "other_coordinator",
    "province",
)


def persona(name: str):
    """A user of the named kind; Banjarbaru (63.72) is "ours", Banjarmasin (63.71) "other"."""
    return {
        "anonymous": lambda: None,
        "citizen": lambda: UserFactory(username="warga"),
        "officer": lambda: officer("63.72", "perkim", username="perkim"),
        "other_officer": lambda: officer("63.72", "pupr", username="pupr"),
        "coordinator": lambda: coordinator("63.72", username="kominfo-bjb"),
        "other_coordinator": lambda: coordinator("63.71", username="kominfo-bjm"),
        "province": lambda: province_staff(username="provinsi"),
    }[name]()


def triage_complaint(region_code: str = "63.72", **kw):
    """A complaint no routing rule places: it waits in the region's triage."""
    RoutingRule.objects.filter(region__code=region_code, category__code="lainnya").delete()
    kw.setdefault("title", "Keluhan umum tanpa instansi")
    return complaint_submitted(region_code=region_code, category_code="lainnya", **kw).complaint


def png_upload(name: str = "tangkapan-layar.png", colour: str = "white") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
