"""The provincial staff page of the SP4N-LAPOR! exchange: download, upload → dry-run report →
confirm; hostile files get a field error (400), never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from complaints.workflow import ComplaintStatus
from tests.factories import complaint_submitted, officer, province_staff

pytestmark = pytest.mark.django_db

HEADER = "nomor_lapor,nomor_nasional,status,instansi,keterangan\n"
PAGE = "/dashboard/sp4n-lapor/"


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture
def staff_client(client):
    client.force_login(province_staff(username="provinsi"))
    return client


def upload(client, text: bytes, name="balik.csv", action="check"):
    return client.post(PAGE, {"file": SimpleUploadedFile(name, text), "action": action})


def test_only_provincial_staff_open_it(client):
    client.force_login(officer(username="perkim"))
    assert client.get(PAGE).status_code == 403
    assert client.get(reverse("dashboard-national-export") + "?format=csv").status_code == 403


def test_the_export_downloads_a_day(staff_client):
    complaint = complaint_submitted(is_anonymous=True, reporter_name="Nama Rahasia").complaint
    day = timezone.localdate().isoformat()
    response = staff_client.get(PAGE + f"export/?day={day}&format=csv")
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and complaint.tracking_code in body
    assert "Nama Rahasia" not in body
    response = staff_client.get(PAGE + f"export/?day={day}&format=json")
    assert response.status_code == 200 and complaint.tracking_code in response.content.decode()
    assert staff_client.get(PAGE + "export/?format=csv").status_code == 400  # no day, no mark
    assert staff_client.get(PAGE + "export/?day=kemarin&format=csv").status_code == 400


def test_the_export_since_a_mark_continues_where_the_last_one_ended(staff_client):
    import json
    from datetime import timedelta
    from urllib.parse import quote

    earlier = (timezone.localtime() - timedelta(minutes=5)).isoformat(timespec="seconds")
    complaint_submitted()
    first = staff_client.get(PAGE + f"export/?since={quote(earlier)}&format=json")
    data = json.loads(first.content)
    assert len(data["laporan"]) == 1
    mark = data["sampai"]
    second = staff_client.get(PAGE + f"export/?since={quote(mark)}&format=json")
    assert json.loads(second.content)["laporan"] == []


def test_upload_report_then_confirm(staff_client):
    complaint = complaint_submitted().complaint
    text = (HEADER + f"{complaint.tracking_code},LAP-5,selesai,,Sudah diperbaiki\n").encode()
    response = upload(staff_client, text)
    assert response.status_code == 200
    page = response.content.decode()
    assert "import-check" in page and 'value="apply"' in page
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.ASSIGNED
    hidden = response.context["import_form"].initial["text"]
    response = staff_client.post(PAGE, {"text": hidden, "action": "apply"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.national_number == "LAP-5"
    page = staff_client.get(complaint.get_absolute_url()).content.decode()
    assert 'id="national-number"' in page and "LAP-5" in page


def test_a_conflict_is_listed_and_cannot_be_confirmed(staff_client):
    complaint = complaint_submitted().complaint
    text = HEADER + f"{complaint.tracking_code},,belum_terverifikasi,,\nLPR-ZZZZ-ZZZZ,,selesai,,\n"
    response = upload(staff_client, text.encode())
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="apply"' not in page
    assert "LPR-ZZZZ-ZZZZ" in page
    response = staff_client.post(PAGE, {"text": text, "action": "apply"})
    assert response.status_code == 400
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.ASSIGNED


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + "A,,selesai,,\n").encode("utf-16"),
        b"x" * 2_000_001,
        b"{broken json",
        b"=cmd|' /C calc'!A0\n",
    ],
)
def test_hostile_files_get_a_field_error(staff_client, data):
    response = upload(staff_client, data)
    assert response.status_code == 400
    assert response.context["import_form"].errors["file"]


def test_the_national_number_of_a_rahasia_complaint_stays_off_the_public_page(client):
    from complaints.services import complaint_national_number_set
    from complaints.workflow import Role

    staff = province_staff(username="provinsi")
    public = complaint_submitted().complaint
    complaint_national_number_set(
        complaint=public, actor=staff, role=Role.PROVINCE_STAFF, number="N-8"
    )
    assert "N-8" in client.get(public.get_absolute_url()).content.decode()
