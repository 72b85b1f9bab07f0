"""The IMAP poll: off by default; with a mailbox configured, unseen messages go through the same
parser, taken or refused ones are marked seen. A small IMAP4rev1 server on a local port stands
in for the mail server (the commands ``imaplib`` sends for this task, nothing more)."""

import re
import socketserver
import threading
from email.message import EmailMessage

import pytest
from django.conf import settings as django_settings

from api.tasks import poll_inbound_mail
from complaints.models import Channel, Complaint

pytestmark = pytest.mark.django_db(transaction=True)


class Mailbox:
    def __init__(self, messages: list[bytes]):
        self.messages = dict(enumerate(messages, start=1))
        self.seen: set[int] = set()
        self.logins: list[tuple[str, str]] = []


class ImapHandler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        self.send(b"* OK IMAP4rev1 ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _space, rest = line.strip().partition(b" ")
            command = rest.upper()
            box = self.mailbox
            if command.startswith(b"CAPABILITY"):
                self.send(b"* CAPABILITY IMAP4rev1")
            elif command.startswith(b"LOGIN"):
                user, password = rest.split(b" ")[1:3]
                box.logins.append((user.decode().strip('"'), password.decode().strip('"')))
            elif command.startswith(b"SELECT"):
                self.send(b"* %d EXISTS" % len(box.messages))
            elif command.startswith(b"UID SEARCH"):
                unseen = [uid for uid in box.messages if uid not in box.seen]
                self.send(b"* SEARCH " + b" ".join(b"%d" % uid for uid in unseen))
            elif command.startswith(b"UID FETCH"):
                uid = int(rest.split(b" ")[2])
                raw = box.messages[uid]
                self.send(b"* %d FETCH (UID %d BODY[] {%d}" % (uid, uid, len(raw)))
                self.wfile.write(raw)
                self.send(b")")
            elif command.startswith(b"UID STORE"):
                uid = int(rest.split(b" ")[2])
                if re.search(rb"\\Seen", rest):
                    box.seen.add(uid)
            elif command.startswith(b"LOGOUT"):
                self.send(b"* BYE")
                self.send(tag + b" OK LOGOUT done")
                return
            self.send(tag + b" OK done")


@pytest.fixture
def imap_server(settings, media_root):
    good = EmailMessage()
    good["From"] = "Rahmat <rahmat@example.id>"
    good["Subject"] = "Sampah menumpuk di pasar"
    good["Message-ID"] = "<imap-1@example.id>"
    good.set_content("Kota: Banjarbaru\nAlamat: Pasar Bauntung\n\nSampah tidak diangkut.")
    refused = b"Subject: no sender\r\n\r\nisi"
    mailbox = Mailbox([good.as_bytes(), refused])
    handler = type("Handler", (ImapHandler,), {"mailbox": mailbox})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.INBOUND_MAIL_IMAP_HOST = "127.0.0.1"
    settings.INBOUND_MAIL_IMAP_PORT = server.server_address[1]
    settings.INBOUND_MAIL_IMAP_SSL = False
    settings.INBOUND_MAIL_IMAP_USER = "lapor"
    settings.INBOUND_MAIL_IMAP_PASSWORD = "kata-sandi"  # noqa: S105
    yield mailbox
    server.shutdown()
    server.server_close()


def test_the_poll_is_off_by_default():
    assert "poll-inbound-mail" not in django_settings.CELERY_BEAT_SCHEDULE
    assert poll_inbound_mail.apply().get() == {"taken": 0, "refused": 0}


def test_unseen_mail_becomes_complaints_and_is_marked_seen(imap_server):
    assert poll_inbound_mail.apply().get() == {"taken": 1, "refused": 1}
    assert imap_server.logins == [("lapor", "kata-sandi")]
    assert imap_server.seen == {1, 2}
    complaint = Complaint.objects.get()
    assert complaint.channel == Channel.EMAIL
    assert complaint.reporter_email == "rahmat@example.id"
    assert complaint.status == "triage"
    # The next round finds nothing new.
    assert poll_inbound_mail.apply().get() == {"taken": 0, "refused": 0}
