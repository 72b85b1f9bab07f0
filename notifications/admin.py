"""The outbox in the admin, read-only: whether mail goes out, never what it says."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lapor.admin import ReadOnlyAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox, for operators: whether mail goes out. The body is not shown (it may carry a
    private link's key or a confirmation token), nor a reporter's address: staff see a
    reporter's contact only by asking on the complaint's page, with a recorded reason; nor a
    follower's (mail with an unsubscribe link)."""

    list_display = ["created_at", "shown_recipient", "subject", "status", "attempts", "last_error"]
    list_filter = ["status"]
    search_fields = ["subject"]
    list_select_related = ["complaint", "complaint__reporter"]
    # "secret" is a guest's private-link key, kept only until the email is sent.
    # "unsubscribe_url" ends a follower's emails in one click.
    exclude = ["body", "recipient", "secret", "claim", "unsubscribe_url"]
    readonly_fields = ["shown_recipient"]

    @admin.display(description=_("recipient"))
    def shown_recipient(self, obj):
        if obj.unsubscribe_url:
            return _("hidden: a follower's address")
        complaint = obj.complaint
        if complaint is not None:
            reporter_addresses = {
                (complaint.reporter_email or "").lower(),
                (complaint.reporter.email if complaint.reporter else "").lower(),
            }
            if obj.recipient.lower() in reporter_addresses:
                return _("hidden: the reporter's address")
        return obj.recipient
