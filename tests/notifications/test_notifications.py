"""Outbox delivery as a service: claims, batches through one connection, results recorded row by
row, interruptions, dead workers' claims, the private-link key, and the demo's silent history.

The real worker and the real brokers are in test_celery_worker.py and test_mail_recovery.py.
"""

import threading
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.utils import timezone

from complaints.models import Complaint
from lapor.demo import demo_complaints_seed
from notifications import services as notifications
from notifications.models import Notification, NotificationStatus
from notifications.services import (
    INTERRUPTED,
    MAX_ATTEMPTS,
    notifications_claim,
    notifications_deliver,
    notifications_release_stale,
)
from tests.factories import complaint_submitted

PENDING, SENDING, SENT, FAILED = (
    NotificationStatus.PENDING,
    NotificationStatus.SENDING,
    NotificationStatus.SENT,
    NotificationStatus.FAILED,
)


@pytest.fixture(autouse=True)
def dispatched(monkeypatch) -> list:
    """Rows are delivered by calling the service here; nothing is handed to a broker."""
    calls = []
    monkeypatch.setattr(
        notifications, "notifications_dispatch", lambda ids=None: calls.append(ids) or True
    )
    return calls


def pending_rows(count: int, prefix: str = "row") -> list[Notification]:
    Notification.objects.bulk_create(
        Notification(
            dedupe_key=f"{prefix}:{i}",
            recipient=f"{prefix}{i}@example.id",
            subject=f"Subject {i}",
            body=f"Body {i}",
        )
        for i in range(count)
    )
    return list(Notification.objects.filter(dedupe_key__startswith=f"{prefix}:").order_by("pk"))


def statuses() -> dict[str, str]:
    return dict(Notification.objects.values_list("recipient", "status"))


class CountingBackend(LocmemBackend):
    """The test outbox, counting the connections a delivery makes."""

    made = 0

    def __init__(self, *args, **kwargs):
        CountingBackend.made += 1
        super().__init__(*args, **kwargs)


class InterruptedBackend(LocmemBackend):
    """The task's soft time limit strikes while the third message is being sent."""

    def send_messages(self, messages):
        if len(mail.outbox) == 2:
            raise SoftTimeLimitExceeded()
        return super().send_messages(messages)


class RefusingOneBackend(LocmemBackend):
    def send_messages(self, messages):
        if messages[0].to == ["row1@example.id"]:
            raise ConnectionResetError("connection reset by peer")
        return super().send_messages(messages)


class UnreachableBackend(BaseEmailBackend):
    def open(self):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    def send_messages(self, messages):
        raise AssertionError("nothing is sent without a connection")


# --- batches -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_delivery_sends_many_rows_through_one_connection(settings, dispatched):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.made = 0
    rows = pending_rows(250)

    result = notifications_deliver(batch_size=100)

    assert (result.sent, result.failed, result.released) == (250, 0, 0)
    assert CountingBackend.made == 1
    # On PostgreSQL a full first batch asks for one helper task (for a free worker slot), once.
    assert dispatched == ([None] if connection.vendor == "postgresql" else [])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(row.recipient for row in rows)
    assert set(statuses().values()) == {SENT}
    assert not Notification.objects.exclude(claim="").exists()
    # Nothing left: a second delivery sends nothing.
    assert notifications_deliver().sent == 0
    assert len(mail.outbox) == 250


@pytest.mark.django_db
def test_the_rows_a_task_was_queued_for_go_first():
    rows = pending_rows(30)
    newest = rows[-1]

    claimed = notifications_claim(ids=[newest.pk], limit=5)

    # The newest row is in the first batch (sent, like every batch, in id order: see
    # notifications_release_stale), beside the oldest rows still waiting.
    assert [row.pk for row in claimed] == [row.pk for row in rows[:4]] + [newest.pk]
    assert {row.status for row in claimed} == {SENDING}
    assert len({row.claim for row in claimed}) == 1
    # Claimed rows are nobody else's: a second claim takes the next ones.
    again = notifications_claim(ids=[newest.pk], limit=5)
    assert [row.pk for row in again] == [row.pk for row in rows[4:9]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deliveries_running_at_once_send_each_row_once():
    """Two beats at once, or many tasks queued for one burst: every row goes out once."""
    pending_rows(200)
    results, errors = [], []

    def deliver():
        try:
            results.append(notifications_deliver(batch_size=7))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(result.sent for result in results) == 200
    recipients = [m.to[0] for m in mail.outbox]
    assert len(recipients) == 200
    assert len(set(recipients)) == 200
    assert set(statuses().values()) == {SENT}


# --- failures and interruptions ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_row_the_server_refuses_waits_and_the_others_go(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingOneBackend"
    pending_rows(3)

    result = notifications_deliver()

    assert (result.sent, result.failed) == (2, 1)
    assert statuses() == {
        "row0@example.id": SENT,
        "row1@example.id": PENDING,
        "row2@example.id": SENT,
    }
    refused = Notification.objects.get(recipient="row1@example.id")
    assert refused.attempts == 1
    assert "reset" in refused.last_error
    assert refused.next_attempt_at > timezone.now() + timedelta(minutes=1)


@pytest.mark.django_db
def test_an_unreachable_mail_server_sends_the_whole_batch_to_wait(settings):
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    pending_rows(5)

    result = notifications_deliver(batch_size=3)

    # The first batch waits with a back-off; the task stops there, the others are not touched.
    assert (result.sent, result.failed) == (0, 3)
    assert not Notification.objects.filter(attempts=0).exclude(status=PENDING).exists()
    assert Notification.objects.filter(attempts=0, next_attempt_at=None).count() == 2
    rows = Notification.objects.filter(attempts__gt=0)
    assert {(row.status, row.attempts, row.claim) for row in rows} == {(PENDING, 1, "")}
    assert all(row.next_attempt_at > timezone.now() for row in rows)
    assert all("refused" in row.last_error for row in rows)


@pytest.mark.django_db
def test_a_send_cut_short_by_the_time_limit_is_never_sent_twice(settings):
    settings.EMAIL_BACKEND = f"{__name__}.InterruptedBackend"
    pending_rows(5)

    with pytest.raises(SoftTimeLimitExceeded):
        notifications_deliver()

    # Two went; the third's fate is unknown, so it is given up; the others wait, unclaimed.
    assert statuses() == {
        "row0@example.id": SENT,
        "row1@example.id": SENT,
        "row2@example.id": FAILED,
        "row3@example.id": PENDING,
        "row4@example.id": PENDING,
    }
    assert Notification.objects.get(recipient="row2@example.id").last_error == INTERRUPTED
    assert not Notification.objects.exclude(claim="").exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications_deliver().sent == 2
    assert [m.to[0] for m in mail.outbox] == [
        "row0@example.id",
        "row1@example.id",
        "row3@example.id",
        "row4@example.id",
    ]


@pytest.mark.django_db
def test_a_dead_workers_claim_is_handed_back_after_a_while():
    rows = pending_rows(5)
    claimed = notifications_claim(limit=5)
    assert len(claimed) == 5
    # The worker sent and recorded the first two, then was killed while sending the third.
    Notification.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(status=SENT, claim="")

    assert notifications_release_stale(now=timezone.now() + timedelta(minutes=5)) == 0
    assert notifications_deliver(sweep=True).sent == 0  # still claimed: not sent twice

    assert notifications_release_stale(now=timezone.now() + timedelta(minutes=11)) == 3
    assert statuses() == {
        "row0@example.id": SENT,
        "row1@example.id": SENT,
        "row2@example.id": FAILED,
        "row3@example.id": PENDING,
        "row4@example.id": PENDING,
    }
    assert notifications_deliver(sweep=True).sent == 2
    assert [m.to[0] for m in mail.outbox] == ["row3@example.id", "row4@example.id"]


# --- the private-link key ------------------------------------------------------------------------


def columns_of_every_row() -> str:
    return repr(list(Notification.objects.values()))


@pytest.mark.django_db
def test_the_private_link_key_is_in_the_email_and_in_no_row_once_sent():
    result = complaint_submitted(reporter_email="warga@example.id", reporter_name="Warga")
    key = result.access_key
    (receipt,) = Notification.objects.filter(complaint=result.complaint)
    assert receipt.secret == key
    assert key not in receipt.body

    assert notifications_deliver(ids=[receipt.pk]).sent == 1

    (message,) = mail.outbox
    assert f"{result.complaint.get_absolute_url()}?key={key}" in message.body
    assert Notification.SECRET_PLACEHOLDER not in message.body
    receipt.refresh_from_db()
    assert receipt.status == SENT
    assert receipt.secret == ""
    assert key not in columns_of_every_row()


@pytest.mark.django_db
def test_the_admin_never_shows_a_waiting_key(admin_client):
    result = complaint_submitted(reporter_email="warga@example.id")
    receipt = Notification.objects.get(complaint=result.complaint)
    assert receipt.secret == result.access_key

    for url in (
        "/admin/notifications/notification/",
        f"/admin/notifications/notification/{receipt.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert result.access_key not in page.content.decode()
    assert receipt.subject in page.content.decode()


@pytest.mark.django_db
def test_the_key_is_dropped_when_the_email_is_given_up(settings):
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    result = complaint_submitted(reporter_email="warga@example.id")
    Notification.objects.filter(complaint=result.complaint).update(attempts=MAX_ATTEMPTS - 1)

    assert notifications_deliver().failed == 1

    receipt = Notification.objects.get(complaint=result.complaint)
    assert receipt.status == FAILED
    assert result.access_key not in columns_of_every_row()


@pytest.mark.django_db
def test_seeding_the_demo_queues_no_mail(settings, media_root):
    settings.DEBUG = True
    created = demo_complaints_seed(per_region=1)

    assert created > 10
    assert Complaint.objects.exclude(reporter_email="").exists()  # they had addresses
    assert not Notification.objects.exists()

    # Afterwards a real complaint is told of as ever, first in line.
    result = complaint_submitted(reporter_email="baru@example.id")
    assert Notification.objects.filter(complaint=result.complaint).count() == 1
    assert notifications_deliver().sent == 1
    assert [m.to for m in mail.outbox] == [["baru@example.id"]]
