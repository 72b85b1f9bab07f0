"""Staff see a reporter's contact only by asking, with a reason; every view is on record and
listed on the complaint's staff page; an anonim reporter's contact only provincial staff."""

import pytest
from django.core.exceptions import ValidationError

from complaints.models import ContactView
from complaints.services import contact_view_record
from complaints.workflow import Role, WorkflowError
from tests.factories import complaint_submitted, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db

EMAIL, PHONE = "siti.aminah@example.id", "081234567890"
REASON = "Perlu konfirmasi lokasi tiang lampu"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff():
    return {
        "officer": officer("63.72", "perkim", username="petugas", first_name="Petugas"),
        "coordinator": coordinator("63.72", username="koordinator"),
        "province": province_staff(username="provinsi"),
        "other_officer": officer("63.71", "perkim", username="lain"),
    }


def filed(**kw):
    return complaint_submitted(**kw).complaint  # pju in Banjarbaru: routed to perkim


def test_the_staff_page_hides_the_contact_until_asked(client, staff):
    complaint = filed()
    client.force_login(staff["officer"])
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert EMAIL not in page and PHONE not in page
    assert "contact/" in page  # the form to ask for it

    response = client.post(f"/complaints/{complaint.tracking_code}/contact/", {"reason": REASON})
    assert response.status_code == 200
    page = response.content.decode()
    assert EMAIL in page and PHONE in page
    assert "no-store" in response["Cache-Control"]
    view = ContactView.objects.get()
    assert (view.complaint, view.viewer, view.viewer_role, view.reason) == (
        complaint,
        staff["officer"],
        Role.AGENCY_OFFICER,
        REASON,
    )
    # The log is on the page, for every staff member of the complaint; the contact is not.
    client.force_login(staff["coordinator"])
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert REASON in page and "Petugas" in page
    assert EMAIL not in page


@pytest.mark.parametrize("reason", ["", "   ", "karena", "x" * 9])
def test_without_a_reason_nothing_is_shown_or_recorded(client, staff, reason):
    complaint = filed()
    client.force_login(staff["officer"])
    response = client.post(f"/complaints/{complaint.tracking_code}/contact/", {"reason": reason})
    assert response.status_code == 400
    assert EMAIL not in response.content.decode()
    assert not ContactView.objects.exists()
    with pytest.raises(ValidationError):
        contact_view_record(complaint=complaint, actor=staff["officer"], reason=reason)
    assert not ContactView.objects.exists()


def test_staff_outside_the_complaint_get_a_404(client, staff):
    complaint = filed()
    client.force_login(staff["other_officer"])
    response = client.post(f"/complaints/{complaint.tracking_code}/contact/", {"reason": REASON})
    assert response.status_code == 404
    with pytest.raises(WorkflowError):
        contact_view_record(complaint=complaint, actor=staff["other_officer"], reason=REASON)
    assert not ContactView.objects.exists()


@pytest.mark.parametrize("who", ["officer", "coordinator"])
def test_an_anonim_reporter_is_never_shown_to_agency_or_regency_staff(client, staff, who):
    complaint = filed(is_anonymous=True)
    client.force_login(staff[who])
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "contact/" not in page and EMAIL not in page
    response = client.post(f"/complaints/{complaint.tracking_code}/contact/", {"reason": REASON})
    assert response.status_code == 400
    assert EMAIL not in response.content.decode()
    assert not ContactView.objects.exists()


def test_an_anonim_reporter_is_shown_to_provincial_staff_with_a_reason(client, staff):
    complaint = filed(is_anonymous=True)
    client.force_login(staff["province"])
    response = client.post(f"/complaints/{complaint.tracking_code}/contact/", {"reason": ""})
    assert response.status_code == 400 and EMAIL not in response.content.decode()
    response = client.post(f"/complaints/{complaint.tracking_code}/contact/", {"reason": REASON})
    assert response.status_code == 200 and EMAIL in response.content.decode()
    assert ContactView.objects.get().viewer_role == Role.PROVINCE_STAFF


def test_the_admin_lists_no_contact(client, staff):
    from django.contrib import admin

    from complaints.models import Complaint

    filed()
    model_admin = admin.site._registry[Complaint]
    columns = " ".join(map(str, model_admin.list_display)) + " ".join(
        map(str, model_admin.search_fields)
    )
    assert "reporter" not in columns
    if ContactView in admin.site._registry:
        assert "reporter" not in " ".join(map(str, admin.site._registry[ContactView].list_display))


def test_the_admin_shows_no_email_in_its_tables_and_no_contact_on_a_complaint(client, staff):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from tests.factories import UserFactory

    complaint = filed()  # not anonim: the admin follows the staff page's rule all the same
    UserFactory(username="warga", email="warga.terdaftar@example.id")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    users = client.get(reverse("admin:auth_user_changelist"))
    assert users.status_code == 200
    assert "warga" in users.content.decode()
    assert "warga.terdaftar@example.id" not in users.content.decode()
    assert "email" not in map(str, admin_of(get_user_model()).list_display)

    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert complaint.title in text
    for value in (EMAIL, PHONE, "Siti Aminah"):
        assert value not in text, value
    assert complaint.get_absolute_url() in text  # where staff of the complaint may ask for it
    assert not ContactView.objects.exists()


def admin_of(model):
    from django.contrib import admin

    return admin.site._registry[model]
