"""The outbox and the Celery tasks: delivery, retries, re-queueing, and a real worker on Redis.

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
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import OperationalError, connection
from django.utils import timezone
from kombu import Queue

from complaints import enforcement
from complaints.enforcement import notifications_requeue
from complaints.models import DeadlineBreach, Notification, NotificationStatus
from complaints.notifications import notification_dispatch, notification_queue
from complaints.tasks import (
    MAX_ATTEMPTS,
    close_expired,
    deliver_notification,
    requeue_notifications,
    sweep_deadlines,
)
from lapor.celery import app
from tests.factories import complaint_new, coordinator

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.mark.parametrize(
    "task", [deliver_notification, sweep_deadlines, close_expired, requeue_notifications]
)
def test_tasks_ack_late_and_have_time_limits(task):
    assert task.acks_late is True
    assert task.soft_time_limit is not None
    assert task.time_limit is not None
    assert 0 < task.soft_time_limit < task.time_limit


@pytest.mark.parametrize("task", [deliver_notification, sweep_deadlines, close_expired])
def test_tasks_retry_database_errors_with_back_off(task):
    assert OperationalError in task.autoretry_for
    assert task.retry_backoff
    assert task.max_retries


def test_tasks_are_registered_and_scheduled():
    for name in (
        "complaints.tasks.deliver_notification",
        "complaints.tasks.sweep_deadlines",
        "complaints.tasks.close_expired",
        "complaints.tasks.requeue_notifications",
    ):
        assert name in app.tasks
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "complaints.tasks.sweep_deadlines",
        "complaints.tasks.close_expired",
        "complaints.tasks.requeue_notifications",
        "awards.tasks.refresh_current_rankings",
    }


# --- delivery ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliver_notification_twice_sends_one_email():
    notification = outbox_row()

    assert deliver_notification(notification.pk) == "sent"
    assert deliver_notification(notification.pk) == "skipped"

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["warga@example.id"]
    assert mail.outbox[0].subject == notification.subject
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1


@pytest.mark.django_db
def test_deliver_unknown_notification_is_skipped():
    assert deliver_notification(987654321) == "skipped"
    assert mail.outbox == []


@pytest.mark.django_db
def test_failing_email_backend_backs_off_then_marks_failed(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    notification = outbox_row()

    before = timezone.now()
    assert deliver_notification(notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 1
    assert "refused" in notification.last_error
    assert before + timedelta(minutes=2) <= notification.next_attempt_at
    assert notification.next_attempt_at <= timezone.now() + timedelta(minutes=2)
    first_retry_at = notification.next_attempt_at

    # The periodic re-queue hands it over again only once its back-off has passed.
    assert notification_ids_requeued(now=first_retry_at - timedelta(seconds=1)) == []
    assert notification_ids_requeued(now=first_retry_at + timedelta(seconds=1)) == [notification.pk]

    assert deliver_notification(notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert notification.next_attempt_at - timezone.now() > timedelta(minutes=3)  # 4 minutes

    for _ in range(MAX_ATTEMPTS - 2):
        assert deliver_notification(notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.attempts == MAX_ATTEMPTS
    assert notification.status == NotificationStatus.FAILED
    assert deliver_notification(notification.pk) == "skipped"
    assert notification_ids_requeued(now=timezone.now() + timedelta(days=30)) == []


def notification_ids_requeued(*, now) -> list[int]:
    handed: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            enforcement, "notification_dispatch", lambda pk, **_: handed.append(pk) or True
        )
        notifications_requeue(now=now)
    return handed


@pytest.mark.django_db
def test_requeue_hands_over_only_rows_left_pending():
    fresh = outbox_row("test:fresh")
    sent = outbox_row("test:sent")
    failed = outbox_row("test:failed")
    backing_off = outbox_row("test:backing-off")
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT)
    Notification.objects.filter(pk=failed.pk).update(status=NotificationStatus.FAILED)
    Notification.objects.filter(pk=backing_off.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=30)
    )

    # A row just written is still on its way to the broker: not re-sent yet.
    assert notification_ids_requeued(now=timezone.now()) == []
    assert notification_ids_requeued(now=timezone.now() + timedelta(minutes=3)) == [fresh.pk]
    assert sorted(notification_ids_requeued(now=timezone.now() + timedelta(hours=1))) == sorted(
        [fresh.pk, backing_off.pk]
    )


@pytest.mark.django_db
def test_requeue_stops_while_the_broker_is_down(monkeypatch):
    for i in range(3):
        outbox_row(f"test:{i}")
    calls: list[int] = []

    def broker_down(pk: int, **_options) -> bool:
        calls.append(pk)
        return False

    monkeypatch.setattr(enforcement, "notification_dispatch", broker_down)
    assert notifications_requeue(now=timezone.now() + timedelta(minutes=3)) == 0
    assert len(calls) == 1
    assert Notification.objects.filter(status=NotificationStatus.PENDING).count() == 3


# --- a real worker on the real broker ------------------------------------------------------------

WORKER_BOOT = """
import sys

from lapor.celery import app

queue = sys.argv[1]
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
    # This process queues deliveries (after commit) on the worker's queue as well.
    delivery = app.tasks["complaints.tasks.deliver_notification"]
    monkeypatch.setattr(delivery, "queue", queue, raising=False)
    monkeypatch.setattr(delivery, "_exec_options", None)

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
        with caplog.at_level(logging.WARNING, logger="complaints.notifications"):
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

    # The broker is back: the periodic re-queue hands the notification over.
    assert notifications_requeue(now=timezone.now() + timedelta(minutes=3)) == 1
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

    # Nothing is sent twice: the next re-queue finds nothing, and a stray duplicate message
    # for the same row is skipped by the worker.
    assert notifications_requeue(now=timezone.now() + timedelta(minutes=3)) == 0
    assert notification_dispatch(notification.pk) is True
    wait_for(
        lambda: "'skipped'" in celery_worker.output,
        worker=celery_worker,
        what="the duplicate delivery to be skipped",
    )
    assert len(celery_worker.emails()) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


@pytest.mark.django_db
def test_after_a_broker_failure_requests_do_not_wait_for_it_again(monkeypatch):
    """A dead broker costs one connection timeout per half minute, not one per request."""
    row = outbox_row("test:breaker")
    attempts: list[int] = []

    def refused(*args, **kwargs):
        attempts.append(1)
        raise ConnectionRefusedError("broker down")

    delivery = app.tasks["complaints.tasks.deliver_notification"]
    monkeypatch.setattr(delivery, "apply_async", refused)
    assert notification_dispatch(row.pk) is False
    assert notification_dispatch(row.pk) is False
    assert len(attempts) == 1  # the second one did not even try
    assert notification_dispatch(row.pk, force=True) is False  # the requeue task still tries
    assert len(attempts) == 2
    monkeypatch.setattr(delivery, "apply_async", lambda *a, **k: None)
    assert notification_dispatch(row.pk, force=True) is True  # the broker is back
    assert notification_dispatch(row.pk) is True
