"""Reference data of Kalimantan Selatan: regions, standard agencies, categories, routing.

Sources: Kepmendagri 300.2.2-2138/2025 for the region codes; the regional differences in who
handles street lighting (PJU) as seen in 2020-2025 (see docs/product-rules.md, "Routing").
"""

REGIONS: list[tuple[str, str, str]] = [
    ("63", "Provinsi Kalimantan Selatan", "province"),
    ("63.01", "Kabupaten Tanah Laut", "regency"),
    ("63.02", "Kabupaten Kotabaru", "regency"),
    ("63.03", "Kabupaten Banjar", "regency"),
    ("63.04", "Kabupaten Barito Kuala", "regency"),
    ("63.05", "Kabupaten Tapin", "regency"),
    ("63.06", "Kabupaten Hulu Sungai Selatan", "regency"),
    ("63.07", "Kabupaten Hulu Sungai Tengah", "regency"),
    ("63.08", "Kabupaten Hulu Sungai Utara", "regency"),
    ("63.09", "Kabupaten Tabalong", "regency"),
    ("63.10", "Kabupaten Tanah Bumbu", "regency"),
    ("63.11", "Kabupaten Balangan", "regency"),
    ("63.71", "Kota Banjarmasin", "city"),
    ("63.72", "Kota Banjarbaru", "city"),
]

# (kind, code, name prefix, short name); the region's name is appended.
STANDARD_AGENCIES: list[tuple[str, str, str, str]] = [
    ("perkim", "perkim", "Dinas Perumahan dan Kawasan Permukiman", "Disperkim"),
    ("pupr", "pupr", "Dinas Pekerjaan Umum dan Penataan Ruang", "Dinas PUPR"),
    ("dishub", "dishub", "Dinas Perhubungan", "Dishub"),
    ("kominfo", "kominfo", "Dinas Komunikasi dan Informatika", "Diskominfo"),
    ("dinkes", "dinkes", "Dinas Kesehatan", "Dinkes"),
    ("disdik", "disdik", "Dinas Pendidikan", "Disdik"),
    ("dlh", "dlh", "Dinas Lingkungan Hidup", "DLH"),
    ("satpolpp", "satpolpp", "Satuan Polisi Pamong Praja", "Satpol PP"),
    ("disdukcapil", "disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil", "Disdukcapil"),
]

# Standard agencies that differ in a region: (region code, kind) -> (code, full name, short name).
AGENCY_OVERRIDES: dict[tuple[str, str], tuple[str, str, str]] = {
    # The province's education office is Disdikbud (education and culture).
    ("63", "disdik"): (
        "disdikbud",
        "Dinas Pendidikan dan Kebudayaan Provinsi Kalimantan Selatan",
        "Disdikbud",
    ),
    # Kabupaten Banjar: housing, settlements and environment are one office, DPRKPLH.
    ("63.03", "perkim"): (
        "dprkplh",
        "Dinas Perumahan Rakyat, Kawasan Permukiman dan Lingkungan Hidup Kabupaten Banjar",
        "DPRKPLH",
    ),
}

# Standard kinds a region does not have as an office of their own: (region code, kind).
AGENCIES_OMITTED: set[tuple[str, str]] = {("63.03", "dlh")}

# Units beside the standard set: (region code, kind, code, full name, short name).
EXTRA_AGENCIES: list[tuple[str, str, str, str, str]] = [
    # Banjarmasin: street lighting belongs to a unit of the transport office.
    (
        "63.71",
        "dishub",
        "uptd-pju",
        "UPTD Penerangan Jalan Umum Dinas Perhubungan Kota Banjarmasin",
        "UPTD PJU",
    ),
]

# (code, Indonesian, English, follow-up days, default agency kind)
CATEGORIES: list[tuple[str, str, str, int, str]] = [
    ("pju", "Penerangan jalan umum", "Street lighting", 3, "perkim"),
    ("jalan", "Jalan dan jembatan", "Roads and bridges", 3, "pupr"),
    ("drainase", "Drainase dan banjir", "Drainage and flooding", 3, "pupr"),
    ("parkir", "Parkir", "Parking", 3, "dishub"),
    ("sampah", "Sampah dan kebersihan", "Waste and cleanliness", 3, "dlh"),
    ("air", "Air bersih", "Clean water", 3, "pupr"),
    ("kesehatan", "Kesehatan masyarakat", "Public health", 3, "dinkes"),
    ("pendidikan", "Pendidikan", "Education", 3, "disdik"),
    ("adminduk", "Administrasi kependudukan", "Population administration", 3, "disdukcapil"),
    ("ketertiban", "Ketertiban umum", "Public order", 3, "satpolpp"),
    ("lainnya", "Lainnya", "Other", 3, "kominfo"),
]

# (region code, category code) -> agency code, where a region differs from the default kind.
ROUTING_OVERRIDES: dict[tuple[str, str], str] = {
    ("63.71", "pju"): "uptd-pju",  # Banjarmasin: Dishub's UPTD PJU
    ("63.72", "pju"): "perkim",  # Banjarbaru: Perkim (the default, stated for clarity)
    ("63.03", "pju"): "dprkplh",  # Kabupaten Banjar: DPRKPLH
    ("63.03", "sampah"): "dprkplh",  # Kabupaten Banjar has no separate DLH
}


# Population of each regency and city, BPS: Hasil Sensus Penduduk 2020 (SP2020, September 2020),
# as published by BPS Provinsi Kalimantan Selatan; the 13 figures add up to the province's
# 4,073,584. Newer BPS years are added in the admin (agencies > populations).
POPULATION_YEAR = 2020
POPULATION_SOURCE = "BPS, Hasil Sensus Penduduk 2020 (SP2020), Provinsi Kalimantan Selatan"
POPULATION: dict[str, int] = {
    "63.01": 348_966,  # Tanah Laut
    "63.02": 325_622,  # Kotabaru
    "63.03": 565_635,  # Banjar
    "63.04": 313_021,  # Barito Kuala
    "63.05": 189_475,  # Tapin
    "63.06": 228_006,  # Hulu Sungai Selatan
    "63.07": 258_721,  # Hulu Sungai Tengah
    "63.08": 226_727,  # Hulu Sungai Utara
    "63.09": 253_305,  # Tabalong
    "63.10": 322_646,  # Tanah Bumbu
    "63.11": 130_355,  # Balangan
    "63.71": 657_663,  # Banjarmasin
    "63.72": 253_442,  # Banjarbaru
}
PROVINCE_POPULATION = 4_073_584


# Seats of the regencies and cities (town centres), degrees: where the complaint form's map opens
# for a regency, and the nearest seat Open311 takes for a point.
REGION_SEATS: dict[str, tuple[float, float]] = {
    "63.01": (-3.800, 114.767),  # Pelaihari
    "63.02": (-3.241, 116.224),  # Kotabaru
    "63.03": (-3.413, 114.848),  # Martapura
    "63.04": (-2.993, 114.759),  # Marabahan
    "63.05": (-2.944, 115.162),  # Rantau
    "63.06": (-2.777, 115.270),  # Kandangan
    "63.07": (-2.585, 115.383),  # Barabai
    "63.08": (-2.417, 115.253),  # Amuntai
    "63.09": (-2.172, 115.382),  # Tanjung
    "63.10": (-3.440, 115.990),  # Batulicin
    "63.11": (-2.332, 115.474),  # Paringin
    "63.71": (-3.319, 114.592),  # Banjarmasin
    "63.72": (-3.443, 114.830),  # Banjarbaru
}
