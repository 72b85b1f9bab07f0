"""Short messages through the outbox: the text (GSM-7, 160 characters, code and short link), the
reporter's channel, the fake provider under var/, the generic HTTP provider against a local
gateway, and retries while the gateway is down (a real Celery worker)."""

import json
import logging

import pytest
from django.core import mail
from django.utils import timezone

from complaints.models import Channel
from complaints.services import complaint_transition
from complaints.workflow import Action, Role
from notifications import services as notifications
from notifications.messaging import phone_normalise, reporter_contact, short_link
from notifications.models import MessageChannel, Notification, NotificationStatus
from notifications.providers import FakeProvider, HttpProvider, ProviderError
from notifications.services import notification_queue, notifications_deliver
from notifications.tasks import deliver_pending_notifications
from notifications.texts import gsm7_text, is_gsm7, message_render, sms_text
from tests.complaints.test_celery_worker import (  # noqa: F401 - celery_worker is a fixture
    celery_worker,
    reset_broker_connections,
    wait_for,
)
from tests.factories import complaint_submitted, officer
from tests.notifications.gateway import Gateway

SENT, PENDING = NotificationStatus.SENT, NotificationStatus.PENDING


@pytest.fixture
def message_dir(settings, tmp_path):
    settings.LAPOR_MESSAGE_DIR = tmp_path / "messages"
    settings.LAPOR_SITE_URL = "https://lapor.kalselprov.go.id"
    return settings.LAPOR_MESSAGE_DIR


@pytest.fixture
def no_broker(monkeypatch) -> list:
    """Rows are delivered by calling the service here; nothing is handed to a broker."""
    calls: list = []
    monkeypatch.setattr(
        notifications, "notifications_dispatch", lambda ids=None: calls.append(ids) or True
    )
    return calls


@pytest.fixture
def gateway():
    with Gateway() as running:
        yield running


def http_sms(settings, url: str, **overrides) -> None:
    settings.LAPOR_MESSAGING = {
        **settings.LAPOR_MESSAGING,
        "sms": {
            **settings.LAPOR_MESSAGING["sms"],
            "provider": "http",
            "url": url,
            "auth_header": "Authorization: Bearer gateway-token",
            **overrides,
        },
    }


# --- the text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("81234567890", "+6281234567890"),
        ("+1 202 555 0100", ""),
        ("0511 3352 000", ""),  # a landline: no SMS
        ("12", ""),
        ("", ""),
    ],
)
def test_phone_numbers_are_read_in_their_international_form(raw, normal):
    assert phone_normalise(raw) == normal


def test_sms_text_is_plain_gsm7_and_at_most_160_characters():
    plain = gsm7_text("“Jalan” rusak — ‘parah’… naïve café")
    assert plain == "\"Jalan\" rusak - 'parah'... naive café"  # é is GSM-7, ï is not
    long = sms_text("kata " * 100)
    assert len(long) <= 160 and long.endswith("...") and is_gsm7(long)
    # A character with no plain form keeps the message UCS-2: then 70 characters.
    assert len(sms_text("جالن " * 40)) <= 70


@pytest.mark.django_db
def test_a_reporter_who_chose_sms_gets_a_short_receipt_with_code_and_link(message_dir):
    result = complaint_submitted(reporter_email="", notify_by="sms")
    complaint = result.complaint
    row = Notification.objects.get(complaint=complaint)
    assert (row.channel, row.recipient, row.secret) == ("sms", "+6281234567890", "")
    assert complaint.tracking_code in row.body
    assert short_link(complaint.tracking_code) in row.body
    assert len(row.body) <= 160 and is_gsm7(row.body)
    assert "[private-key]" not in row.body and result.access_key not in row.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "phone", "preference", "expected"),
    [
        ("siti@example.id", "081234567890", "", ("email", "siti@example.id")),
        ("siti@example.id", "081234567890", "sms", ("sms", "+6281234567890")),
        ("siti@example.id", "081234567890", "whatsapp", ("whatsapp", "+6281234567890")),
        ("", "081234567890", "", ("sms", "+6281234567890")),
        ("siti@example.id", "", "sms", ("email", "siti@example.id")),
        ("", "0511 335 2000", "sms", None),  # a landline cannot take a message
    ],
)
def test_the_reporters_channel_follows_contact_and_preference(email, phone, preference, expected):
    complaint = complaint_submitted(
        reporter_email=email, reporter_phone=phone, notify_by=preference
    ).complaint
    contact = reporter_contact(complaint)
    assert (tuple(contact) if contact else None) == expected


@pytest.mark.django_db
def test_status_changes_reach_an_sms_reporter_and_messages_go_through_the_fake_provider(
    message_dir, no_broker
):
    complaint = complaint_submitted(reporter_email="", notify_by="sms").complaint
    petugas = officer("63.72", "perkim", username="petugas")
    complaint_transition(
        complaint=complaint,
        actor=petugas,
        role=Role.AGENCY_OFFICER,
        action=Action.FOLLOW_UP,
        note="Sudah dicek.",
    )

    result = notifications_deliver()

    sent = FakeProvider("sms").sent()
    assert result.sent == len(sent) == 2
    assert all(m["to"] == "+6281234567890" for m in sent)
    assert all(complaint.tracking_code in m["text"] for m in sent)
    assert mail.outbox == []  # nothing went by email
    assert json.loads((message_dir / "sms.jsonl").read_text().splitlines()[0])["channel"] == "sms"
    assert notifications_deliver().sent == 0  # each once


# --- the HTTP provider -----------------------------------------------------------------------


def test_the_http_provider_fills_the_payload_template_escaped(gateway):
    provider = HttpProvider(
        "sms",
        url=gateway.url,
        payload='{"msisdn": "$to", "message": "$text", "type": "$channel"}',
        auth_header="X-Api-Key: rahasia-gateway",
    )
    provider.send(to="+6281234567890", text='Kode "LPR" \\ baris')
    assert gateway.received == [
        {"msisdn": "+6281234567890", "message": 'Kode "LPR" \\ baris', "type": "sms"}
    ]
    assert gateway.headers[0]["X-Api-Key"] == "rahasia-gateway"

    form = HttpProvider(
        "sms",
        url=gateway.url,
        payload="to=$to&text=$text",
        content_type="application/x-www-form-urlencoded",
    )
    form.send(to="+6281234567890", text="a&b=c d")
    assert gateway.received[-1] == {"to": "+6281234567890", "text": "a&b=c d"}

    gateway.status = 500
    with pytest.raises(ProviderError, match="500"):
        provider.send(to="+6281234567890", text="x")


def test_an_unreachable_gateway_is_a_provider_error():
    provider = HttpProvider("sms", url="http://127.0.0.1:1/send", payload="{}", timeout=2)
    with pytest.raises(ProviderError, match="cannot be reached"):
        provider.send(to="+6281234567890", text="x")


@pytest.mark.django_db
def test_a_refusing_gateway_keeps_the_sms_pending_and_email_still_goes(
    settings, gateway, no_broker, caplog
):
    http_sms(settings, gateway.url)
    gateway.status = 500
    notification_queue(
        dedupe_key="sms:1",
        recipient="+6281234567890",
        template="help",
        context={},
        channel=MessageChannel.SMS,
    )
    notification_queue(
        dedupe_key="email:1",
        recipient="warga@example.id",
        template="digest",
        context={"kind": "breach_agency", "rows": [], "count": 0},
    )

    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        result = notifications_deliver()

    assert (result.sent, result.failed) == (1, 1)
    assert len(mail.outbox) == 1
    sms = Notification.objects.get(dedupe_key="sms:1")
    assert (sms.status, sms.attempts) == (PENDING, 1)
    assert sms.next_attempt_at > timezone.now()
    assert "500" in sms.last_error
    assert gateway.headers[0]["Authorization"] == "Bearer gateway-token"


# --- a real worker while the gateway is down --------------------------------------------------


@pytest.fixture
def gateway_worker(gateway, monkeypatch, request, settings):
    """A Celery worker whose SMS provider is the local gateway (set before it starts)."""
    # An earlier test may have left this process publishing to a broker that is gone.
    reset_broker_connections()
    notifications.notifications_breaker_reset()
    monkeypatch.setenv("LAPOR_SMS_PROVIDER", "http")
    monkeypatch.setenv("LAPOR_SMS_HTTP_URL", gateway.url)
    http_sms(settings, gateway.url)
    return request.getfixturevalue("celery_worker")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_outbox_retries_while_the_gateway_answers_500_and_sends_once_when_it_returns(
    gateway, gateway_worker
):
    gateway.status = 500
    complaint = complaint_submitted(
        reporter_email="", notify_by="sms", channel=Channel.WEB
    ).complaint
    row = Notification.objects.get(complaint=complaint)
    assert row.channel == "sms"

    # The worker is asked for the row after commit; the gateway refuses it.
    wait_for(
        lambda: Notification.objects.get(pk=row.pk).attempts >= 1,
        worker=gateway_worker,
        what="the first attempt",
    )
    refused = Notification.objects.get(pk=row.pk)
    assert refused.status == PENDING and "500" in refused.last_error
    assert gateway.refused == 1 and gateway.received == []

    def rounds_done(count: int) -> None:
        wait_for(
            lambda: gateway_worker.output.count(" succeeded in ") >= count,
            worker=gateway_worker,
            what=f"{count} delivery task(s) to finish",
        )

    # While the back-off runs, beat's rounds leave it alone.
    rounds_done(1)
    deliver_pending_notifications.apply_async(queue=gateway_worker.queue)
    rounds_done(2)
    assert gateway.refused == 1

    # The back-off is over and the gateway is back: the next rounds send it, once.
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    gateway.status = 200
    for _round in range(3):
        deliver_pending_notifications.apply_async(queue=gateway_worker.queue)
    rounds_done(5)
    assert len(gateway.received) == 1
    assert gateway.received[0]["to"] == "+6281234567890"
    assert complaint.tracking_code in gateway.received[0]["text"]
    sent = Notification.objects.get(pk=row.pk)
    assert sent.attempts == 2 and sent.sent_at is not None


def test_message_templates_render_in_indonesian(settings):
    settings.LAPOR_SITE_URL = "https://lapor.kalselprov.go.id"
    text = message_render("help", {}, channel="sms")
    assert text.startswith("Lapor Paman:") and "STATUS" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("submitted", {"complaint": "COMPLAINT"}),
        ("status", {"complaint": "COMPLAINT"}),
        ("question", {"ask_region": True}),
        ("question", {"ask_region": False}),
        ("answer_thanks", {}),
        ("status_answer", {"status": "Sedang ditindaklanjuti"}),
        ("status_unknown", {}),
        ("phone_code", {"code": "123456", "minutes": 10}),
        ("help", {}),
    ],
)
def test_every_sms_fits_one_gsm7_message_with_its_code_and_link_whole(settings, template, context):
    settings.LAPOR_SITE_URL = "https://lapor.kalselprov.go.id"
    complaint = complaint_submitted(reporter_email="").complaint
    code = complaint.tracking_code
    if context.get("complaint"):
        context = {**context, "complaint": complaint}
    context = {"code": code, "link": short_link(code), **context}
    text = message_render(template, context, channel="sms")
    assert len(text) <= 160 and is_gsm7(text) and not text.endswith("...")
    assert text.startswith("Lapor Paman:")
    if template not in ("help", "phone_code"):
        assert code in text
