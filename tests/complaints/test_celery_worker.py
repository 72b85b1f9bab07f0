"""The outbox and the Celery tasks: delivery, retries, recovery, and a real worker on the broker.

The worker tests start ``celery worker`` as a subprocess against the real broker and the test
database, on a queue of their own (so that they neither take nor leave messages of anyone else
using the same Redis), and read the emails it writes through Django's file email backend.
"""

import email
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import OperationalError, connection
from django.db.models import Count
from django.utils import timezone
from kombu import Queue

from complaints.models import DeadlineBreach
from complaints.tasks import close_expired, sweep_deadlines
from lapor.celery import app
from notifications import services as notifications
from notifications.models import Notification, NotificationStatus
from notifications.services import (
    MAX_ATTEMPTS,
    notification_dispatch,
    notification_queue,
    notifications_deliver,
    notifications_release_stale,
)
from notifications.tasks import deliver_notifications, deliver_pending_notifications
from tests.factories import complaint_new, coordinator

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"
TASKS = [deliver_notifications, deliver_pending_notifications, sweep_deadlines, close_expired]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def broker_breaker_closed():
    notifications.notifications_breaker_reset()
    yield
    notifications.notifications_breaker_reset()


class FailingBackend(BaseEmailBackend):
    """An SMTP server that cannot be reached."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("[Errno 111] SMTP server refused the connection")


def outbox_row(key: str = "test:1", recipient: str = "warga@example.id") -> Notification:
    notification = notification_queue(
        dedupe_key=key,
        recipient=recipient,
        template="digest",
        context={"kind": "breach_agency", "rows": [], "count": 0},
    )
    assert notification is not None
    return notification


# --- task options --------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_tasks_ack_late_and_have_time_limits(task):
    assert task.acks_late is True
    assert task.soft_time_limit is not None
    assert task.time_limit is not None
    assert 0 < task.soft_time_limit < task.time_limit


@pytest.mark.parametrize("task", TASKS)
def test_tasks_retry_database_errors_with_back_off(task):
    assert OperationalError in task.autoretry_for
    assert task.retry_backoff
    assert task.max_retries


def test_tasks_are_registered_and_scheduled():
    # What a worker does at start: import every app's tasks module (autodiscovery), so this
    # test does not depend on which tests imported a tasks module before it.
    app.loader.import_default_modules()
    for name in (
        notifications.DELIVERY_TASK,
        "notifications.tasks.deliver_pending_notifications",
        "complaints.tasks.sweep_deadlines",
        "complaints.tasks.close_expired",
        "complaints.tasks.fold_tallies",
        "complaints.tasks.anonymise_due",
        "complaints.tasks.send_area_digests",
        "notifications.tasks.prune_notifications",
        "accounts.tasks.prune_signin_records",
    ):
        assert name in app.tasks
    schedule = django_settings.CELERY_BEAT_SCHEDULE.values()
    assert {entry["task"] for entry in schedule} == {
        "complaints.tasks.sweep_deadlines",
        "complaints.tasks.close_expired",
        "complaints.tasks.fold_tallies",
        "notifications.tasks.deliver_pending_notifications",
        "awards.tasks.refresh_current_rankings",
        "complaints.tasks.send_area_digests",
        # Retention (docs/privacy.md): personal data, outbox rows, sign-in records.
        "complaints.tasks.anonymise_due",
        "notifications.tasks.prune_notifications",
        "accounts.tasks.prune_signin_records",
    }
    # Mail left pending (broker down) is picked up well within the 30 s recovery target.
    (delivery,) = [e for e in schedule if e["task"].endswith("deliver_pending_notifications")]
    assert delivery["schedule"] <= 15
    # ... and a worker that lost the broker tries it again every few seconds, for ever.
    assert app.conf.worker_consumer == "lapor.celery:QuickReconnectConsumer"
    assert app.conf.broker_connection_max_retries is None


# --- delivery ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delivering_a_row_twice_sends_one_email():
    notification = outbox_row()

    assert deliver_notifications(ids=[notification.pk])["sent"] == 1
    assert deliver_notifications(ids=[notification.pk])["sent"] == 0

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["warga@example.id"]
    assert mail.outbox[0].subject == notification.subject
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.claim == ""


@pytest.mark.django_db
def test_delivering_an_unknown_notification_sends_nothing():
    assert deliver_notifications(ids=[987654321]) == {
        "sent": 0,
        "failed": 0,
        "released": 0,
        "stale": 0,
        "more": False,
    }
    assert mail.outbox == []


@pytest.mark.django_db
def test_failing_email_backend_backs_off_then_marks_failed(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    notification = outbox_row()

    before = timezone.now()
    assert notifications_deliver(ids=[notification.pk]).failed == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 1
    assert "refused" in notification.last_error
    assert before + timedelta(minutes=2) <= notification.next_attempt_at
    assert notification.next_attempt_at <= timezone.now() + timedelta(minutes=2)
    first_retry_at = notification.next_attempt_at

    # Beat's delivery round tries it again only once its back-off has passed.
    with time_machine.travel(first_retry_at - timedelta(seconds=1), tick=False):
        assert notifications_deliver(sweep=True).failed == 0
    with time_machine.travel(first_retry_at + timedelta(seconds=1), tick=False):
        assert notifications_deliver(sweep=True).failed == 1
        notification.refresh_from_db()
        assert notification.attempts == 2
        assert notification.next_attempt_at - timezone.now() > timedelta(minutes=3)  # 4 min

    for attempt in range(3, MAX_ATTEMPTS + 1):
        with time_machine.travel(timezone.now() + timedelta(days=attempt), tick=False):
            assert notifications_deliver(sweep=True).failed == 1
    notification.refresh_from_db()
    assert notification.attempts == MAX_ATTEMPTS
    assert notification.status == NotificationStatus.FAILED
    with time_machine.travel(timezone.now() + timedelta(days=60), tick=False):
        assert notifications_deliver(sweep=True).failed == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_delivery_round_takes_only_rows_pending_and_due():
    fresh = outbox_row("test:fresh", "fresh@example.id")
    sent = outbox_row("test:sent", "sent@example.id")
    failed = outbox_row("test:failed", "failed@example.id")
    backing_off = outbox_row("test:backing-off", "later@example.id")
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT)
    Notification.objects.filter(pk=failed.pk).update(status=NotificationStatus.FAILED)
    Notification.objects.filter(pk=backing_off.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=30)
    )

    # A row just written goes at once: no waiting for it to grow old.
    assert notifications_deliver(sweep=True).sent == 1
    assert [m.to for m in mail.outbox] == [["fresh@example.id"]]
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        assert notifications_deliver(sweep=True).sent == 1
    assert [m.to for m in mail.outbox] == [["fresh@example.id"], ["later@example.id"]]
    assert set(Notification.objects.values_list("pk", "status")) == {
        (fresh.pk, NotificationStatus.SENT),
        (sent.pk, NotificationStatus.SENT),
        (failed.pk, NotificationStatus.FAILED),
        (backing_off.pk, NotificationStatus.SENT),
    }


@pytest.mark.django_db
def test_after_a_broker_failure_requests_do_not_wait_for_it_again(monkeypatch):
    """A dead broker costs one connection timeout per process and breaker window, not one per
    request; the rows stay pending for beat's delivery round."""
    row = outbox_row("test:breaker")
    attempts: list[int] = []

    def refused(*args, **kwargs):
        attempts.append(1)
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", refused)
    assert notification_dispatch(row.pk) is False
    assert notification_dispatch(row.pk) is False
    assert len(attempts) == 1  # the second one did not even try
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING

    sent: list[tuple] = []
    monkeypatch.setattr(app, "send_task", lambda name, **kw: sent.append((name, kw)))
    monkeypatch.setattr(notifications, "_broker_down_until", time.monotonic() - 1)  # window over
    assert notification_dispatch(row.pk) is True
    assert notification_dispatch(row.pk) is True
    assert (
        sent == [(notifications.DELIVERY_TASK, {"kwargs": {"ids": [row.pk]}, "retry": False})] * 2
    )


# --- a real worker on the real broker ------------------------------------------------------------

WORKER_BOOT = """
import sys

import os

from django.conf import settings

from lapor.celery import app

queue = sys.argv[1]
if os.environ.get("LAPOR_TEST_EMAIL_BACKEND"):
    settings.EMAIL_BACKEND = os.environ["LAPOR_TEST_EMAIL_BACKEND"]
# What this worker queues itself (the deliveries a sweep writes) goes to the test's queue too.
app.conf.update(task_default_queue=queue)
app.worker_main([
    "worker", "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat",
    "--without-gossip", "--without-mingle", "-Q", queue, "-n", queue + "@%h",
])
"""


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def reset_broker_connections() -> None:
    """Forget the app's broker pools, so that the next publish uses the current URL.

    The pools themselves are kombu's, shared per URL: closing them would break later publishes.
    """
    app._pool = None
    app.amqp._producer_pool = None


class Worker:
    def __init__(self, queue: str, mail_dir: Path):
        self.queue = queue
        self.mail_dir = mail_dir
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process: subprocess.Popen | None = None

    def read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def emails(self) -> list[email.message.Message]:
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")) if self.mail_dir.exists() else []:
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk))
        return messages


def body_of(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def wait_for(condition, *, timeout: float = 60, worker: Worker | None = None, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.process.poll() is not None:
            break
        time.sleep(0.2)
    output = worker.output[-4000:] if worker is not None else ""
    pytest.fail(f"timed out waiting for {what}; worker output:\n{output}")


@pytest.fixture
def celery_worker(tmp_path, monkeypatch):
    """A ``celery worker`` subprocess on a queue of its own, using the test database."""
    queue = f"lapor-test-{uuid.uuid4().hex[:12]}"
    worker = Worker(queue, tmp_path / "mail")
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DATABASE_URL=database_url(),
        DEBUG="1",
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        # The embedded file-system broker: the worker shares this process's broker folder.
        LAPOR_BROKER_DIR=str(django_settings.BROKER_DIR),
        EMAIL_URL=f"filemail://{worker.mail_dir}",
        LAPOR_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="lapor.settings",
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    # This process queues deliveries (after commit, by task name) on the worker's queue too.
    monkeypatch.setitem(app.conf, "task_default_queue", queue)

    worker.process = subprocess.Popen(
        [sys.executable, "-c", WORKER_BOOT, queue],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = threading.Thread(target=worker.read, daemon=True)
    reader.start()
    try:
        if not worker.ready.wait(timeout=45):
            pytest.fail(f"the Celery worker did not start:\n{worker.output[-4000:]}")
        yield worker
    finally:
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=10)
        reader.join(timeout=5)
        reset_broker_connections()
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            Queue(queue).bind(channel).purge()
            if hasattr(channel, "client"):  # Redis: also the exchange kombu made, its bindings
                channel.client.delete(
                    queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
                )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_sweep_and_delivers_the_coordinators_email(celery_worker):
    koordinator = coordinator("63.72", username="koord.bjb", email="koord.bjb@example.id")
    # Assigned four days ago: the three-day follow-up deadline passed yesterday.
    complaint = complaint_new(now=timezone.now() - timedelta(days=4))
    assert complaint.follow_up_due_at < timezone.now()

    sweep_deadlines.apply_async(queue=celery_worker.queue)

    def delivered() -> bool:
        return (
            DeadlineBreach.objects.filter(complaint=complaint).exists()
            and Notification.objects.filter(
                recipient=koordinator.email, status=NotificationStatus.SENT
            ).exists()
            and bool(celery_worker.emails())
        )

    wait_for(delivered, worker=celery_worker, what="the breach and the coordinator's email")
    messages = [m for m in celery_worker.emails() if m["To"] == koordinator.email]
    assert len(messages) == 1
    assert complaint.tracking_code in body_of(messages[0])
    notification = Notification.objects.get(recipient=koordinator.email)
    assert notification.subject == str(messages[0]["Subject"])
    assert notification.sent_at is not None
    assert DeadlineBreach.objects.filter(complaint=complaint).count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_change_is_saved_while_the_broker_is_down_and_mailed_once_it_is_back(
    celery_worker, monkeypatch, caplog
):
    with monkeypatch.context() as broker_down:
        # The environment variable wins over Celery's configuration; pooled connections
        # to the good broker are dropped so that the publish really meets a closed port.
        broker_down.setenv("CELERY_BROKER_URL", UNREACHABLE_BROKER)
        broker_down.setitem(app.conf, "broker_connection_timeout", 1)
        reset_broker_connections()
        assert app.connection_for_write().as_uri().endswith("127.0.0.1:1/0")
        with caplog.at_level(logging.WARNING, logger="notifications.services"):
            complaint = complaint_new(now=timezone.now(), reporter_email="warga@example.id")
    reset_broker_connections()
    assert app.connection_for_write().as_uri() != UNREACHABLE_BROKER

    # The complaint is committed and its notification waits in the outbox.
    assert not connection.in_atomic_block
    notification = Notification.objects.get(complaint=complaint)
    assert notification.recipient == "warga@example.id"
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 0
    assert "broker unavailable" in caplog.text
    assert celery_worker.emails() == []

    # The broker is back: beat's delivery round sends it.
    deliver_pending_notifications.apply_async(queue=celery_worker.queue)
    wait_for(
        lambda: (
            Notification.objects.get(pk=notification.pk).status == NotificationStatus.SENT
            and celery_worker.emails()
        ),
        worker=celery_worker,
        what="the notification to be delivered",
    )
    messages = celery_worker.emails()
    assert len(messages) == 1
    assert messages[0]["To"] == "warga@example.id"
    assert complaint.tracking_code in body_of(messages[0]) + str(messages[0]["Subject"])

    # Nothing is sent twice: a stray second delivery for the same row sends nothing.
    notifications.notifications_breaker_reset()
    assert notification_dispatch(notification.pk) is True
    wait_for(
        lambda: "'sent': 0" in celery_worker.output,
        worker=celery_worker,
        what="the duplicate delivery to send nothing",
    )
    assert len(celery_worker.emails()) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


@pytest.fixture
def slow_mail(monkeypatch):
    """The worker's mail server takes 10 ms a message (set before ``celery_worker`` starts)."""
    monkeypatch.setenv("LAPOR_TEST_EMAIL_BACKEND", "tests.notifications.slow_mail.SlowFileBackend")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_batch_sends_no_email_twice(slow_mail, celery_worker):
    total = 300
    Notification.objects.bulk_create(
        Notification(dedupe_key=f"kill:{i}", recipient=f"k{i}@example.id", subject="S", body="B")
        for i in range(total)
    )
    assert notifications.notifications_dispatch() is True

    def sent() -> int:
        return Notification.objects.filter(status=NotificationStatus.SENT).count()

    wait_for(lambda: sent() >= 40, worker=celery_worker, what="the first emails of the batch")
    celery_worker.process.send_signal(signal.SIGKILL)
    celery_worker.process.wait(timeout=10)
    counts = dict(
        Notification.objects.values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    claimed = counts.get(NotificationStatus.SENDING, 0)
    assert claimed > 0, counts  # killed in the middle of a batch

    # Beat's next round sends what was never claimed, and leaves the dead claim alone...
    result = notifications_deliver(sweep=True)
    assert result.sent == counts.get(NotificationStatus.PENDING, 0)
    assert Notification.objects.filter(status=NotificationStatus.SENDING).count() == claimed
    # ... until it is old enough to be the claim of a dead worker: of its rows the first may
    # have been sent (it is given up), the others were not (they go now).
    assert notifications_release_stale(now=timezone.now() + timedelta(minutes=11)) == claimed
    assert notifications_deliver().sent == claimed - 1

    interrupted = Notification.objects.filter(status=NotificationStatus.FAILED)
    assert interrupted.count() == 1
    assert interrupted.get().last_error == notifications.INTERRUPTED
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == total - 1

    received = [str(m["To"]) for m in celery_worker.emails()] + [m.to[0] for m in mail.outbox]
    assert len(received) == len(set(received))  # nobody got anything twice
    sent_to = set(
        Notification.objects.filter(status=NotificationStatus.SENT).values_list(
            "recipient", flat=True
        )
    )
    assert sent_to <= set(received)
    assert set(received) - sent_to <= {interrupted.get().recipient}
