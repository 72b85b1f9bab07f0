"""The default scoring schemes (docs/product-rules.md, "The annual ranking"), loaded by
migration."""

from decimal import Decimal

from django.apps import apps as global_apps

# The default schemes (docs/product-rules.md, "The annual ranking"): for regencies three
# criteria of weight 1.00,
# so scores run from 0.00 to 3.00 like the published ones; for agencies the same indicators on a
# 0-1 scale. Provincial staff change them in the admin afterwards.
CRITERIA = [
    (
        1,
        "received",
        "against_best",
        "Pengaduan melalui LAPOR (partisipasi)",
        "Complaints through LAPOR (participation)",
    ),
    (
        2,
        "followed_up_share",
        "as_is",
        "Tindak lanjut pengaduan",
        "Complaints followed up",
    ),
    (
        3,
        "on_time_share",
        "as_is",
        "Respon isu teraktif (tindak lanjut tepat waktu)",
        "Responsiveness (followed up within the deadline)",
    ),
]
WEIGHTS = {
    "regency": (Decimal("1.0000"), Decimal("1.0000"), Decimal("1.0000")),
    "agency": (Decimal("0.3333"), Decimal("0.3333"), Decimal("0.3334")),
}
BANDS = {
    "regency": ("2.5000", "2.0000", "1.5000", "0.0000"),
    "agency": ("0.8500", "0.7000", "0.5000", "0.0000"),
}
BAND_NAMES = [("Sangat baik", "Very good"), ("Baik", "Good"), ("Cukup", "Fair"), ("Kurang", "Poor")]
# Too little data is not a score: below these a group is "data belum cukup" and not ranked.
MINIMUMS = {
    "regency": {"min_received": 20, "min_rated": 10, "thin_data": "unranked"},
    "agency": {"min_received": 10, "min_rated": 5, "thin_data": "unranked"},
}
NAMES = {
    "regency": ("Penilaian kabupaten/kota", "Regency and city ranking"),
    "agency": ("Penilaian perangkat daerah (SKPD)", "Agency (SKPD) ranking"),
}


# A second ready-made scheme for regencies and cities: participation per 10,000 residents (BPS
# population), so that a small regency is not outweighed by the two cities' raw counts.
PER_CAPITA = {
    "level": "regency",
    "name_id": "Penilaian kabupaten/kota (partisipasi per 10.000 penduduk)",
    "name_en": "Regency and city ranking (participation per 10,000 residents)",
    "criteria": [
        (
            1,
            "received_per_10k",
            "against_best",
            "Pengaduan per 10.000 penduduk (partisipasi)",
            "Complaints per 10,000 residents (participation)",
        ),
        CRITERIA[1],
        CRITERIA[2],
    ],
}


def per_capita_scheme_load(*, apps=global_apps) -> bool:
    """Create the ready-made per-capita scheme unless a scheme of that name exists."""
    Scheme = apps.get_model("awards", "Scheme")
    Criterion = apps.get_model("awards", "Criterion")
    Band = apps.get_model("awards", "Band")
    level = PER_CAPITA["level"]
    if Scheme.objects.filter(year__isnull=True, name_id=PER_CAPITA["name_id"]).exists():
        return False
    scheme = Scheme.objects.create(
        year=None,
        level=level,
        is_default=False,
        name_id=PER_CAPITA["name_id"],
        name_en=PER_CAPITA["name_en"],
        **MINIMUMS[level],
    )
    for (order, indicator, normalisation, c_id, c_en), weight in zip(
        PER_CAPITA["criteria"], WEIGHTS[level], strict=True
    ):
        Criterion.objects.create(
            scheme=scheme,
            order=order,
            indicator=indicator,
            weight=weight,
            normalisation=normalisation,
            name_id=c_id,
            name_en=c_en,
        )
    for (b_id, b_en), threshold in zip(BAND_NAMES, BANDS[level], strict=True):
        Band.objects.create(scheme=scheme, name_id=b_id, name_en=b_en, min_score=Decimal(threshold))
    return True


def default_schemes_load(*, apps=global_apps) -> int:
    """Create the default scheme of each level unless it exists. Idempotent; returns how many
    were created. ``apps`` lets a migration pass its historical app registry."""
    created = 0
    Scheme = apps.get_model("awards", "Scheme")
    Criterion = apps.get_model("awards", "Criterion")
    Band = apps.get_model("awards", "Band")
    for level, (name_id, name_en) in NAMES.items():
        has_flag = "is_default" in {f.name for f in Scheme._meta.get_fields()}
        existing = Scheme.objects.filter(year__isnull=True, level=level)
        if (existing.filter(is_default=True) if has_flag else existing).exists():
            continue
        created += 1
        # A historical model (migration 0002) has no minimums yet; 0003 sets them, 0004 marks
        # the default.
        fields = {f.name for f in Scheme._meta.get_fields()}
        minimums = {k: v for k, v in MINIMUMS[level].items() if k in fields}
        if "is_default" in fields:
            minimums["is_default"] = True
        scheme = Scheme.objects.create(
            year=None, level=level, name_id=name_id, name_en=name_en, **minimums
        )
        for (order, indicator, normalisation, c_id, c_en), weight in zip(
            CRITERIA, WEIGHTS[level], strict=True
        ):
            Criterion.objects.create(
                scheme=scheme,
                order=order,
                indicator=indicator,
                weight=weight,
                normalisation=normalisation,
                name_id=c_id,
                name_en=c_en,
            )
        for (b_id, b_en), threshold in zip(BAND_NAMES, BANDS[level], strict=True):
            Band.objects.create(
                scheme=scheme, name_id=b_id, name_en=b_en, min_score=Decimal(threshold)
            )
    return created


def default_minimums_set(*, apps=global_apps) -> None:
    """Give the default schemes their minimums (for databases made before they existed)."""
    Scheme = apps.get_model("awards", "Scheme")
    for level, values in MINIMUMS.items():
        Scheme.objects.filter(year__isnull=True, level=level).update(**values)  # before 0004
