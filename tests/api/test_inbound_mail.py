"""Email intake: the signed inbound-mail webhook (raw RFC 822), a complaint in triage with its
cleaned attachments, replies threaded by tracking code, hostile messages refused with a 4xx."""

import email
import time
from email.message import EmailMessage

import pikepdf
import pytest
from django.urls import reverse

from complaints.models import Attachment, Channel, Complaint, EventKind
from complaints.workflow import ComplaintStatus
from lapor import webhooks
from tests.complaints.test_attachments import pdf_document

pytestmark = pytest.mark.django_db

SECRET = "rahasia-webhook-untuk-tes"  # noqa: S105
URL = "/api/v1/inbound/email"


@pytest.fixture(autouse=True)
def _setup(settings, media_root):
    settings.INBOUND_MAIL_SECRET = SECRET
    return media_root


def signed_post(client, body: bytes, *, secret=SECRET, timestamp=None):
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    return client.post(
        URL,
        data=body,
        content_type="message/rfc822",
        headers={
            "X-Lapor-Timestamp": timestamp,
            "X-Lapor-Signature": webhooks.signature_for(secret, body, timestamp),
        },
    )


def mail(
    *,
    sender="Siti Aminah <Siti.Aminah@example.id>",
    subject="Jalan berlubang di Jl. Ahmad Yani",
    text="Kabupaten/Kota: Banjarbaru\nAlamat: Jl. Ahmad Yani km 33\n\nLubang besar, bahaya.",
    pdf: bytes | None = None,
    message_id="<abc-1@example.id>",
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "lapor@kalselprov.go.id"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = "Sat, 05 Dec 2026 09:00:00 +0800"
    message.set_content(text)
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename="KTP Siti Aminah.pdf"
        )
    return message.as_bytes()


def test_an_email_with_a_pdf_lands_in_triage_with_the_cleaned_file(client):
    document = pdf_document().replace(
        b"/Root 1 0 R >>", b"/Root 1 0 R /Info << /Author (Siti Rahmah) >> >>"
    )
    response = signed_post(client, mail(pdf=document))
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get(tracking_code=response.json()["tracking_code"])
    assert complaint.status == ComplaintStatus.TRIAGE
    assert complaint.channel == Channel.EMAIL
    assert complaint.region.code == "63.72"
    assert complaint.address == "Jl. Ahmad Yani km 33"
    assert complaint.title == "Jalan berlubang di Jl. Ahmad Yani"
    assert complaint.reporter_email == "siti.aminah@example.id"
    assert complaint.reporter_name == "Siti Aminah"
    [attachment] = Attachment.objects.filter(complaint=complaint)
    assert attachment.content_type == "application/pdf"
    content = attachment.file.read()
    assert b"Siti Rahmah" not in content
    with pikepdf.open(attachment.file.path) as pdf:
        assert "/Author" not in pdf.docinfo
    # The provider delivers it again: the same complaint, nothing new.
    again = signed_post(client, mail(pdf=document))
    assert again.status_code == 200
    assert again.json()["tracking_code"] == complaint.tracking_code
    assert Complaint.objects.count() == 1


def test_a_reply_from_the_reporter_threads_onto_the_complaint(client):
    first = signed_post(client, mail(text="Kota: Banjarbaru\nKategori: pju\nLampu mati."))
    code = first.json()["tracking_code"]
    complaint = Complaint.objects.get(tracking_code=code)
    # In triage the reporter cannot reply yet; once with an agency they can.
    from complaints.services import complaint_transition
    from complaints.workflow import Action, Role
    from tests.factories import agency, coordinator

    complaint_transition(
        complaint=complaint,
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=coordinator(username="kominfo-bjb"),
        agency=agency("63.72", "perkim"),
    )
    reply = mail(
        subject=f"Re: [Lapor] {code.lower()} diterima",
        text="Lampunya masih mati sampai hari ini.\n\n> Pengaduan Anda diterima.",
        message_id="<abc-2@example.id>",
    )
    response = signed_post(client, reply)
    assert response.status_code == 201
    assert response.json() == {
        "detail": response.json()["detail"],
        "kind": "reply",
        "tracking_code": code,
    }
    reply_event = complaint.events.get(kind=EventKind.REPLY)
    assert reply_event.note == "Lampunya masih mati sampai hari ini."  # without the quote
    assert Complaint.objects.count() == 1


def test_a_reply_from_someone_else_is_refused(client):
    code = signed_post(client, mail()).json()["tracking_code"]
    forged = mail(
        sender="Orang Lain <lain@example.id>",
        subject=f"Re: {code}",
        message_id="<x@example.id>",
    )
    response = signed_post(client, forged)
    assert response.status_code == 403
    assert code not in response.content.decode()
    assert Complaint.objects.count() == 1


def test_a_reply_to_a_complaint_in_triage_is_refused_with_409(client):
    code = signed_post(client, mail()).json()["tracking_code"]
    response = signed_post(client, mail(subject=f"Re: {code}", message_id="<y@example.id>"))
    assert response.status_code == 409


def test_an_unknown_code_in_the_subject_makes_a_new_complaint(client):
    response = signed_post(client, mail(subject="Re: LPR-ZZZZ-ZZZZ jalan rusak"))
    assert response.status_code == 201 and response.json()["kind"] == "complaint"


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "salah"},
        {"timestamp": str(int(time.time()) - 3600)},  # an old call replayed
        {"timestamp": "abc"},
    ],
)
def test_a_forged_or_stale_signature_is_refused(client, change):
    response = signed_post(client, mail(), **change)
    assert response.status_code == 403
    assert Complaint.objects.count() == 0


def test_without_a_secret_the_webhook_takes_nothing(client, settings):
    settings.INBOUND_MAIL_SECRET = ""
    response = signed_post(client, mail(), secret="")
    assert response.status_code == 403


def test_an_unsigned_call_and_a_get_are_refused(client):
    assert client.post(URL, data=mail(), content_type="message/rfc822").status_code == 403
    assert client.get(URL).status_code == 405


def nested(depth: int) -> bytes:
    head = b"From: a@example.id\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    body = b"Content-Type: text/plain\r\n\r\nisi\r\n"
    for level in range(depth):
        boundary = b"b%d" % level
        body = b'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n--%s\r\n%s\r\n--%s--\r\n' % (
            boundary,
            boundary,
            body,
            boundary,
        )
    return head + body


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"\x00\xff\xfe garbage without headers", 400),
        (b"Subject: no sender\r\n\r\nisi", 422),
        (b"From: not an address\r\nSubject: x\r\n\r\nisi", 422),
        (nested(200), 400),
        (
            b"From: a@example.id\r\nSubject: =?x-unknown?q?abc?=\r\n"
            b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nisi",
            201,
        ),
        (
            b"From: a@example.id\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\n'
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"!!!not base64!!!\r\n--zz",
            422,
        ),
    ],
)
def test_hostile_messages_get_a_4xx_never_a_500(client, body, status):
    response = signed_post(client, body)
    assert response.status_code == status, response.content


@pytest.mark.parametrize(
    ("header", "value"),
    [("Auto-Submitted", "auto-replied"), ("From", "Lapor Paman <noreply@lapor.local>")],
)
def test_automatic_replies_and_our_own_mail_are_not_complaints(client, header, value):
    raw = mail()
    message = email.message_from_bytes(raw)
    del message[header]
    message[header] = value
    response = signed_post(client, message.as_bytes())
    assert response.status_code == 422
    assert Complaint.objects.count() == 0


def test_a_huge_message_is_refused_before_it_is_read(client, settings):
    settings.INBOUND_MAIL_MAX_BYTES = 1000
    response = signed_post(client, mail(text="x" * 5000))
    assert response.status_code == 413


def test_a_refused_attachment_refuses_the_mail(client):
    bad = mail(pdf=pdf_document(b"<< /S /JavaScript /JS (app.alert(1)) >>"))
    response = signed_post(client, bad)
    assert response.status_code == 422
    assert response.json()["errors"]["attachments"]
    assert Complaint.objects.count() == 0


def test_the_url_has_a_name():
    assert reverse("api-inbound-email") == URL
