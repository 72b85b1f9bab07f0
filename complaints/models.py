from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Category, Region
from notifications.models import MessageChannel

from .contact import PHONE_MAX_LENGTH
from .querysets import ComplaintQuerySet
from .workflow import OPEN_STATUSES, Action, ArchiveReason, ComplaintStatus, Role

# Kalimantan Selatan's bounding box, a little generous at the edges (degrees).
KALSEL_LAT = (Decimal("-4.95"), Decimal("-1.30"))
KALSEL_LON = (Decimal("114.15"), Decimal("116.70"))


class Classification(models.TextChoices):
    PENGADUAN = "pengaduan", _("Complaint")
    ASPIRASI = "aspirasi", _("Aspiration")
    PERMINTAAN_INFORMASI = "permintaan_informasi", _("Information request")


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311 app")
    SOCIAL_MEDIA = "social_media", _("Social media")
    ONLINE_MEDIA = "online_media", _("Online media")
    PRINT_MEDIA = "print_media", _("Print media")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Walk-in")
    EMAIL = "email", _("Email")


# Channels through which staff enter a complaint on a citizen's behalf (manual intake).
STAFF_CHANNELS = (
    Channel.SOCIAL_MEDIA,
    Channel.ONLINE_MEDIA,
    Channel.PRINT_MEDIA,
    Channel.SMS,
    Channel.PHONE,
    Channel.WALK_IN,
)
# Of those, the ones whose source is a link, and the one whose source is a publication.
LINK_CHANNELS = (Channel.SOCIAL_MEDIA, Channel.ONLINE_MEDIA)


# The columns of the staff queue's order (``URGENCY``: overdue, next clock, newest, id), carried
# by the work-set indexes below.
QUEUE_KEY_COLUMNS = ["follow_up_due_at", "triage_due_at", "completion_due_at", "created_at", "id"]


class Complaint(models.Model):
    # Unique; on PostgreSQL without Django's second ("_like", for LIKE 'prefix%') index, which
    # no query uses (migration 0013 drops it).
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    classification = models.CharField(
        _("classification"), max_length=24, choices=Classification.choices
    )
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"), max_length=5000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name=_("category"))
    # The foreign keys below are indexed by the composite indexes in Meta; a second, plain index
    # would only make every write slower (auto-close updates thousands of rows at once).
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("regency/city"),
        db_index=False,
    )
    district = models.CharField(_("district (kecamatan)"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=255)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    incident_date = models.DateField(_("incident date"))
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB
    )
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    is_confidential = models.BooleanField(_("confidential"), default=False)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("reporter account"),
        db_index=False,
    )
    reporter_name = models.CharField(_("reporter name"), max_length=100, blank=True)
    reporter_email = models.EmailField(_("reporter email"), blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=PHONE_MAX_LENGTH, blank=True)
    # How the reporter wants to hear from us (email, SMS, WhatsApp); blank: by the contact they
    # left (notifications.messaging.reporter_contact).
    notify_by = models.CharField(
        _("notify by"), max_length=8, choices=MessageChannel.choices, blank=True
    )
    # SHA-256 of the private link's secret; the secret itself is only ever shown to the reporter.
    access_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Unique where set (complaint_idempotency_key_once), indexed where set: most complaints have
    # none, and an index entry for every row would cost every write of a complaint.
    idempotency_key = models.UUIDField(null=True, blank=True, editable=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
        db_index=False,  # complaint_entered_by_idx, where set
    )
    # Where staff found a complaint they entered by hand (channels other than web, API, Open311).
    source_url = models.URLField(_("source link"), max_length=500, blank=True)
    source_name = models.CharField(_("publication"), max_length=150, blank=True)
    source_date = models.DateField(_("publication date"), null=True, blank=True)
    raised_on = models.DateField(_("raised by the citizen on"), null=True, blank=True)
    # The number SP4N-LAPOR! gave the complaint, beside Lapor's tracking code (docs/sp4n-lapor.md);
    # set by ``complaints.services.complaint_national_number_set`` only.
    national_number = models.CharField(
        _("SP4N-LAPOR! number"), max_length=32, blank=True, editable=False
    )

    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.SUBMITTED,
    )
    assigned_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("agency"),
        db_index=False,
    )
    # The clocks of the current assignment (or triage), copied here for indexed sweeps.
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    follow_up_due_at = models.DateTimeField(_("follow-up due"), null=True, blank=True)
    completion_due_at = models.DateTimeField(_("completion target"), null=True, blank=True)
    first_follow_up_at = models.DateTimeField(_("first follow-up at"), null=True, blank=True)
    triage_due_at = models.DateTimeField(_("verification due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    reply_due_at = models.DateTimeField(_("reply window ends"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    archive_reason = models.CharField(
        _("archive reason"), max_length=16, choices=ArchiveReason.choices, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
        db_index=False,  # complaint_duplicate_of_idx, where set
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    rating_comment = models.TextField(_("rating comment"), max_length=2000, blank=True)
    # How many people said "me too" (``Support`` rows); kept by ``complaint_support`` so lists,
    # the map and the staff queue read and sort it without counting.
    supporter_count = models.PositiveIntegerField(_("supporters"), default=0)

    # When the reporter's name, email, phone and links were removed (retention or erasure).
    personal_data_removed_at = models.DateTimeField(
        _("personal data removed at"), null=True, blank=True, editable=False
    )
    # When the reporter stopped this complaint's status messages (the one-click link in them);
    # empty: they get them. Written by ``complaints.services.complaint_reporter_updates_set``.
    reporter_updates_stopped_at = models.DateTimeField(
        _("reporter's status messages stopped at"), null=True, blank=True, editable=False
    )

    # Indexed with id by complaint_created_idx: the lists' keyset order and the year ranges.
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="complaint_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__gte=KALSEL_LAT[0],
                    latitude__lte=KALSEL_LAT[1],
                    longitude__gte=KALSEL_LON[0],
                    longitude__lte=KALSEL_LON[1],
                ),
                name="complaint_point_in_kalsel",
            ),
            # One complaint per SP4N-LAPOR! number: the import finds complaints by it.
            models.UniqueConstraint(
                fields=["national_number"],
                condition=~Q(national_number=""),
                name="complaint_national_number_once",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="complaint_idempotency_key_once",
            ),
        ]
        indexes = [
            # "Overdue" on every page, and the deadline sweep's range scans in (due, id) order.
            # The included columns let "overdue now" per region/agency, public or not, be
            # counted from the index alone (PostgreSQL), without visiting the table.
            models.Index(
                fields=["follow_up_due_at", "id"],
                name="complaint_follow_up_due_idx",
                condition=Q(status="assigned"),
                include=["region", "assigned_agency", "is_confidential"],
            ),
            models.Index(
                fields=["completion_due_at", "id"],
                name="complaint_completion_due_idx",
                condition=Q(status__in=["assigned", "in_progress"]),
            ),
            models.Index(
                fields=["triage_due_at", "id"],
                name="complaint_triage_due_idx",
                condition=Q(status="triage"),
                include=["region", "assigned_agency", "is_confidential"],
            ),
            models.Index(
                fields=["reply_due_at"],
                name="complaint_reply_open_idx",
                condition=Q(status="resolved"),
            ),
            models.Index(fields=["assigned_agency", "status"], name="complaint_agency_status_idx"),
            models.Index(fields=["region", "status"], name="complaint_region_status_idx"),
            # The staff queue (open complaints, most urgent first) of an agency or a region: the
            # included columns are every key of its order (``complaints.querysets.URGENCY``), so
            # the pager finds a page's ids from the index alone (an index-only scan) and reads
            # only that page's rows. Open complaints only: the closing of resolved ones (the
            # bulk of the writes by number) never touches them.
            models.Index(
                fields=["assigned_agency", "status"],
                name="complaint_agency_open_idx",
                condition=Q(status__in=[str(status) for status in OPEN_STATUSES]),
                include=QUEUE_KEY_COLUMNS,
            ),
            models.Index(
                fields=["region", "status"],
                name="complaint_region_open_idx",
                condition=Q(status__in=[str(status) for status in OPEN_STATUSES]),
                include=QUEUE_KEY_COLUMNS,
            ),
            models.Index(
                fields=["reporter", "-created_at"],
                name="complaint_reporter_idx",
                condition=Q(reporter__isnull=False),
            ),
            models.Index(fields=["created_at", "id"], name="complaint_created_idx"),
            # The staff queue sorted by date, within an agency or a region.
            models.Index(
                fields=["assigned_agency", "-created_at", "-id"], name="complaint_agency_date_idx"
            ),
            models.Index(fields=["region", "-created_at", "-id"], name="complaint_region_date_idx"),
            # The public map and "similar nearby": a bounding box on the pinned, non-rahasia
            # complaints; the included columns let the grid be counted from the index alone.
            models.Index(
                fields=["latitude", "longitude"],
                name="complaint_map_idx",
                condition=Q(is_confidential=False, latitude__isnull=False),
                include=["status", "category", "region", "created_at"],
            ),
            # Who entered a complaint, and its duplicates: only the rows that have one.
            models.Index(
                fields=["entered_by"],
                name="complaint_entered_by_idx",
                condition=Q(entered_by__isnull=False),
            ),
            models.Index(
                fields=["duplicate_of"],
                name="complaint_duplicate_of_idx",
                condition=Q(duplicate_of__isnull=False),
            ),
            # "Was this post entered already?" on manual intake.
            models.Index(
                fields=["source_url"],
                name="complaint_source_url_idx",
                condition=~Q(source_url=""),
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_code

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("complaint-detail", args=[self.tracking_code])

    # The labels of the choices, as Django's ``get_FOO_display`` gives them, but looked up in
    # the enum: Django's own hashes every (lazy, so translated) choice on each call, about a
    # sixth of a 50-row staff queue's rendering. An unknown value shows as it is.
    def _label(self, choices: type[models.TextChoices], value: str) -> str:
        try:
            return str(choices(value).label)
        except ValueError:
            return value

    def get_status_display(self) -> str:  # type: ignore[no-redef]
        return self._label(ComplaintStatus, self.status)

    def get_channel_display(self) -> str:  # type: ignore[no-redef]
        return self._label(Channel, self.channel)

    def get_classification_display(self) -> str:  # type: ignore[no-redef]
        return self._label(Classification, self.classification)

    @property
    def is_public(self) -> bool:
        from .workflow import PUBLIC_STATUSES

        return not self.is_confidential and self.status in PUBLIC_STATUSES


class Assignment(models.Model):
    """One stint of a complaint with one agency; re-routing ends it and starts another."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="assignments")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField()
    follow_up_due_at = models.DateTimeField()
    completion_due_at = models.DateTimeField()
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint"],
                condition=Q(ended_at__isnull=True),
                name="assignment_one_open_per_complaint",
            ),
        ]
        indexes = [models.Index(fields=["agency", "assigned_at"], name="assignment_agency_idx")]

    def __str__(self) -> str:
        return f"{self.complaint_id} → {self.agency_id}"


class Support(models.Model):
    """One person's "me too" (dukung) on a public complaint: by account, or by email address
    kept only as a SHA-256 digest. One per person per complaint; written by
    ``complaints.services.complaint_support``. When the supporter erases their data, or the
    complaint's personal data is removed, ``user`` and ``email_hash`` are blanked and the row
    stays, nobody's, so the count does not change."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    email_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "user"],
                condition=Q(user__isnull=False),
                name="support_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["complaint", "email_hash"],
                condition=~Q(email_hash=""),
                name="support_once_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"support {self.pk} of {self.complaint_id}"


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ROUTED = "routed", _("Routed to agency")
    TRIAGED = "triaged", _("Sent for verification")
    REROUTED = "rerouted", _("Re-routed")
    FOLLOW_UP = "follow_up", _("Follow-up")
    NOT_OURS = "not_ours", _("Not our responsibility")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")
    REPLY = "reply", _("Reporter's reply")
    PRIVACY = "privacy", _("Privacy changed")
    BREACH = "breach", _("Deadline missed")
    ESCALATED = "escalated", _("Escalated")
    REMINDER = "reminder", _("Reminder sent")
    CLAIMED = "claimed", _("Joined to the reporter's account")
    NOTE = "note", _("Internal note")
    ANONYMISED = "anonymised", _("Personal data anonymised")
    NATIONAL = "national", _("SP4N-LAPOR! number recorded")
    REDACTED = "redacted", _("Part of a photo hidden")
    UPDATES = "updates", _("Reporter's status messages stopped or resumed")


class ImmutableError(Exception):
    pass


class EventQuerySet(models.QuerySet):
    """Events are history: bulk updates and deletes are refused like single ones."""

    def update(self, **kwargs):
        raise ImmutableError("Complaint events are never edited.")

    def delete(self):
        raise ImmutableError("Complaint events are never deleted.")

    def personal_data_scrub(self, **fields):
        """The one edit history allows: a reporter's contact removed from ``note``/``data``
        (retention and erasure, ``complaints.services``); nothing else about an event changes."""
        if set(fields) - {"note", "data"}:
            raise ImmutableError("Only an event's note and data lose personal data.")
        return super().update(**fields)


class ComplaintEvent(models.Model):
    """One change to a complaint. Written once, never edited or deleted."""

    # Indexed by event_complaint_idx (complaint, created_at); a plain index would only cost.
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    # The three keys below are indexed where set (Meta): the system's events (closes, breaches,
    # reminders: tens of thousands per sweep) leave most of them empty.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    actor_role = models.CharField(max_length=24, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    from_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    to_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    note = models.TextField(blank=True)
    # Internal events (breaches, escalations, reminders) are shown to staff only.
    is_internal = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["complaint", "created_at"], name="event_complaint_idx"),
            # The ranking's reopen count reads the few reopened complaints, not every event.
            models.Index(
                fields=["complaint"],
                condition=models.Q(kind=EventKind.REOPENED),
                name="event_reopened_idx",
            ),
            *(
                models.Index(
                    fields=[field],
                    condition=models.Q(**{f"{field}__isnull": False}),
                    name=f"event_{field}_idx",
                )
                for field in ("actor", "from_agency", "to_agency")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ImmutableError("Complaint events are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Complaint events are never deleted.")


class Attachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        ComplaintEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    # Stored under a random name; the uploader's own file name is not kept (it may carry a
    # person's name, a date of birth, an ID number), so every attachment is served neutrally.
    # After a redaction (``complaints.services.attachment_redact``) ``file`` is the redacted
    # copy, which is what every page and the API serve.
    file = models.FileField(upload_to="attachments/%Y/%m/")
    # The photo as uploaded, once part of it has been hidden: shown only to the handling
    # agency and provincial staff (``attachment_original_for``), deleted with the reporter's
    # personal data (retention or erasure).
    original = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by_role = models.CharField(max_length=24, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"attachment {self.pk}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def download_name(self) -> str:
        """A neutral file name to save it under, e.g. ``lampiran-42.pdf``."""
        extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(
            self.content_type, ".pdf"
        )
        return f"lampiran-{self.pk}{extension}"


class ContactView(models.Model):
    """A staff member was shown a reporter's contact: who, when, in which capacity and why.

    Written by ``complaints.services.contact_view_record`` only, never edited; listed on the
    complaint's staff page."""

    complaint = models.ForeignKey(
        Complaint,
        on_delete=models.CASCADE,
        related_name="contact_views",
        verbose_name=_("complaint"),
    )
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("seen by"),
    )
    viewer_role = models.CharField(_("as"), max_length=24, choices=Role.choices)
    reason = models.CharField(_("reason"), max_length=200)
    viewed_at = models.DateTimeField(_("seen at"), default=timezone.now)

    class Meta:
        ordering = ["-viewed_at", "-pk"]
        verbose_name = _("view of a reporter's contact")
        verbose_name_plural = _("views of reporters' contact")

    def __str__(self) -> str:
        return f"{self.complaint_id} seen by {self.viewer_id}"


# The staff actions whose note a response template may write.
RESPONSE_ACTIONS = (Action.FOLLOW_UP, Action.RESOLVE, Action.NOT_OURS, Action.REROUTE)


class ResponseTemplate(models.Model):
    """A prepared answer staff pick when following up, resolving or re-routing, then edit.

    Kept by an agency (for its own complaints), by a regency's or city's coordinators (for the
    complaints of their region) or, with neither, by the province (for every complaint). The
    text may hold placeholders (``complaints.responses.PLACEHOLDERS``), filled in from the
    complaint when picked. Written by ``complaints.services.response_template_save`` only."""

    agency = models.ForeignKey(
        Agency,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        verbose_name=_("agency"),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        verbose_name=_("regency or city"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="response_templates",
        verbose_name=_("category"),
        help_text=_("Empty: offered for every category."),
    )
    action = models.CharField(
        _("action"),
        max_length=16,
        choices=[(a.value, a.label) for a in RESPONSE_ACTIONS],
    )
    title = models.CharField(_("name"), max_length=80)
    body = models.TextField(_("text"), max_length=2000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("last changed by"),
    )
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)

    class Meta:
        ordering = ["action", "title", "pk"]
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(agency__isnull=True) | Q(region__isnull=True),
                name="responsetemplate_one_owner",
            ),
        ]
        indexes = [models.Index(fields=["action", "agency"], name="responsetemplate_action")]

    def __str__(self) -> str:
        return self.title


class BreachKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("First follow-up")
    COMPLETION = "completion", _("Completion target")
    TRIAGE = "triage", _("Verification")


class DeadlineBreach(models.Model):
    """A missed deadline, recorded once; it stays against the agency even after re-routing."""

    # Both indexed by the constraint and index in Meta, which start with them.
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, related_name="breaches", db_index=False
    )
    kind = models.CharField(max_length=16, choices=BreachKind.choices)
    due_at = models.DateTimeField()
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="breaches",
        db_index=False,
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="breaches")
    recorded_at = models.DateTimeField(default=timezone.now)
    escalated_to_province_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind", "due_at"], name="breach_once_per_deadline"
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "recorded_at"], name="breach_agency_idx"),
            # The ranking's "verified on time" indicator hashes the year's verification
            # breaches: a few thousand of several hundred thousand rows, read from this small
            # index instead of the whole table (awards.indicators).
            models.Index(
                fields=["recorded_at", "complaint"],
                name="breach_triage_idx",
                condition=models.Q(kind="triage"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.due_at:%Y-%m-%d}"


class SweepMark(models.Model):
    """How far one step of the deadline sweep has got (see ``complaints.enforcement``).

    Every complaint due at or before ``until`` has been handled, and at ``until`` itself every
    complaint with an id up to ``last_id``.
    """

    step = models.CharField(max_length=32, primary_key=True)
    until = models.DateTimeField()
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.step} until {self.until:%Y-%m-%d %H:%M}"


class NonWorkingDay(models.Model):
    """A day off besides weekends and national holidays, e.g. cuti bersama; admins add these."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = _("extra non-working day")
        verbose_name_plural = _("extra non-working days")

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class TallyColumns(models.Model):
    """The counted key of ``complaints.tally``; ids are plain integers (0: no agency)."""

    subject = models.CharField(max_length=16)  # "complaint" or "breach"
    region_id = models.BigIntegerField()
    agency_id = models.BigIntegerField()
    month = models.DateField()  # first day of the local month of submission (or of the breach)
    status = models.CharField(max_length=16)  # a breach's kind
    is_confidential = models.BooleanField()
    followed_up = models.BooleanField()
    n = models.BigIntegerField()

    class Meta:
        abstract = True


class Tally(TallyColumns):
    """Folded counts (see ``complaints.tally``); written by ``tally_fold`` only."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "subject",
                    "region_id",
                    "agency_id",
                    "month",
                    "status",
                    "is_confidential",
                    "followed_up",
                ],
                name="tally_one_row_per_key",
            ),
        ]
        indexes = [
            # Figures filter by subject, status and a range of months; the rest is included so
            # they are read from the index alone.
            models.Index(
                fields=["subject", "status", "month"],
                include=["region_id", "agency_id", "is_confidential", "followed_up", "n"],
                name="tally_read_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.region_id}/{self.agency_id} {self.month} {self.status}"


class TallyDelta(TallyColumns):
    """Signed changes appended by database triggers, waiting to be folded into ``Tally``."""

    def __str__(self) -> str:
        return f"{self.subject} {self.status} {self.n:+d}"


class TallyLive(TallyColumns):
    """The view ``complaints_tally_live``: folded counts plus pending deltas, read as one."""

    id = models.BigIntegerField(primary_key=True)

    class Meta:
        managed = False
        db_table = "complaints_tally_live"

    def __str__(self) -> str:
        return f"{self.subject} {self.status} {self.n}"


class Follow(models.Model):
    """Someone's wish to hear by email about one public complaint (its status changes) or about
    an area (a regency, optionally one category: a daily digest of its new public complaints).

    Double opt-in: a row is written unconfirmed and a confirmation link is emailed; nothing else
    is sent to it before ``confirmed_at``. The address is personal data: unconfirmed rows go
    after ``LAPOR_FOLLOW_CONFIRM_DAYS``, a complaint's followers when its reporter's data is
    removed, and any row on unsubscribing or on its owner's erasure request (docs/privacy.md).
    Written by ``complaints.follows`` only.
    """

    email = models.EmailField(_("email"))  # stored lower-case
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, null=True, blank=True, related_name="follows"
    )
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Area alerts: the complaints filed up to this moment have been told (or there were none).
    digest_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "complaint"],
                condition=Q(complaint__isnull=False),
                name="follow_complaint_once",
            ),
            models.UniqueConstraint(
                fields=["email", "region"],
                condition=Q(region__isnull=False, category__isnull=True),
                name="follow_region_once",
            ),
            models.UniqueConstraint(
                fields=["email", "region", "category"],
                condition=Q(region__isnull=False, category__isnull=False),
                name="follow_region_category_once",
            ),
            models.CheckConstraint(
                condition=Q(complaint__isnull=False, region__isnull=True, category__isnull=True)
                | Q(complaint__isnull=True, region__isnull=False),
                name="follow_complaint_or_area",
            ),
        ]
        indexes = [
            models.Index(fields=["email"], name="follow_email_idx"),
            models.Index(
                fields=["region", "category"],
                name="follow_area_confirmed_idx",
                condition=Q(region__isnull=False, confirmed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"follow {self.pk}"

    @property
    def is_area(self) -> bool:
        return self.region_id is not None
