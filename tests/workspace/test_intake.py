"""Manual intake: complaints found on social media, online, in print, or received by SMS, phone
or at the counter, entered by staff through the one submit service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agencies.models import Category
from complaints.models import Attachment, Complaint, ComplaintEvent
from complaints.sources import source_url_normalise
from complaints.workflow import ComplaintStatus, Role
from tests.factories import agency, complaint_submitted, coordinator, officer, province_staff

from .workspace_helpers import png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


def form_data(**overrides):
    data = {
        "channel": "social_media",
        "source_url": "https://www.facebook.com/groups/infobanjarbaru/posts/98765/?fbclid=abc",
        "raised_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "reporter_name": "Akun FB Warga Landasan Ulin",
        "classification": "pengaduan",
        "category": Category.objects.get(code="pju").pk,
        "region": "63.72",
        "address": "Jl. Guntung Manggis",
        "title": "Lampu PJU padam di Guntung Manggis",
        "description": "Postingan warga: lampu jalan padam sejak Senin, rawan kecelakaan.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_coordinator_enters_a_facebook_post_with_a_screenshot(client):
    staff = coordinator("63.72", username="kominfo", first_name="Rina", last_name="Staf")
    client.force_login(staff)
    response = client.post("/dashboard/intake/", {**form_data(), "attachments": png_upload()})
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == complaint.get_absolute_url()
    # Routed like any other, with deadlines.
    assert complaint.status == ComplaintStatus.ASSIGNED
    assert complaint.assigned_agency == agency("63.72", "perkim")
    assert complaint.follow_up_due_at is not None
    assert (complaint.channel, complaint.entered_by) == ("social_media", staff)
    assert complaint.source_url == "https://facebook.com/groups/infobanjarbaru/posts/98765"
    assert complaint.raised_on == timezone.localdate() - timedelta(days=1)
    assert complaint.incident_date == complaint.raised_on  # unknown: the day it was raised
    submitted = complaint.events.get(kind="submitted")
    assert (submitted.actor, submitted.actor_role) == (staff, Role.REGION_COORDINATOR)
    assert Attachment.objects.get().event == submitted
    # The public page shows the channel, never the staff member or the source link.
    client.logout()
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "Media sosial" in page
    assert "Rina" not in page and "kominfo" not in page
    assert "facebook.com" not in page


def test_an_officer_enters_for_their_own_agency_and_it_stays_there(client):
    client.force_login(officer("63.72", "dishub", username="dishub"))
    # A phone call about street lighting, which the routing rule would give to Perkim.
    data = form_data(channel="phone", source_url="", reporter_phone="0812 5555 0101")
    response = client.post("/dashboard/intake/", data)
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.assigned_agency == agency("63.72", "dishub")
    assert complaint.events.get(kind="submitted").actor_role == Role.AGENCY_OFFICER
    assert complaint.source_url == ""


def test_print_media_needs_the_publication_and_its_date(client):
    client.force_login(province_staff())
    data = form_data(channel="print_media", source_url="")
    response = client.post("/dashboard/intake/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "source_name" in errors and "source_date" in errors
    assert not Complaint.objects.exists()
    edition = (timezone.localdate() - timedelta(days=2)).isoformat()
    data.update(source_name="Banjarmasin Post", source_date=edition)
    assert client.post("/dashboard/intake/", data).status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.source_name, complaint.source_date.isoformat()) == (
        "Banjarmasin Post",
        edition,
    )
    assert complaint.events.get(kind="submitted").actor_role == Role.PROVINCE_STAFF


TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": ""}, "channel"),
        ({"channel": "web"}, "channel"),
        ({"source_url": ""}, "source_url"),
        ({"source_url": "javascript:alert(1)"}, "source_url"),
        ({"source_url": "facebook.com/post/1"}, "source_url"),
        ({"source_url": "https://x.id/" + "a" * 600}, "source_url"),
        ({"raised_on": ""}, "raised_on"),
        ({"raised_on": TOMORROW}, "raised_on"),
        ({"raised_on": "kemarin"}, "raised_on"),
        ({"title": ""}, "title"),
        ({"title": "x" * 151}, "title"),
        ({"description": "  "}, "description"),
        ({"category": ""}, "category"),
        ({"category": "999999"}, "category"),
        ({"region": "99.99"}, "region"),
        ({"region": "63.71"}, "region"),  # not the coordinator's region
        ({"address": ""}, "address"),
        ({"incident_date": TOMORROW}, "incident_date"),
        ({"reporter_email": "bukan-email"}, "reporter_email"),
        ({"reporter_phone": "abc"}, "reporter_phone"),
        ({"channel": "sms", "source_url": ""}, "reporter_phone"),  # whom to answer
        ({"classification": "gossip"}, "classification"),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored(client, overrides, field):
    client.force_login(coordinator("63.72"))
    response = client.post("/dashboard/intake/", form_data(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "error-summary" in response.content.decode()
    assert not Complaint.objects.exists()
    assert not ComplaintEvent.objects.exists()


def test_a_refused_upload_is_named_and_nothing_is_stored(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(coordinator("63.72"))
    fake = SimpleUploadedFile("skrip.png", b"#!/bin/sh\nrm -rf /\n", content_type="image/png")
    response = client.post("/dashboard/intake/", {**form_data(), "attachments": fake})
    assert response.status_code == 400
    assert "skrip.png" in str(response.context["form"].errors["attachments"])
    assert not Complaint.objects.exists() and not Attachment.objects.exists()


def test_an_officer_cannot_enter_for_another_agency(client):
    client.force_login(officer("63.72", "dishub", username="dishub"))
    data = form_data(agency=agency("63.72", "perkim").pk)
    response = client.post("/dashboard/intake/", data)
    assert response.status_code == 400
    assert "agency" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_a_link_entered_before_is_flagged_with_the_existing_complaint(client):
    client.force_login(coordinator("63.72"))
    assert client.post("/dashboard/intake/", form_data()).status_code == 302
    first = Complaint.objects.get()
    # The same post, shared with other tracking parameters and from the mobile site.
    again = form_data(
        source_url="https://m.facebook.com/groups/infobanjarbaru/posts/98765?utm_source=wa"
    )
    response = client.post("/dashboard/intake/", again)
    assert response.status_code == 200
    page = response.content.decode()
    assert "duplicate-warning" in page
    assert first.get_absolute_url() in page
    assert Complaint.objects.count() == 1
    # A different complaint from the same post goes in once confirmed.
    response = client.post("/dashboard/intake/", {**again, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert Complaint.objects.count() == 2


def test_a_rahasia_complaint_of_another_regency_is_never_named(client):
    url = "https://news.example.id/berita/pungli-di-kantor-desa"
    hidden = complaint_submitted(
        region_code="63.71", is_confidential=True, title="Pungli rahasia"
    ).complaint
    Complaint.objects.filter(pk=hidden.pk).update(source_url=source_url_normalise(url))
    client.force_login(coordinator("63.72"))
    response = client.post("/dashboard/intake/", form_data(channel="online_media", source_url=url))
    assert response.status_code == 302  # no warning: nothing this coordinator may see
    assert hidden.tracking_code not in response.content.decode()
    assert Complaint.objects.count() == 2


def test_a_double_submit_makes_one_complaint(client):
    client.force_login(coordinator("63.72"))
    data = form_data(submission_token="6f1c3f4e-8d7b-4c55-9a51-2b0b6b0c1a11")
    assert client.post("/dashboard/intake/", data).status_code == 302
    assert client.post("/dashboard/intake/", {**data, "confirm_duplicate": "on"}).status_code == 302
    assert Complaint.objects.count() == 1


def test_the_source_link_is_stored_in_one_canonical_form():
    assert (
        source_url_normalise("HTTPS://WWW.Facebook.com/story.php?story_fbid=1&id=2&fbclid=x#c")
        == "https://facebook.com/story.php?id=2&story_fbid=1"
    )
    assert source_url_normalise("https://kalsel.antaranews.com/berita/123/") == (
        "https://kalsel.antaranews.com/berita/123"
    )
