"""CSV export of the staff queue: scoped, anonim respected, spreadsheet-safe, streamed."""

import csv
import io
import tracemalloc
from datetime import timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone

from complaints.models import Complaint
from lapor.spreadsheet import spreadsheet_safe
from tests.factories import agency, category, complaint_submitted, officer, region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel opens UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_export_is_the_filtered_queue_without_any_contact(client):
    named = complaint_submitted(
        title="Lampu mati di depan masjid", reporter_name="Siti Aminah"
    ).complaint
    hidden = complaint_submitted(
        title="Lampu mati di gang", is_anonymous=True, reporter_name="Warga Rahasia",
        reporter_email="rahasia@example.id", reporter_phone="0811 0000 111",
    ).complaint  # fmt: skip
    road = complaint_submitted(category_code="jalan", title="Jalan berlubang").complaint
    client.force_login(officer("63.72", "perkim"))
    response = client.get("/dashboard/queue/export.csv?category=pju")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="lapor-')
    header, *rows = read_csv(response)
    assert header[0] == "Kode pelacakan" and "Pelapor" not in header
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_code) == {named.tracking_code, hidden.tracking_code}
    assert road.tracking_code not in by_code  # PUPR's, not this officer's
    # No reporter's contact leaves in bulk: staff ask for it, one complaint at a time, with a
    # reason that is recorded (tests/workspace/test_contact_views.py).
    assert "Siti Aminah" not in str(rows) and "siti.aminah@example.id" not in str(rows)
    anonymous = by_code[hidden.tracking_code]
    assert anonymous["Anonim"] == "ya"
    assert anonymous["Kanal"] == "Situs web"
    assert "Warga Rahasia" not in str(rows) and "rahasia@example.id" not in str(rows)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+62 812", "'+62 812"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Jalan = rusak", "Jalan = rusak"),
        ("", ""),
        (None, ""),
        (5, "5"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(value, safe):
    assert spreadsheet_safe(value) == safe


def test_formulas_typed_by_citizens_arrive_as_text(client):
    complaint_submitted(
        title="=HYPERLINK(\"http://evil.example\",\"klik\")",
        description="@SUM(1+1)*cmd|' /C calc'!A0",
        address="+62 jalan", reporter_name="-Budi",
    )  # fmt: skip
    client.force_login(officer("63.72", "perkim"))
    header, row = read_csv(client.get("/dashboard/queue/export.csv"))
    cells = dict(zip(header, row, strict=True))
    assert cells["Judul"].startswith("'=")
    assert cells["Uraian"].startswith("'@")
    assert cells["Lokasi"].startswith("'+")
    assert not any(cell and cell[0] in "=+-@\t\r" for cell in row)


def _fill(count: int, *, created_at) -> None:
    """``count`` plain complaints of Perkim Banjarbaru received at ``created_at``: a thousand
    written in bulk, then copied in SQL (the export reads rows; how they were made does not
    matter to it, and this takes seconds rather than a minute)."""
    perkim, pju, banjarbaru = agency("63.72", "perkim"), category("pju"), region("63.72")
    text = "Lampu jalan mati sejak minggu lalu, jalan gelap dan rawan. " * 4
    prefix = f"T{created_at:%j}"
    Complaint.objects.bulk_create(
        Complaint(
            tracking_code=f"{prefix}-{n:04d}",
            classification="pengaduan",
            title=f"Lampu mati nomor {n}",
            description=text,
            category=pju,
            region=banjarbaru,
            address="Jl. Ahmad Yani",
            incident_date=created_at.date(),
            status="assigned",
            assigned_agency=perkim,
            assigned_at=created_at,
            follow_up_due_at=created_at + timedelta(days=3),
            completion_due_at=created_at + timedelta(days=20),
            reporter_name="Warga",
            created_at=created_at,
        )
        for n in range(1000)
    )
    copies = count // 1000 - 1
    if copies <= 0:
        return
    columns = [f.column for f in Complaint._meta.concrete_fields if not f.primary_key]
    selected = [
        "tracking_code || '-' || CAST(k AS VARCHAR(4))" if c == "tracking_code" else c
        for c in columns
    ]
    multipliers = " UNION ALL ".join(f"SELECT {k} AS k" for k in range(1, copies + 1))
    table = Complaint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (no user input)
            f"SELECT {', '.join(selected)} FROM {table} CROSS JOIN ({multipliers}) m "
            "WHERE tracking_code LIKE %s",
            [f"{prefix}-%"],
        )


def _export_peak(client, query: str) -> tuple[int, int]:
    """(rows, peak bytes allocated by Python) while the export streams."""
    response = client.get("/dashboard/queue/export.csv?" + query)
    tracemalloc.start()
    try:
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines - 1, peak


@pytest.mark.slow
def test_100000_rows_stream_in_flat_memory(client):
    now = timezone.now()
    _fill(10_000, created_at=now - timedelta(days=2))
    _fill(90_000, created_at=now - timedelta(days=40))
    client.force_login(officer("63.72", "perkim"))
    since = timezone.localdate(now - timedelta(days=3)).isoformat()
    small_rows, small_peak = _export_peak(client, f"status=all&since={since}")
    big_rows, big_peak = _export_peak(client, "status=all")
    assert (small_rows, big_rows) == (10_000, 100_000)
    # Ten times the rows, about the same memory: one chunk at a time, never the whole set
    # (100,000 rows held at once would take well over 100 MB here).
    assert big_peak < small_peak * 2, (small_peak, big_peak)
    assert big_peak < 30 * 1024 * 1024, big_peak
