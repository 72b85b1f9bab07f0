"""Providers that carry short messages (SMS, WhatsApp): one small interface, two kinds.

- ``FakeProvider`` appends each message as one JSON line to ``LAPOR_MESSAGE_DIR/<channel>.jsonl``
  (the embedded default, the demo and the tests).
- ``HttpProvider`` sends each message to a gateway's URL, as local SMS gateways take it: an
  optional header for the credentials and a payload template whose ``$to``, ``$text`` and
  ``$channel`` are filled in, escaped for the content type (JSON or a form).

A provider raises ``ProviderError`` when a message was not accepted; the outbox then tries the
row again later (docs/notifications.md). Settings: ``LAPOR_MESSAGING`` (docs/channels.md).
"""

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from string import Template
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ProviderError(Exception):
    """The provider did not accept the message (it may be tried again later)."""


class Provider(Protocol):
    channel: str

    def send(self, *, to: str, text: str) -> None:
        """Hand one message over, or raise ``ProviderError``."""


class FakeProvider:
    """Writes messages under ``var/messages/`` instead of sending them."""

    _lock = threading.Lock()

    def __init__(self, channel: str, folder: Path | None = None):
        self.channel = channel
        self.folder = Path(folder or settings.LAPOR_MESSAGE_DIR)

    @property
    def path(self) -> Path:
        return self.folder / f"{self.channel}.jsonl"

    def send(self, *, to: str, text: str) -> None:
        line = json.dumps({"channel": self.channel, "to": to, "text": text}, ensure_ascii=False)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise ProviderError(f"cannot write {self.path.name}: {exc}") from exc

    def sent(self) -> list[dict]:
        """Every message written so far (tests, the demo)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


FORM = "application/x-www-form-urlencoded"


class HttpProvider:
    """POSTs each message to a gateway; any answer but 2xx is a refusal."""

    def __init__(
        self,
        channel: str,
        *,
        url: str,
        payload: str,
        auth_header: str = "",
        content_type: str = "application/json",
        timeout: int = 10,
    ):
        if not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"LAPOR_{channel.upper()}_HTTP_URL must be an http(s) URL")
        self.channel = channel
        self.url = url
        self.template = Template(payload)
        self.content_type = content_type
        self.timeout = timeout
        self.headers = {"Content-Type": content_type}
        if auth_header:
            name, _, value = auth_header.partition(":")
            self.headers[name.strip()] = value.strip()

    def body(self, *, to: str, text: str) -> bytes:
        values = {"to": to, "text": text, "channel": self.channel}
        if self.content_type.startswith(FORM):
            escaped = {k: urllib.parse.quote_plus(v) for k, v in values.items()}
        else:  # JSON: the value goes inside the template's quotes
            escaped = {k: json.dumps(v, ensure_ascii=False)[1:-1] for k, v in values.items()}
        return self.template.safe_substitute(escaped).encode()

    def send(self, *, to: str, text: str) -> None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url, data=self.body(to=to, text=text), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                answer.read(4096)
        except urllib.error.HTTPError as exc:
            raise ProviderError(f"the gateway answered {exc.code}") from exc
        except (OSError, ValueError) as exc:  # refused, timed out, unreachable
            raise ProviderError(f"the gateway cannot be reached: {exc}") from exc


def provider_for(channel: str) -> Provider:
    """The configured provider of ``channel`` ("sms" or "whatsapp")."""
    config = settings.LAPOR_MESSAGING.get(channel)
    if config is None:
        raise ImproperlyConfigured(f"no messaging channel {channel!r}")
    kind = config["provider"]
    if kind == "fake":
        return FakeProvider(channel)
    if kind == "http":
        return HttpProvider(
            channel,
            url=config["url"],
            payload=config["payload"],
            auth_header=config["auth_header"],
            content_type=config["content_type"],
            timeout=config["timeout"],
        )
    raise ImproperlyConfigured(f"LAPOR_{channel.upper()}_PROVIDER must be 'fake' or 'http'")
