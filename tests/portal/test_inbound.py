"""Complaints by SMS and WhatsApp: the signed webhooks, the replies (through the outbox and the
fake provider under var/), photos through the attachment checks, STATUS, the one question, the
phone-only reporter following by a one-time code, and an anonim reporter's number kept from
the agency."""

import base64
import io
import json
import logging
import re
import time

import pytest
from django.test import Client
from PIL import Image

from complaints.models import Attachment, Channel, Complaint, ComplaintEvent
from complaints.services import complaint_transition
from complaints.workflow import Action, ComplaintStatus, Role
from lapor.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_for
from notifications import services as notifications
from notifications.providers import FakeProvider
from notifications.services import notifications_deliver
from tests.factories import agency, coordinator, officer

pytestmark = pytest.mark.django_db

SMS_SECRET = "rahasia-sms-gateway"  # noqa: S105 - a test secret
WA_SECRET = "rahasia-whatsapp-gateway"  # noqa: S105 - a test secret
SITI = "+6281234567890"
OTHER = "+6285711112222"


@pytest.fixture(autouse=True)
def messaging(settings, tmp_path, monkeypatch, media_root):
    settings.LAPOR_MESSAGE_DIR = tmp_path / "messages"
    settings.LAPOR_SITE_URL = "https://lapor.kalselprov.go.id"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LAPOR_MESSAGING = {
        "sms": {**settings.LAPOR_MESSAGING["sms"], "webhook_secret": SMS_SECRET},
        "whatsapp": {
            **settings.LAPOR_MESSAGING["whatsapp"],
            "webhook_secret": WA_SECRET,
            "media_hosts": ["media.gateway.example"],
        },
    }
    # Deliveries are run by the test (notifications_deliver); nothing goes to a broker.
    monkeypatch.setattr(notifications, "notifications_dispatch", lambda ids=None: True)


def signed(body: bytes, secret: str, timestamp: int | None = None) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        f"HTTP_{TIMESTAMP_HEADER.upper().replace('-', '_')}": stamp,
        f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": signature_for(secret, body, stamp),
    }


def send(client, channel: str, payload, *, secret: str | None = None, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    secret = secret or (SMS_SECRET if channel == "sms" else WA_SECRET)
    return client.post(
        f"/messages/{channel}/inbound/",
        body,
        content_type="application/json",
        **{**signed(body, secret), **headers},
    )


def text(client, message_id: str, words: str, *, sender: str = SITI, channel: str = "sms"):
    """A plain text message from ``sender``, signed as the provider signs it."""
    return send(client, channel, {"id": message_id, "from": sender, "text": words})


def replies(channel: str = "sms", to: str = SITI) -> list[str]:
    """Every message sent so far to ``to`` (the outbox delivered through the fake provider)."""
    notifications_deliver()
    return [m["text"] for m in FakeProvider(channel).sent() if m["to"] == to]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


# --- the journey -----------------------------------------------------------------------------


def test_an_sms_complaint_from_first_message_to_tracking_code_reply_to_status_query(client):
    first = "Jalan berlubang di depan pasar, Banjarbaru"
    response = text(client, "m1", first, sender="0812-3456-7890")

    assert response.status_code == 200 and response.json() == {"done": "complaint"}
    complaint = Complaint.objects.get()
    assert (complaint.channel, complaint.status) == (Channel.SMS, ComplaintStatus.TRIAGE)
    assert (complaint.region.code, complaint.category.code) == ("63.72", "jalan")
    assert (complaint.reporter_phone, complaint.notify_by) == (SITI, "sms")
    [receipt] = replies()
    assert complaint.tracking_code in receipt
    assert f"https://lapor.kalselprov.go.id/k/{complaint.tracking_code}" in receipt
    assert len(receipt) <= 160

    # The provider sends the same message again (its retry): nothing happens twice.
    assert text(client, "m1", first).status_code == 200
    assert Complaint.objects.count() == 1 and len(replies()) == 1

    response = text(client, "m2", f"status {complaint.tracking_code.lower()}")
    assert response.json() == {"done": "status"}
    answer = replies()[-1]
    assert complaint.tracking_code in answer
    assert complaint.get_status_display() in answer or "Verifikasi" in answer

    # The short link opens the complaint's page.
    link = client.get(f"/k/{complaint.tracking_code}")
    assert link.status_code == 302 and link["Location"] == complaint.get_absolute_url()


def test_a_missing_regency_gets_one_question_and_the_next_message_answers_it(client):
    send(client, "sms", {"id": "a1", "from": SITI, "text": "Lampu jalan mati sudah seminggu"})
    complaint = Complaint.objects.get()
    assert complaint.region.is_province and complaint.category.code == "pju"
    receipt, question = replies()
    assert complaint.tracking_code in receipt and complaint.tracking_code in question
    assert "kabupaten" in question.lower() or "kota" in question.lower()

    response = text(client, "a2", "Di Kota Banjarmasin, Jl. Veteran")

    assert response.json() == {"done": "answer"}
    complaint.refresh_from_db()
    assert complaint.region.code == "63.71"
    reply = ComplaintEvent.objects.get(complaint=complaint, kind="reply")
    assert reply.note == "Di Kota Banjarmasin, Jl. Veteran"
    assert reply.data["region"]["to"] == complaint.region_id
    assert complaint.tracking_code in replies()[-1]
    # One question only: the next message is a new complaint.
    send(client, "sms", {"id": "a3", "from": SITI, "text": "Sampah menumpuk di Banjarbaru"})
    assert Complaint.objects.count() == 2


def test_a_whatsapp_photo_that_fails_the_checks_is_refused_with_a_message(client):
    payload = {
        "id": "w1",
        "from": SITI,
        "text": "Got tersumbat, banjir di Tanah Bumbu",
        "media": [
            {"data": base64.b64encode(b"MZ\x90\x00 not a photo").decode(), "filename": "x.exe"},
            {"data": base64.b64encode(png()).decode(), "filename": "got.png"},
        ],
    }
    response = send(client, "whatsapp", payload)

    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert complaint.channel == Channel.WHATSAPP
    # The good photo went through the same cleaning as the form's uploads; the other did not.
    [kept] = Attachment.objects.filter(complaint=complaint)
    assert kept.content_type == "image/png"
    texts = replies("whatsapp")
    refusal = next(t for t in texts if "x.exe" in t)
    assert complaint.tracking_code in refusal
    assert "JPEG" in refusal


def test_a_photo_url_outside_the_providers_media_host_is_a_400(client):
    payload = {"from": SITI, "text": "x", "media": [{"url": "http://127.0.0.1:8000/admin/"}]}
    assert send(client, "whatsapp", payload).status_code == 400
    assert not Complaint.objects.exists()


# --- signatures --------------------------------------------------------------------------------


def test_a_forged_signature_is_refused_and_logged(client, caplog):
    payload = {"id": "f1", "from": SITI, "text": "Jalan rusak di Banjarbaru"}
    with caplog.at_level(logging.WARNING, logger="portal.phone"):
        forged = send(client, "sms", payload, secret="guessed-secret")
        other_channel = send(client, "sms", payload, secret=WA_SECRET)
        unsigned = client.post(
            "/messages/sms/inbound/", json.dumps(payload), content_type="application/json"
        )
    assert [r.status_code for r in (forged, other_channel, unsigned)] == [403, 403, 403]
    assert "bad or stale signature" in caplog.text
    assert not Complaint.objects.exists()


def test_a_replayed_or_stale_message_is_refused(client, caplog):
    body = json.dumps({"id": "r1", "from": SITI, "text": "Jalan rusak di Banjarbaru"}).encode()
    headers = signed(body, SMS_SECRET)
    first = client.post("/messages/sms/inbound/", body, content_type="application/json", **headers)
    with caplog.at_level(logging.WARNING, logger="portal.phone"):
        replay = client.post(
            "/messages/sms/inbound/", body, content_type="application/json", **headers
        )
        stale = client.post(
            "/messages/sms/inbound/",
            body,
            content_type="application/json",
            **signed(body, SMS_SECRET, timestamp=int(time.time()) - 3600),
        )
    assert (first.status_code, replay.status_code, stale.status_code) == (200, 403, 403)
    assert "replay" in caplog.text and "stale" in caplog.text
    assert Complaint.objects.count() == 1


def test_without_a_secret_the_webhook_refuses_everything(client, settings):
    settings.LAPOR_MESSAGING = {
        **settings.LAPOR_MESSAGING,
        "sms": {**settings.LAPOR_MESSAGING["sms"], "webhook_secret": ""},
    }
    assert send(client, "sms", {"from": SITI, "text": "x"}, secret="x").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"text": "no sender"}).encode(),
        json.dumps({"from": "+1 202 555 0100", "text": "x"}).encode(),
        json.dumps({"from": SITI, "text": ["x"]}).encode(),
        json.dumps({"from": SITI, "text": "x" * 5001}).encode(),
        json.dumps({"from": SITI, "text": "x", "id": {"a": 1}}).encode(),
        json.dumps({"from": SITI, "text": "x", "media": [{"data": "%%%"}]}).encode(),
        json.dumps({"from": SITI, "text": "x", "media": "photo"}).encode(),
        json.dumps({"from": SITI, "text": "x", "media": [{"nothing": 1}]}).encode(),
    ],
)
def test_garbage_with_a_good_signature_is_a_400(client, body):
    response = send(client, "whatsapp", body)
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_unknown_channels_and_other_methods_are_4xx(client):
    assert client.get("/messages/sms/inbound/").status_code == 405
    assert send(client, "telegram", {"from": SITI, "text": "x"}).status_code == 404


# --- status and privacy ------------------------------------------------------------------------


def test_status_of_a_rahasia_complaint_only_to_the_number_that_filed_it(client):
    text(client, "s1", "RAHASIA pungutan liar di puskesmas Tapin")
    complaint = Complaint.objects.get()
    assert complaint.is_confidential
    code = complaint.tracking_code

    send(client, "sms", {"id": "s2", "from": SITI, "text": f"STATUS {code}"})
    send(client, "sms", {"id": "s3", "from": OTHER, "text": f"STATUS {code}"})
    send(client, "sms", {"id": "s4", "from": OTHER, "text": "STATUS LPR-2222-3333"})

    assert complaint.get_status_display() in replies(to=SITI)[-1]
    neutral, unknown = replies(to=OTHER)
    assert code in neutral and complaint.get_status_display() not in neutral
    # A rahasia complaint and one that does not exist get the same words.
    assert neutral.replace(code, "X") == unknown.replace("LPR-2222-3333", "X")


def test_an_anonim_reporters_number_never_reaches_the_agency(client):
    text(client, "p1", "ANONIM jalan rusak parah di Banjarbaru")
    complaint = Complaint.objects.get()
    assert complaint.is_anonymous and not complaint.description.startswith("ANONIM")
    complaint_transition(
        complaint=complaint,
        action=Action.REROUTE,
        role=Role.REGION_COORDINATOR,
        actor=coordinator("63.72"),
        agency=agency("63.72", "pupr"),
        note="Ke Dinas PUPR.",
    )
    staff = Client()
    staff.force_login(officer("63.72", "pupr"))
    pages = [
        staff.get(complaint.get_absolute_url()).content.decode(),
        staff.get("/dashboard/").content.decode(),
    ]
    numbers = [SITI, "081234567890", "81234567890", "7890"]
    for page in pages:
        assert complaint.tracking_code in page
        assert not any(number in page for number in numbers)
    notifications_deliver()
    from django.core import mail

    for email in mail.outbox:
        assert not any(number in email.body for number in numbers)


# --- following by phone --------------------------------------------------------------------------


def test_a_phone_only_reporter_follows_their_complaints_by_a_code_sent_to_their_number(client):
    send(client, "sms", {"id": "o1", "from": SITI, "text": "RAHASIA jalan rusak di Banjarbaru"})
    complaint = Complaint.objects.get()
    page = client.get("/track/phone/")
    assert page.status_code == 200

    sent = client.post("/track/phone/", {"step": "send", "phone": "0812 3456 7890"})
    assert sent.status_code == 302
    code = re.search(r"\b(\d{6})\b", replies()[-1]).group(1)

    guess = "000000" if code != "000000" else "111111"
    wrong = client.post("/track/phone/", {"step": "verify", "code": guess})
    assert wrong.status_code == 200 and complaint.tracking_code not in wrong.content.decode()
    right = client.post("/track/phone/", {"step": "verify", "code": code})
    assert right.status_code == 302
    listing = client.get("/track/phone/").content.decode()
    assert complaint.tracking_code in listing or complaint.title in listing
    # The rahasia complaint opens for this browser now, as with its private link.
    assert client.get(complaint.get_absolute_url()).status_code == 200
    # The code is used up.
    again = Client().post("/track/phone/", {"step": "verify", "code": code})
    assert again.status_code in (200, 302)


def test_a_number_that_filed_nothing_gets_no_sms_and_the_same_page(client):
    response = client.post("/track/phone/", {"step": "send", "phone": "0857 1111 2222"})
    assert response.status_code == 302
    assert replies(to=OTHER) == []
    assert "0857" not in client.get("/track/phone/").content.decode()


def test_asking_for_codes_is_rate_limited(client, settings):
    settings.LAPOR_PHONE_CODE_RATE = "2/h"
    statuses = [
        client.post("/track/phone/", {"step": "send", "phone": SITI}).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_a_bad_number_is_a_field_error(client):
    response = client.post("/track/phone/", {"step": "send", "phone": "12345"})
    assert response.status_code == 200
    assert response.context["phone_form"].errors["phone"]


# --- the web form's preference ---------------------------------------------------------------


def test_a_guest_who_chooses_whatsapp_on_the_form_hears_by_whatsapp(client):
    from tests.portal.test_views import form_data

    response = client.post(
        "/complaints/new/",
        form_data(reporter_phone="0812 3456 7890", notify_by="whatsapp"),
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.notify_by == "whatsapp"
    [receipt] = replies("whatsapp")
    assert complaint.tracking_code in receipt
    from django.core import mail

    assert mail.outbox == []


def test_sms_without_a_mobile_number_is_a_field_error(client):
    from tests.portal.test_views import form_data

    response = client.post("/complaints/new/", form_data(notify_by="sms"))
    assert response.status_code == 200
    assert response.context["form"].errors["notify_by"]
    assert not Complaint.objects.exists()


def test_erasing_a_phone_reporters_data_blanks_their_messages_too(client):
    from complaints.scope import Purpose, complaints_for
    from complaints.services import complaints_personal_data_erase
    from notifications.models import Notification

    text(client, "e1", "Lampu jalan mati di Banjarbaru")
    complaint = Complaint.objects.get()
    assert Notification.objects.filter(recipient=SITI).exists()

    complaints_personal_data_erase(
        complaints=complaints_for(
            None, purpose=Purpose.OWN, reporter_codes=frozenset({complaint.tracking_code})
        )
    )

    assert not Notification.objects.filter(recipient=SITI).exists()
    assert not Notification.objects.filter(complaint=complaint).exclude(body="").exists()
