"""Realistic demo complaints in every regency since the start of last year, with real-looking
histories, and the ranking they make: last year's published, this year's a draft.

Run by ``manage.py seed_demo`` (DEBUG only). Idempotent: each demo complaint has a fixed
idempotency key, so a second run finds them all and changes nothing.
"""

import io
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.demo import DEMO_ACCOUNTS, demo_allowed_check
from agencies.models import Agency, Category, Region, RegionKind, StaffRole
from agencies.services import staff_membership_grant
from awards.models import Level, Result, ResultStatus
from awards.services import ranking_compute, ranking_publish
from complaints.attachments import CleanFile, clean_uploads
from complaints.enforcement import complaints_close_expired, deadlines_sweep
from complaints.models import Classification, Complaint
from complaints.selectors import response_templates_managed_by
from complaints.services import complaint_submit, complaint_transition, response_template_save
from complaints.workflow import Action, ArchiveReason, Role
from notifications.services import notifications_suppressed

DEMO_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-4e59-9a41-1d2c3b4a5e6f")
PER_REGION = 24

STREETS = {
    "63.01": ["Jl. A. Yani, Pelaihari", "Jl. Datu Insad", "Jl. Pelabuhan Kintap"],
    "63.02": ["Jl. Pangeran Suryanata", "Jl. Raya Stagen", "Jl. Sungai Taib"],
    "63.03": ["Jl. A. Yani km 39, Martapura", "Jl. Sekumpul", "Jl. Menteri Empat"],
    "63.04": ["Jl. Gusti M. Seman, Marabahan", "Jl. Trans Kalimantan", "Jl. Panglima Wangkang"],
    "63.05": ["Jl. Brigjen H. Hasan Basri, Rantau", "Jl. Jend. Sudirman", "Jl. Keramat"],
    "63.06": ["Jl. Aluh Idut, Kandangan", "Jl. Singakarsa", "Jl. Hamberang"],
    "63.07": ["Jl. Murakata, Barabai", "Jl. Perintis Kemerdekaan", "Jl. H. Damanhuri"],
    "63.08": ["Jl. Norman Umar, Amuntai", "Jl. Basuki Rahmat", "Jl. Empu Jatmika"],
    "63.09": ["Jl. Tanjung Raya", "Jl. Ir. P. H. M. Noor", "Jl. Pangeran Antasari, Tanjung"],
    "63.10": ["Jl. Transmigrasi, Batulicin", "Jl. Dharma Praja", "Jl. Raya Pagatan"],
    "63.11": ["Jl. A. Yani, Paringin", "Jl. Putri Junjung Buih", "Jl. Tebing Tinggi"],
    "63.71": ["Jl. Pramuka", "Jl. Sultan Adam", "Jl. Veteran", "Jl. Kayu Tangi"],
    "63.72": ["Jl. A. Yani km 33", "Jl. Panglima Batur", "Jl. Trikora", "Jl. Golf"],
    "63": ["Jl. Jend. Sudirman, Banjarmasin", "Jl. A. Yani km 6"],
}

TEXTS = {
    "pju": [
        (
            "Lampu jalan mati di {street}",
            "Sudah hampir dua minggu lampu PJU di {street} mati. "
            "Malam hari sangat gelap dan rawan kecelakaan serta kejahatan.",
        ),
        (
            "PJU berkedip-kedip dekat sekolah",
            "Lampu penerangan jalan di depan SD di {street} "
            "berkedip terus sejak hujan deras. Mohon diperbaiki.",
        ),
    ],
    "jalan": [
        (
            "Jalan berlubang di {street}",
            "Ada lubang besar di badan jalan {street}, kedalaman "
            "sekitar 20 cm. Sudah ada pengendara motor yang jatuh.",
        ),
        (
            "Aspal mengelupas setelah hujan",
            "Aspal di {street} mengelupas sepanjang kurang lebih "
            "50 meter, banyak kerikil lepas di jalan.",
        ),
    ],
    "drainase": [
        (
            "Drainase tersumbat sampah",
            "Saluran drainase di {street} tersumbat sampah dan lumpur, "
            "air meluap ke jalan setiap hujan.",
        ),
        (
            "Banjir setiap hujan deras",
            "Kawasan sekitar {street} selalu tergenang setinggi lutut "
            "karena gorong-gorong terlalu kecil.",
        ),
    ],
    "parkir": [
        (
            "Parkir liar di bahu jalan",
            "Banyak kendaraan parkir di bahu jalan {street} sehingga "
            "macet setiap sore. Juru parkir tidak resmi memungut tarif.",
        ),
    ],
    "sampah": [
        (
            "Sampah tidak diangkut seminggu",
            "TPS di {street} penuh dan sampah tidak diangkut "
            "sejak seminggu. Bau menyengat dan banyak lalat.",
        ),
    ],
    "air": [
        (
            "Air PDAM tidak mengalir",
            "Air bersih di sekitar {street} tidak mengalir tiga hari "
            "berturut-turut, warga terpaksa membeli air galon.",
        ),
    ],
    "kesehatan": [
        (
            "Pelayanan puskesmas lambat",
            "Antrean di puskesmas dekat {street} sangat panjang, petugas loket hanya satu orang.",
        ),
    ],
    "pendidikan": [
        (
            "Atap ruang kelas bocor",
            "Atap dua ruang kelas di sekolah dekat {street} bocor, "
            "murid terpaksa belajar di teras saat hujan.",
        ),
    ],
    "adminduk": [
        (
            "KTP elektronik belum jadi",
            "Saya merekam KTP-el tiga bulan lalu di kecamatan, "
            "sampai sekarang belum jadi. Mohon informasi.",
        ),
    ],
    "ketertiban": [
        (
            "Pedagang berjualan di trotoar",
            "Trotoar di {street} penuh lapak pedagang sehingga pejalan kaki harus turun ke jalan.",
        ),
    ],
    "lainnya": [
        (
            "Informasi jadwal vaksinasi hewan",
            "Mohon informasi jadwal vaksinasi rabies gratis "
            "untuk hewan peliharaan di wilayah {street}.",
        ),
    ],
}

NAMES = [
    "Ahmad Rizani",
    "Siti Aisyah",
    "Muhammad Noor",
    "Rina Marlina",
    "Fahmi Hidayat",
    "Nor Hasanah",
    "Hendra Gunawan",
    "Dewi Sartika",
    "Yusuf Mansyur",
    "Lailatul Fitri",
    "Abdul Hadi",
    "Rahmawati",
    "Fauzan Akbar",
    "Nurjanah",
    "Gusti Rahman",
]
FOLLOW_UPS = [
    "Laporan sudah kami terima dan tim akan melakukan pengecekan ke lokasi.",
    "Petugas sudah meninjau lokasi; perbaikan dijadwalkan minggu ini.",
    "Terima kasih atas laporannya, sedang kami koordinasikan dengan bidang terkait.",
]
RESOLUTIONS = [
    "Perbaikan telah selesai dikerjakan. Terima kasih atas partisipasi Bapak/Ibu.",
    "Sudah ditangani oleh tim lapangan hari ini.",
    "Pekerjaan selesai; mohon konfirmasi bila masih ada kendala.",
]
SCENARIOS = [
    ("closed_rated", 30),
    ("closed_window", 10),
    ("late_follow_up", 10),
    ("breached_open", 6),
    ("reopened", 5),
    ("in_progress", 8),
    ("waiting", 5),
    ("not_ours_rerouted", 5),
    ("triage", 4),
    ("archived", 4),
    ("resolved_waiting", 8),
]
RECENT_ONLY = {"breached_open", "in_progress", "waiting", "triage", "resolved_waiting"}


@dataclass
class Plan:
    index: int
    region: Region
    category: Category
    at: datetime
    scenario: str


def demo_complaints_seed(*, now: datetime | None = None, per_region: int = PER_REGION) -> int:
    """Create the demo complaints (once). Returns how many were created now."""
    demo_allowed_check()
    now = now or timezone.now()
    rng = random.Random(20261127)  # the same demo every time
    regions = list(Region.objects.exclude(kind=RegionKind.PROVINCE).order_by("code"))
    categories = list(Category.objects.filter(is_active=True).order_by("sort_order"))
    # Since 1 January of last year, so that last year can be ranked in full.
    oldest = (timezone.localdate(now) - date(timezone.localdate(now).year - 1, 1, 1)).days
    plans = []
    for region in regions:
        count = per_region * (2 if region.code in ("63.71", "63.72") else 1)
        for _n in range(count):
            scenario = rng.choices([s for s, _ in SCENARIOS], [w for _, w in SCENARIOS])[0]
            days_ago = rng.uniform(0.2, 12) if scenario in RECENT_ONLY else rng.uniform(12, oldest)
            plans.append(
                Plan(
                    index=len(plans),
                    region=region,
                    category=rng.choice(categories[:6] * 3 + categories),
                    at=now - timedelta(days=days_ago, minutes=rng.randint(0, 600)),
                    scenario=scenario,
                )
            )
    plans.sort(key=lambda plan: plan.at)
    # The history is invented: nobody is told of it (its mail would keep a newcomer's own
    # confirmation email waiting behind about a thousand others).
    with notifications_suppressed():
        return _seed(plans, now, rng)


def _seed(plans: list[Plan], now: datetime, rng: random.Random) -> int:
    created = 0
    coordinators = {}
    for plan in plans:
        key = uuid.uuid5(DEMO_NAMESPACE, f"demo-{plan.index}")
        if Complaint.objects.filter(idempotency_key=key).exists():
            continue
        with transaction.atomic():
            complaint = _submit(plan, key, rng)
            _history(plan, complaint, rng, now, coordinators)
        created += 1
    if created:
        deadlines_sweep(now=now)
        complaints_close_expired(now=now)
    return created


def _submit(plan: Plan, key: uuid.UUID, rng: random.Random) -> Complaint:
    street = rng.choice(STREETS.get(plan.region.code, ["Jl. Utama"]))
    title, description = rng.choice(TEXTS.get(plan.category.code, TEXTS["lainnya"]))
    name = rng.choice(NAMES)
    classification = (
        Classification.PERMINTAAN_INFORMASI
        if plan.category.code in ("adminduk", "lainnya")
        else rng.choice([Classification.PENGADUAN] * 5 + [Classification.ASPIRASI])
    )
    result = complaint_submit(
        classification=classification,
        title=title.format(street=street),
        description=description.format(street=street),
        category=plan.category,
        region=plan.region,
        address=street,
        incident_date=(plan.at - timedelta(days=rng.randint(0, 5))).date()
        if plan.at.date() > date(2000, 1, 1)
        else plan.at.date(),
        is_anonymous=rng.random() < 0.12,
        is_confidential=rng.random() < 0.05,
        reporter_name=name,
        reporter_email=f"{name.split()[0].lower()}.{plan.index}@contoh.id",
        idempotency_key=key,
        now=plan.at,
    )
    return result.complaint


def _history(plan, complaint, rng, now, coordinators) -> None:
    t0 = plan.at

    def step(action, hours, role=Role.AGENCY_OFFICER, **kwargs):
        at = t0 + timedelta(hours=hours)
        if at >= now:
            return False
        complaint.refresh_from_db()
        actor = (
            _officer(complaint.assigned_agency)
            if role == Role.AGENCY_OFFICER
            else coordinators.setdefault(complaint.region_id, _coordinator(complaint.region))
        )
        if role == Role.REPORTER:
            actor = None
        complaint_transition(
            complaint=complaint, action=action, role=role, actor=actor, now=at, **kwargs
        )
        return True

    follow_up = {"note": rng.choice(FOLLOW_UPS)}
    resolve = {"note": rng.choice(RESOLUTIONS), "files": _after_photos(complaint)}
    rate = {"rating": rng.choice([3, 4, 4, 5, 5, 5]), "note": "Terima kasih, sudah diperbaiki."}
    if complaint.status != "assigned":
        return  # no routing rule: it waits in triage, as a real one would
    scenario = plan.scenario
    if scenario == "closed_rated":
        step(Action.FOLLOW_UP, rng.uniform(2, 40), **follow_up)
        step(Action.RESOLVE, rng.uniform(60, 200), **resolve)
        step(Action.RATE, rng.uniform(210, 400), role=Role.REPORTER, **rate)
    elif scenario == "closed_window":
        step(Action.FOLLOW_UP, rng.uniform(2, 60), **follow_up)
        step(Action.RESOLVE, rng.uniform(80, 250), **resolve)
    elif scenario == "late_follow_up":
        due_hours = (complaint.follow_up_due_at - t0).total_seconds() / 3600
        deadlines_sweep(now=min(now, complaint.follow_up_due_at + timedelta(minutes=5)))
        step(Action.FOLLOW_UP, due_hours + rng.uniform(6, 60), **follow_up)
        step(Action.RESOLVE, due_hours + rng.uniform(80, 200), **resolve)
        step(Action.RATE, due_hours + rng.uniform(210, 300), role=Role.REPORTER, **rate)
    elif scenario == "reopened":
        step(Action.FOLLOW_UP, rng.uniform(2, 30), **follow_up)
        step(Action.RESOLVE, rng.uniform(40, 80), **resolve)
        step(
            Action.REOPEN,
            rng.uniform(90, 150),
            role=Role.REPORTER,
            note="Belum diperbaiki, kondisinya masih sama.",
        )
        step(Action.FOLLOW_UP, rng.uniform(160, 190), note="Kami cek ulang ke lokasi besok.")
        step(Action.RESOLVE, rng.uniform(200, 260), **resolve)
        step(Action.RATE, rng.uniform(270, 320), role=Role.REPORTER, **rate)
    elif scenario == "in_progress":
        step(Action.FOLLOW_UP, rng.uniform(1, 30), **follow_up)
    elif scenario == "not_ours_rerouted":
        step(
            Action.NOT_OURS,
            rng.uniform(2, 20),
            note="Bukan kewenangan kami; mohon dialihkan ke instansi yang tepat.",
        )
        other = (
            Agency.objects.filter(region=complaint.region, is_active=True)
            .exclude(kind="kominfo")
            .order_by("?")
            .first()
        )
        if step(Action.REROUTE, rng.uniform(24, 50), role=Role.REGION_COORDINATOR, agency=other):
            step(Action.FOLLOW_UP, rng.uniform(55, 90), **follow_up)
            step(Action.RESOLVE, rng.uniform(100, 240), **resolve)
    elif scenario == "triage":
        step(Action.NOT_OURS, rng.uniform(1, 5), note="Lokasi bukan di wilayah kerja kami.")
    elif scenario == "archived":
        step(Action.NOT_OURS, rng.uniform(1, 10), note="Laporan terlalu umum.")
        step(
            Action.ARCHIVE,
            rng.uniform(12, 40),
            role=Role.REGION_COORDINATOR,
            reason=rng.choice([ArchiveReason.TOO_GENERAL, ArchiveReason.OUT_OF_SCOPE]),
        )
    elif scenario == "resolved_waiting":
        step(Action.FOLLOW_UP, rng.uniform(1, 20), **follow_up)
        step(Action.RESOLVE, rng.uniform(22, 60), **resolve)
    # "waiting" and "breached_open" stay with the agency; the final sweep records breaches.


# Street lights and roads are resolved with an "after" photo in the demo, so that their pages
# show before/after (a drawn picture: the demo has no real photos).
AFTER_PHOTO_CATEGORIES = ("pju", "jalan")


def _after_photos(complaint: Complaint) -> list[CleanFile]:
    if complaint.category.code not in AFTER_PHOTO_CATEGORIES:
        return []
    image = Image.new("RGB", (480, 320), (40, 48, 64))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 240, 480, 320), fill=(90, 90, 90))  # the road
    if complaint.category.code == "pju":
        draw.rectangle((230, 60, 240, 240), fill=(160, 160, 160))  # the pole
        draw.ellipse((215, 40, 255, 80), fill=(255, 220, 90))  # the lamp, lit
    else:
        draw.rectangle((0, 270, 480, 276), fill=(240, 240, 240))  # a fresh road marking
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    upload = SimpleUploadedFile("sesudah.png", buffer.getvalue(), content_type="image/png")
    return clean_uploads([upload])


def _officer(agency: Agency):
    """The demo agency's officer account (no password: it only signs demo history)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=f"demo.{agency.region.code}.{agency.code}",
        defaults={"first_name": agency.short_name or agency.name[:30]},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        staff_membership_grant(user=user, role=StaffRole.AGENCY_OFFICER, agency=agency)
    return user


def _coordinator(region: Region):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=f"demo.{region.code}.koordinator", defaults={"first_name": "Koordinator"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        staff_membership_grant(user=user, role=StaffRole.REGION_COORDINATOR, region=region)
    return user


def demo_rankings_seed(*, now: datetime | None = None) -> list[Result]:
    """Rank the demo complaints at both levels: last year's result published (once, by the demo
    provincial staff account), this year's computed afresh as a draft. Returns the results."""
    demo_allowed_check()
    now = now or timezone.now()
    year = timezone.localdate(now).year
    publisher = _province_demo_user()
    results = []
    for level in Level.values:
        published = Result.objects.filter(
            year=year - 1, level=level, status=ResultStatus.PUBLISHED
        ).first()
        if published is None:
            draft = ranking_compute(year=year - 1, level=level, now=now)
            published = ranking_publish(result=draft, actor=publisher, now=now)
        results.append(published)
        results.append(ranking_compute(year=year, level=level, now=now))
    return results


def _province_demo_user():
    account = next(a for a in DEMO_ACCOUNTS if a.role == StaffRole.PROVINCE_STAFF)
    user = get_user_model().objects.filter(username=account.username).first()
    if user is None:
        user = get_user_model().objects.create_user(
            username=account.username, password=account.password, first_name=account.full_name
        )
    staff_membership_grant(user=user, role=StaffRole.PROVINCE_STAFF)
    return user


# The province's starter response templates (user content, so in Indonesian as staff write).
DEMO_RESPONSE_TEMPLATES = (
    (
        Action.FOLLOW_UP,
        "Sedang ditinjau",
        "Terima kasih atas laporan {kode}. Laporan tentang {kategori} di {wilayah} sedang "
        "ditinjau oleh {perangkat_daerah}; petugas akan memeriksa lokasi dan kami kabari hasilnya.",
    ),
    (
        Action.RESOLVE,
        "Sudah diperbaiki",
        "Laporan {kode} sudah ditangani oleh {perangkat_daerah}. Mohon periksa dan beri penilaian; "
        "bila belum beres, Anda dapat membuka kembali laporan ini.",
    ),
    (
        Action.NOT_OURS,
        "Bukan wewenang kami",
        "Laporan {kode} tentang {kategori} bukan wewenang {perangkat_daerah}. Mohon diteruskan ke "
        "perangkat daerah yang berwenang di {wilayah}.",
    ),
    (
        Action.REROUTE,
        "Diteruskan ke perangkat daerah berwenang",
        "Laporan {kode} diteruskan ke {perangkat_daerah_baru}, yang berwenang menangani {kategori} "
        "di {wilayah}.",
    ),
)


def demo_response_templates_seed() -> int:
    """The province's starter response templates (once). Returns how many were created now."""
    demo_allowed_check()
    actor = _province_demo_user()
    existing = set(
        response_templates_managed_by(actor)
        .filter(agency=None, region=None)
        .values_list("title", flat=True)
    )
    created = 0
    for action, title, body in DEMO_RESPONSE_TEMPLATES:
        if title in existing:
            continue
        response_template_save(
            actor=actor,
            agency=None,
            region=None,
            category=None,
            action=action,
            title=title,
            body=body,
        )
        created += 1
    return created
