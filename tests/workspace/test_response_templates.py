"""Response templates: kept by an agency, a region's coordinators or the province; offered on
the complaints they fit; picked in one click and sent in a second; placeholders filled in from
the complaint, the re-route's new agency when it is sent, and never sent as they are."""

import pytest
from django.core.exceptions import ValidationError

from complaints.models import ComplaintEvent, EventKind, ResponseTemplate
from complaints.responses import response_fill
from complaints.services import response_template_save
from complaints.workflow import Action, WorkflowError
from tests.factories import agency, category, complaint_submitted, coordinator, officer
from tests.factories import province_staff as province

pytestmark = pytest.mark.django_db


def template(actor, *, body="Laporan {kode} ditinjau oleh {perangkat_daerah}.", **kw):
    fields = {
        "agency": None,
        "region": None,
        "category": None,
        "action": Action.FOLLOW_UP,
        "title": "Sedang ditinjau",
    }
    fields.update(kw)
    return response_template_save(actor=actor, body=body, **fields)


def offered(response, form="handle"):
    return [t["title"] for t in response.context["response_templates"].get(form, [])]


def test_an_officer_keeps_a_template_on_the_staff_page_and_finds_it_on_a_complaint(client):
    perkim = officer("63.72", "perkim")
    complaint = complaint_submitted(title="Lampu mati di Jl. Ahmad Yani").complaint
    client.force_login(perkim)
    response = client.post(
        "/dashboard/templat/",
        {
            "owner": f"agency:{agency('63.72', 'perkim').pk}",
            "action": Action.FOLLOW_UP,
            "category": "",
            "title": "Petugas ke lokasi",
            "body": "Laporan {kode} ({judul}): petugas {perangkat_daerah} ke lokasi besok.",
        },
    )
    assert response.status_code == 302
    saved = ResponseTemplate.objects.get()
    assert (saved.agency.code, saved.updated_by) == ("perkim", perkim)
    assert "Petugas ke lokasi" in client.get("/dashboard/templat/").content.decode()

    page = client.get(complaint.get_absolute_url())
    assert offered(page) == ["Petugas ke lokasi"]
    text = page.context["response_templates"]["handle"][0]["text"]
    assert text == (
        f"Laporan {complaint.tracking_code} (Lampu mati di Jl. Ahmad Yani): petugas "
        f"{complaint.assigned_agency.name} ke lokasi besok."
    )
    # The link works without script: the page comes back with the text in the note.
    picked = client.get(complaint.get_absolute_url(), {"templat": saved.pk})
    assert f">{text}</textarea>" in picked.content.decode()


def test_two_clicks_pick_and_send(client):
    perkim = officer("63.72", "perkim")
    complaint = complaint_submitted().complaint
    chosen = template(
        province(), action=Action.RESOLVE, title="Sudah diperbaiki", body="{kode} beres."
    )
    client.force_login(perkim)
    page = client.get(complaint.get_absolute_url(), {"templat": chosen.pk})
    note = page.context["picked_response"]["text"]
    response = client.post(
        f"/complaints/{complaint.tracking_code}/act/", {"action": "resolve", "note": note}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    event = ComplaintEvent.objects.filter(complaint=complaint, kind=EventKind.RESOLVED).last()
    assert event.note == f"{complaint.tracking_code} beres."


def test_which_templates_a_complaint_is_offered(client):
    staff = province()
    complaint = complaint_submitted(category_code="pju").complaint  # perkim, Banjarbaru
    template(staff, title="Provinsi")
    template(staff, title="Perkim", agency=agency("63.72", "perkim"))
    template(staff, title="PUPR", agency=agency("63.72", "pupr"))
    template(staff, title="Koordinator Banjarbaru", region=complaint.region)
    template(staff, title="Koordinator Banjarmasin", region=agency("63.71", "perkim").region)
    template(staff, title="Lampu", category=category("pju"))
    template(staff, title="Jalan", category=category("jalan"))
    template(staff, title="Untuk re-route", action=Action.REROUTE)
    client.force_login(officer("63.72", "perkim"))
    page = client.get(complaint.get_absolute_url())
    assert sorted(offered(page)) == ["Koordinator Banjarbaru", "Lampu", "Perkim", "Provinsi"]
    # The officer may not re-route: that template is not theirs to pick.
    assert offered(page, "reroute") == []
    # A citizen sees no template at all.
    client.logout()
    assert "template-pick" not in client.get(complaint.get_absolute_url()).content.decode()


def test_a_reroute_fills_in_the_new_agency_when_sent(client):
    complaint = complaint_submitted().complaint
    pupr = agency("63.72", "pupr")
    chosen = template(
        province(),
        action=Action.REROUTE,
        title="Diteruskan",
        body="Laporan {kode} diteruskan ke {perangkat_daerah_baru}.",
    )
    client.force_login(coordinator("63.72"))
    page = client.get(complaint.get_absolute_url(), {"templat": chosen.pk})
    note = page.context["picked_response"]["text"]
    assert page.context["picked_response"]["form"] == "reroute"
    assert note == f"Laporan {complaint.tracking_code} diteruskan ke {{perangkat_daerah_baru}}."
    response = client.post(
        f"/complaints/{complaint.tracking_code}/act/",
        {"action": "reroute", "agency": pupr.pk, "note": note},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.assigned_agency == pupr
    assert ComplaintEvent.objects.filter(
        complaint=complaint, note=f"Laporan {complaint.tracking_code} diteruskan ke {pupr.name}."
    ).exists()


def test_a_placeholder_that_cannot_be_filled_is_not_sent(client):
    complaint = complaint_submitted().complaint
    before = ComplaintEvent.objects.filter(complaint=complaint).count()
    client.force_login(officer("63.72", "perkim"))
    response = client.post(
        f"/complaints/{complaint.tracking_code}/act/",
        {"action": "follow_up", "note": "Diteruskan ke {perangkat_daerah_baru}."},
    )
    assert response.status_code == 400
    assert "{perangkat_daerah_baru}" in response.context["staff_form"].errors["note"][0]
    assert ComplaintEvent.objects.filter(complaint=complaint).count() == before
    # Braces that name no placeholder are the officer's own text and go through.
    response = client.post(
        f"/complaints/{complaint.tracking_code}/act/",
        {"action": "follow_up", "note": "Nomor tiket internal {A-17}."},
    )
    assert response.status_code == 302


def test_an_unknown_placeholder_is_refused_on_the_page(client):
    client.force_login(province())
    response = client.post(
        "/dashboard/templat/",
        {"owner": "province", "action": "follow_up", "title": "Salah", "body": "Halo {kdoe}."},
    )
    assert response.status_code == 400
    assert "{kdoe}" in response.context["form"].errors["body"][0]
    assert not ResponseTemplate.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("body", ""),
        ("action", "archive"),
        ("owner", "agency:999999"),
        ("owner", "x"),
    ],
)
def test_bad_input_gets_a_field_error(client, field, value):
    client.force_login(province())
    data = {"owner": "province", "action": "follow_up", "title": "Baik", "body": "Baik."}
    data[field] = value
    response = client.post("/dashboard/templat/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ResponseTemplate.objects.exists()


def test_who_may_keep_which_templates(client):
    staff = province()
    theirs = template(staff, title="Jawaban milik PUPR", agency=agency("63.72", "pupr"))
    province_wide = template(staff, title="Jawaban milik provinsi")
    perkim = officer("63.72", "perkim")
    client.force_login(perkim)
    # Not another agency's, not the province's: neither listed, nor opened, nor deleted.
    listed = client.get("/dashboard/templat/").content.decode()
    assert "Jawaban milik" not in listed
    assert client.get(f"/dashboard/templat/{theirs.pk}/").status_code == 404
    assert client.post(f"/dashboard/templat/{province_wide.pk}/hapus/").status_code == 404
    assert ResponseTemplate.objects.count() == 2
    # Not offered another agency as owner.
    response = client.post(
        "/dashboard/templat/",
        {
            "owner": f"agency:{agency('63.72', 'pupr').pk}",
            "action": "follow_up",
            "title": "A",
            "body": "B",
        },
    )
    assert response.status_code == 400 and "owner" in response.context["form"].errors
    with pytest.raises(WorkflowError):
        template(perkim, title="Diam-diam", agency=agency("63.72", "pupr"))
    with pytest.raises(WorkflowError):
        template(perkim, title="Untuk semua")
    # A coordinator keeps their region's and its agencies' templates, not another region's.
    kominfo = coordinator("63.72")
    template(kominfo, title="Koordinator", region=agency("63.72", "perkim").region)
    template(kominfo, title="Untuk PUPR", agency=agency("63.72", "pupr"))
    with pytest.raises(WorkflowError):
        template(kominfo, title="Banjarmasin", agency=agency("63.71", "perkim"))
    # Nobody moves a template out of another's hands by editing it.
    with pytest.raises(WorkflowError):
        response_template_save(
            actor=perkim,
            template=theirs,
            agency=agency("63.72", "perkim"),
            region=None,
            category=None,
            action=Action.FOLLOW_UP,
            title="Diambil",
            body="Teks.",
        )


def test_staff_edit_and_delete_their_templates(client):
    perkim = officer("63.72", "perkim")
    own = template(perkim, title="Lama", agency=agency("63.72", "perkim"))
    client.force_login(perkim)
    page = client.get(f"/dashboard/templat/{own.pk}/")
    assert page.context["form"]["title"].value() == "Lama"
    response = client.post(
        f"/dashboard/templat/{own.pk}/",
        {
            "owner": f"agency:{own.agency_id}",
            "action": "resolve",
            "title": "Baru",
            "body": "Sudah beres, {kode}.",
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.title, own.action) == ("Baru", "resolve")
    assert client.post(f"/dashboard/templat/{own.pk}/hapus/").status_code == 302
    assert not ResponseTemplate.objects.exists()


def test_citizens_cannot_open_the_templates_page(client):
    assert client.get("/dashboard/templat/").status_code == 302
    client.force_login(complaint_submitted().complaint.reporter or officer("63.71", "pupr"))
    client.logout()
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get("/dashboard/templat/").status_code == 403


def test_no_placeholder_reaches_the_reporter():
    """The placeholders name the complaint, never its reporter: an anonim reporter's name
    cannot be put in a public note by a template."""
    complaint = complaint_submitted(is_anonymous=True, reporter_name="Siti Rahmah").complaint
    names = ("kode", "judul", "kategori", "wilayah", "perangkat_daerah")
    every = " ".join("{" + name + "}" for name in names)
    assert "Siti" not in response_fill(every, complaint)
    with pytest.raises(ValidationError):
        template(province(), body="Halo {pelapor}")
