"""Admin: reference-like data is editable; complaints are read-only here.

A complaint changes only through ``complaints.services`` (which writes its events), so the admin
shows complaints, events and breaches without letting anyone edit them.
"""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from lapor.admin import ReadOnlyAdmin

from .models import Complaint, ComplaintEvent, ContactView, DeadlineBreach, NonWorkingDay


@admin.register(NonWorkingDay)
class NonWorkingDayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


EVENT_FIELDS = ("created_at", "kind", "actor_role", "from_status", "to_status", "to_agency", "note")


class EventInline(admin.TabularInline):
    model = ComplaintEvent
    fields = readonly_fields = EVENT_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["tracking_code", "title", "region", "category", "status", "assigned_agency"]
    list_filter = ["status", "region", "category", "classification", "is_confidential"]
    search_fields = ["tracking_code", "title"]
    list_select_related = ["region", "category", "assigned_agency"]
    inlines = [EventInline]
    # The reporter's identity is never shown here, anonim or not: staff see a contact only on
    # the complaint's staff page, by "Show the reporter's contact", which records who and why
    # (``contact_view_record``); the admin has no such record, so it shows none.
    exclude = [
        "access_key_hash",
        "idempotency_key",
        "reporter",
        "reporter_name",
        "reporter_email",
        "reporter_phone",
    ]
    readonly_fields = ["reporter_contact"]

    @admin.display(description=_("reporter's contact"))
    def reporter_contact(self, obj):
        if obj.personal_data_removed_at is not None:
            return _("Removed.")
        return format_html(
            '{} <a href="{}">{}</a>',
            _("Not shown here: staff of the complaint see it on its page, with a recorded reason."),
            obj.get_absolute_url(),
            obj.tracking_code,
        )


@admin.register(DeadlineBreach)
class DeadlineBreachAdmin(ReadOnlyAdmin):
    list_display = ["complaint", "kind", "due_at", "agency", "region", "recorded_at"]
    list_filter = ["kind", "region"]
    list_select_related = ["complaint", "agency", "region"]


@admin.register(ContactView)
class ContactViewAdmin(ReadOnlyAdmin):
    """Who was shown a reporter's contact, and why; never the contact itself."""

    list_display = ["viewed_at", "complaint", "viewer", "viewer_role", "reason"]
    list_filter = ["viewer_role"]
    list_select_related = ["complaint", "viewer"]
