import json
import uuid
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Category, Region, RegionKind
from agencies.reference import REGION_SEATS
from agencies.selectors import categories_active, regions_public, routing_rule_for
from complaints.attachments import AttachmentsField
from complaints.codes import tracking_code_normalise
from complaints.contact import PHONE_MAX_LENGTH, validate_phone
from complaints.models import KALSEL_LAT, KALSEL_LON, Classification
from complaints.responses import placeholders_left, response_fill
from complaints.scope import Purpose, complaints_for
from complaints.services import check_complaint_fields
from complaints.workflow import Action, ArchiveReason
from notifications.messaging import phone_normalise


class ComplaintForm(forms.Form):
    """The complaint form of /complaints/new/; field names as in the product spec."""

    classification = forms.ChoiceField(
        label=_("Type of report"),
        choices=Classification.choices,
        initial=Classification.PENGADUAN,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=150,
        help_text=_("In a few words, e.g. “Street light out on Jalan A. Yani km 5”."),
    )
    description = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What is wrong, since when, and how it affects you."),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        empty_label=_("— choose a category —"),
    )
    region = forms.ModelChoiceField(
        label=_("Regency/city"),
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label=_("— choose a regency or city —"),
    )
    district = forms.CharField(label=_("District (kecamatan)"), max_length=100, required=False)
    address = forms.CharField(
        label=_("Location"),
        max_length=255,
        help_text=_("Street and number, a landmark, or the village."),
    )
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, required=False
    )
    incident_date = forms.DateField(
        label=_("When did it happen?"), widget=forms.DateInput(attrs={"type": "date"})
    )
    attachments = AttachmentsField(
        label=_("Photos or documents"),
        help_text=_("Up to 5 files: JPEG, PNG or WebP photos, or PDF; 10 MB each at most."),
    )
    is_anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_(
            "Your complaint may be public, but your name is hidden from the agency and the public."
        ),
    )
    is_confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=_(
            "Your complaint is not public at all: only you and the staff who handle it can see it."
        ),
    )
    reporter_name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    reporter_email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    reporter_phone = forms.CharField(
        label=_("Phone number"),
        max_length=PHONE_MAX_LENGTH,
        required=False,
        validators=[validate_phone],
    )
    notify_by = forms.ChoiceField(
        label=_("Tell me about progress by"),
        choices=[
            ("", _("Email if I gave one, else SMS")),
            ("email", _("Email")),
            ("sms", _("SMS")),
            ("whatsapp", _("WhatsApp")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    # Idempotency: one token per rendered form, so a double click makes one complaint.
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    # Honeypot: hidden from people; bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].queryset = categories_active()
        self.fields["region"].queryset = regions_public()
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        for name in ("title", "description", "address"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["reporter_email"].widget.attrs["autocomplete"] = "email"
        self.fields["reporter_phone"].widget.attrs.update(
            {"autocomplete": "tel", "inputmode": "tel", "type": "tel"}
        )
        self.fields["reporter_name"].widget.attrs["autocomplete"] = "name"
        # A guest must say who they are; a signed-in citizen is known by their account.
        self.fields["reporter_name"].required = self.is_guest
        self.fields["incident_date"].widget.attrs.update(
            {"min": "2000-01-01", "max": timezone.localdate().isoformat()}
        )
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def map_seats(self) -> str:
        """Where the map opens for each regency or city (its seat), as JSON for the page."""
        return json.dumps(REGION_SEATS)

    @property
    def is_guest(self) -> bool:
        return self.user is None or not self.user.is_authenticated

    def clean_submission_token(self):
        # A missing or mangled token only costs the double-submit protection, never the report.
        try:
            return uuid.UUID(self.cleaned_data.get("submission_token") or "")
        except ValueError:
            return None

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise ValidationError(_("This form could not be accepted."))
        return ""

    def clean(self):
        cleaned = super().clean()
        # Fields that failed their own validation are already reported; check the rest together.
        try:
            check_complaint_fields(
                classification=cleaned.get("classification", ""),
                title=cleaned.get("title", "x"),
                description=cleaned.get("description", "x"),
                category=cleaned.get("category") if "category" not in self.errors else None,
                region=cleaned.get("region") if "region" not in self.errors else None,
                address=cleaned.get("address", "x"),
                incident_date=cleaned.get("incident_date"),
                latitude=cleaned.get("latitude"),
                longitude=cleaned.get("longitude"),
                reporter=self.user,
                reporter_name=cleaned.get("reporter_name", ""),
                reporter_email=cleaned.get("reporter_email", "x"),
                reporter_phone=cleaned.get("reporter_phone", ""),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field not in self.errors:
                    for message in messages:
                        self.add_error(field, message)
        self._check_notify_by(cleaned)
        return cleaned

    def _check_notify_by(self, cleaned: dict) -> None:
        choice = cleaned.get("notify_by") or ""
        if choice in ("sms", "whatsapp") and not phone_normalise(
            cleaned.get("reporter_phone") or ""
        ):
            self.add_error(
                "notify_by", _("For SMS or WhatsApp, give a mobile number, e.g. 0812 3456 7890.")
            )
        if choice == "email" and self.is_guest and not cleaned.get("reporter_email"):
            self.add_error("notify_by", _("For email, give your email address."))


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = AttachmentsField(label=_("Photos or documents"))


# What each number of stars means, shown with the stars; 1 first, as people count.
RATING_WORDS = (
    (1, _("Very poor")),
    (2, _("Poor")),
    (3, _("Fair")),
    (4, _("Good")),
    (5, _("Very good")),
)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How well was your complaint handled?"),
        choices=RATING_WORDS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose from 1 to 5 stars.")},
    )
    note = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NotFixedForm(forms.Form):
    """The "not fixed" answer of the "is it fixed?" email: what is still wrong, if they say."""

    note = forms.CharField(
        label=_("What is still wrong? (optional)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReopenForm(forms.Form):
    note = forms.CharField(
        label=_("Why are you reopening it?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        # The reply form on the same page has a "note" too: its own ids, the same field names.
        kwargs.setdefault("auto_id", "id_reopen_%s")
        super().__init__(*args, **kwargs)


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=20,
        help_text=_("As shown after you sent your complaint, e.g. LPR-7K3M-9Q2X."),
    )


class StaffActionForm(forms.Form):
    """One form for every staff action; the workflow table says which fields an action needs."""

    action = forms.ChoiceField(
        choices=[
            (a.value, a.label)
            for a in (
                Action.FOLLOW_UP,
                Action.RESOLVE,
                Action.NOT_OURS,
                Action.REROUTE,
                Action.ARCHIVE,
            )
        ],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to the reporter and the public on the timeline."),
    )
    attachments = AttachmentsField(label=_("Evidence photos or documents"))
    agency = forms.ModelChoiceField(
        label=_("New agency"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("— choose an agency —"),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("— choose a reason —")), *ArchiveReason.choices],
        required=False,
    )
    duplicate_of = forms.CharField(
        label=_("Tracking code of the original complaint"), max_length=20, required=False
    )

    def __init__(self, *args, complaint, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        self.user = user
        self.fields["agency"].queryset = (
            Agency.objects.filter(is_active=True)
            .filter(Q(region_id=complaint.region_id) | Q(region__kind=RegionKind.PROVINCE))
            .exclude(pk=complaint.assigned_agency_id or 0)
            .select_related("region")
            # The regency's or city's own agencies first, then the province's.
            .order_by(Case(When(region__kind=RegionKind.PROVINCE, then=1), default=0), "name")
        )
        # The agency the routing rules pick for this category and regency, when it is a choice.
        rule = routing_rule_for(region_id=complaint.region_id, category_id=complaint.category_id)
        if rule is not None and rule.agency_id != complaint.assigned_agency_id:
            self.fields["agency"].initial = rule.agency_id
            self.fields["agency"].help_text = _(
                "Suggested: %(agency)s, the agency the routing rules pick for this category in "
                "this regency or city."
            ) % {"agency": rule.agency.name}

    def clean(self):
        data = super().clean()
        note = data.get("note")
        if note:
            # A note written from a response template: fill in what is known now (the new
            # agency of a re-route); a placeholder left would reach the citizen as it is.
            new_agency = data.get("agency") if data.get("action") == Action.REROUTE else None
            note = response_fill(note, self.complaint, new_agency=new_agency)
            left = placeholders_left(note)
            if left:
                self.add_error(
                    "note",
                    _("Replace or remove %(names)s before sending.")
                    % {"names": ", ".join("{" + name + "}" for name in left)},
                )
            data["note"] = note
        return data

    def clean_duplicate_of(self):
        code = (self.cleaned_data.get("duplicate_of") or "").strip()
        if not code:
            return None
        # Staff name an original they may work on: their own work set, this regency or city.
        original = (
            complaints_for(self.user, purpose=Purpose.WORK)
            .filter(tracking_code=tracking_code_normalise(code), region_id=self.complaint.region_id)
            .exclude(pk=self.complaint.pk)
            .first()
        )
        if original is None:
            raise ValidationError(_("No other complaint of this regency or city has this code."))
        return original


class SimilarForm(forms.Form):
    """What "similar nearby" goes by: the complaint form's category and place fields."""

    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        empty_label=_("— choose a category —"),
    )
    region = forms.ModelChoiceField(
        label=_("Regency/city"),
        queryset=Region.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("— choose a regency or city —"),
    )
    district = forms.CharField(label=_("District (kecamatan)"), max_length=100, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories_active()
        self.fields["region"].queryset = regions_public()

    def clean(self):
        cleaned = super().clean()
        lat, lon = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lon is None):
            raise ValidationError(_("Give both latitude and longitude, or neither."))
        if lat is not None and not (
            KALSEL_LAT[0] <= lat <= KALSEL_LAT[1] and KALSEL_LON[0] <= lon <= KALSEL_LON[1]
        ):
            raise ValidationError(_("The place must be in Kalimantan Selatan."))
        return cleaned


class SupportForm(forms.Form):
    """ "Me too": a guest gives an email address (kept only hashed); an account needs nothing."""

    email = forms.EmailField(
        label=_("Your email address"),
        required=False,
        help_text=_(
            "Counted once per address; for the count only a digest of the address is kept."
        ),
    )
    follow = forms.BooleanField(
        label=_("Email me when its status changes (we first send a link to confirm)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_guest = user is None or not user.is_authenticated
        self.fields["email"].required = self.is_guest


class FollowForm(forms.Form):
    """Follow a public complaint by email (double opt-in). Prefixed: the complaint's page also
    has the support form's email field."""

    prefix = "follow"

    email = forms.EmailField(
        label=_("Email for its updates"),
        max_length=254,
        help_text=_(
            "We send a link to confirm first. Every email has a link to stop them in one click."
        ),
    )


class AreaFollowForm(forms.Form):
    """Area alerts: a daily email of new public complaints of a regency (and a category)."""

    email = forms.EmailField(label=_("Your email address"), max_length=254)
    region = forms.ModelChoiceField(
        label=_("Regency/city"),
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label=_("— choose a regency or city —"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("All categories"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_public().exclude(kind=RegionKind.PROVINCE)
        self.fields["category"].queryset = categories_active()


class MapViewForm(forms.Form):
    """The map data request: the zoom and the box in view (Leaflet's "west,south,east,north")."""

    zoom = forms.IntegerField(min_value=1, max_value=19)
    bbox = forms.CharField(max_length=120)

    def clean_bbox(self):
        parts = self.cleaned_data["bbox"].split(",")
        try:
            west, south, east, north = (Decimal(p.strip()) for p in parts)
        except (ValueError, ArithmeticError, TypeError):
            raise ValidationError(_("Give the box as west,south,east,north in degrees.")) from None
        if not (west.is_finite() and south.is_finite() and east.is_finite() and north.is_finite()):
            raise ValidationError(_("Give the box as west,south,east,north in degrees."))
        if west > east or south > north:
            raise ValidationError(_("Give the box as west,south,east,north in degrees."))
        # Only Kalimantan Selatan has complaints: clamp the box to it.
        south, north = max(south, KALSEL_LAT[0]), min(north, KALSEL_LAT[1])
        west, east = max(west, KALSEL_LON[0]), min(east, KALSEL_LON[1])
        return (south, west, north, east)


class ContactRevealForm(forms.Form):
    """Staff ask to see the reporter's contact; the reason is recorded with their name."""

    reason = forms.CharField(
        label=_("Why do you need the reporter's contact?"),
        help_text=_("Recorded with your name and the time; the complaint's staff page lists it."),
        max_length=200,
        min_length=10,
    )


class ContactCorrectForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=PHONE_MAX_LENGTH,
        required=False,
        validators=[validate_phone],
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "Yes, erase my name, email, phone and account now. I understand that the text of my "
            "complaints stays, because the agency's handling record must stay."
        ),
    )
