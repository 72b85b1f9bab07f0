"""The outbox: one row per message to send, written in the same transaction as its cause."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class MessageChannel(models.TextChoices):
    """How a row is delivered: an email, or a short message through the channel's provider."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Notification(models.Model):
    """Outbox row, written in the same transaction as the change it tells about.

    Delivery claims rows (``pending`` → ``sending``, with a claim token), sends them outside any
    transaction and records each result at once; see docs/notifications.md. A secret the email
    must carry (a guest's private-link key) is kept in ``secret`` only until the row is sent or
    given up: the body holds ``SECRET_PLACEHOLDER`` in its place.
    """

    SECRET_PLACEHOLDER = "[private-key]"  # noqa: S105 - a marker, not a secret

    dedupe_key = models.CharField(max_length=120, unique=True)
    complaint = models.ForeignKey(
        "complaints.Complaint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    channel = models.CharField(
        max_length=8, choices=MessageChannel.choices, default=MessageChannel.EMAIL
    )
    # An email address, or a phone number in international form (+62...) for SMS and WhatsApp.
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    secret = models.CharField(max_length=200, blank=True)
    # Mail to followers: where one click ends it (List-Unsubscribe, RFC 8058).
    unsubscribe_url = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_pending_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="notification_sending_idx",
                condition=Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.status})"
