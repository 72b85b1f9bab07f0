"""Staff forms: manual intake, the coordinator's bulk triage and response templates."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Category, Region, RegionKind
from agencies.selectors import agencies_visible_to, categories_active, staff_scope_for
from complaints.attachments import AttachmentsField, Rectangle
from complaints.codes import tracking_code_normalise
from complaints.contact import PHONE_MAX_LENGTH, validate_phone
from complaints.models import RESPONSE_ACTIONS, STAFF_CHANNELS, Channel, Classification
from complaints.responses import PLACEHOLDERS, response_body_check
from complaints.workflow import ArchiveReason, Role

MAX_BULK = 100


def intake_role(user) -> str | None:
    """The capacity in which ``user`` enters complaints: a coordinator for their region first,
    then provincial staff, then an officer for their own agency."""
    scope = staff_scope_for(user)
    if scope.region_ids:
        return Role.REGION_COORDINATOR
    if scope.is_province:
        return Role.PROVINCE_STAFF
    if scope.agency_ids:
        return Role.AGENCY_OFFICER
    return None


class IntakeForm(forms.Form):
    """A complaint found online or in print, or received by SMS, phone or at the counter."""

    channel = forms.ChoiceField(
        label=_("Where was it raised?"),
        choices=[(c.value, c.label) for c in STAFF_CHANNELS],
        widget=forms.RadioSelect,
    )
    source_url = forms.CharField(
        label=_("Link to the post or article"),
        max_length=500,
        required=False,
        help_text=_("For social and online media, e.g. https://www.facebook.com/…"),
        widget=forms.URLInput,
    )
    source_name = forms.CharField(
        label=_("Newspaper or magazine"),
        max_length=150,
        required=False,
        help_text=_("For print media, e.g. Banjarmasin Post."),
    )
    source_date = forms.DateField(
        label=_("Date of the edition"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    raised_on = forms.DateField(
        label=_("Date the citizen raised it"), widget=forms.DateInput(attrs={"type": "date"})
    )
    attachments = AttachmentsField(
        label=_("Screenshot or clipping"),
        help_text=_("Up to 5 files: JPEG, PNG or WebP images, or PDF; 10 MB each at most."),
    )
    reporter_name = forms.CharField(label=_("Citizen's name"), max_length=100, required=False)
    reporter_email = forms.EmailField(label=_("Citizen's email"), max_length=254, required=False)
    reporter_phone = forms.CharField(
        label=_("Citizen's phone number"),
        max_length=PHONE_MAX_LENGTH,
        required=False,
        validators=[validate_phone],
    )
    is_anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_("The citizen's name is hidden from the agency and the public."),
    )
    is_confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=_("Not public at all: only the staff who handle it can see it."),
    )
    classification = forms.ChoiceField(
        label=_("Type of report"),
        choices=Classification.choices,
        initial=Classification.PENGADUAN,
        widget=forms.RadioSelect,
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), empty_label=_("— choose —")
    )
    region = forms.ModelChoiceField(
        label=_("Regency/city"),
        queryset=Region.objects.none(),
        to_field_name="code",
        empty_label=_("— choose —"),
    )
    agency = forms.ModelChoiceField(
        label=_("Your agency"), queryset=Agency.objects.none(), required=False
    )
    district = forms.CharField(label=_("District (kecamatan)"), max_length=100, required=False)
    address = forms.CharField(
        label=_("Location"),
        max_length=255,
        help_text=_("Street, landmark or village, as far as the citizen said."),
    )
    title = forms.CharField(label=_("Title"), max_length=150)
    description = forms.CharField(
        label=_("Complaint text"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The citizen's words, copied or summarised."),
    )
    incident_date = forms.DateField(
        label=_("When did it happen?"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty when unknown: the date it was raised is used."),
    )
    confirm_duplicate = forms.BooleanField(
        label=_("This is a different complaint: enter it anyway"), required=False
    )
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.role = intake_role(user)
        scope = staff_scope_for(user)
        self.fields["category"].queryset = categories_active()
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
            self.initial.setdefault("raised_on", timezone.localdate())
        today = timezone.localdate().isoformat()
        for name in ("raised_on", "source_date", "incident_date"):
            self.fields[name].widget.attrs["max"] = today
        regions = Region.objects.order_by("code")
        if self.role == Role.AGENCY_OFFICER:
            agencies = Agency.objects.filter(pk__in=scope.agency_ids, is_active=True)
            agencies = agencies.select_related("region").order_by("name")
            self.fields["agency"].queryset = agencies
            # An officer of one agency enters for it without choosing (see clean_agency).
            self.fields["agency"].required = len(agencies) > 1
            self.fields["agency"].empty_label = None
            region_ids = {a.region_id for a in agencies}
            if not any(a.region.kind == RegionKind.PROVINCE for a in agencies):
                regions = regions.filter(pk__in=region_ids)
        else:
            del self.fields["agency"]
            if self.role == Role.REGION_COORDINATOR:
                regions = regions.filter(pk__in=scope.region_ids)
        self.fields["region"].queryset = regions
        if regions.count() == 1 and not self.is_bound:
            self.initial.setdefault("region", regions.get().code)

    @property
    def shows_agency(self) -> bool:
        return "agency" in self.fields and len(self.fields["agency"].queryset) > 1

    @property
    def fixed_agency(self):
        """An officer of one agency enters for it without choosing."""
        if "agency" in self.fields and len(self.fields["agency"].queryset) == 1:
            return self.fields["agency"].queryset[0]
        return None

    def clean_agency(self):
        return self.cleaned_data.get("agency") or self.fixed_agency

    def clean_submission_token(self):
        try:
            return uuid.UUID(self.cleaned_data.get("submission_token") or "")
        except ValueError:
            return None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("incident_date") is None and "incident_date" not in self.errors:
            cleaned["incident_date"] = cleaned.get("raised_on")
        if (
            cleaned.get("channel") in (Channel.SMS, Channel.PHONE)
            and not (cleaned.get("reporter_phone") or cleaned.get("reporter_email"))
            and "reporter_phone" not in self.errors
        ):
            self.add_error(
                "reporter_phone",
                _("Give the number the citizen wrote or called from, so the agency can reply."),
            )
        return cleaned


class TrackingCodesField(forms.Field):
    """Several tracking codes (ticked rows). Which of them the caller may touch is the view's
    question, answered from the scope: a code outside it is a 404, not a form error."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        return list(dict.fromkeys(tracking_code_normalise(str(v)) for v in value if v))


class BulkTriageForm(forms.Form):
    """Route several triage complaints to one agency, or archive them as spam or duplicates."""

    ROUTE, SPAM, DUPLICATE = "route", "spam", "duplicate"

    complaints = TrackingCodesField(
        label=_("Complaints"),
        error_messages={"required": _("Tick at least one complaint.")},
    )
    bulk_action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("", _("— choose an action —")),
            (ROUTE, _("Route to an agency")),
            (SPAM, _("Archive as spam")),
            (DUPLICATE, _("Archive as duplicates of one complaint")),
        ],
        error_messages={"required": _("Choose what to do with them.")},
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.none(),
        required=False,
        empty_label=_("— choose an agency —"),
    )
    duplicate_of = forms.CharField(
        label=_("Tracking code of the original complaint"), max_length=20, required=False
    )

    def __init__(self, *args, region_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = (
            Agency.objects.filter(is_active=True)
            .filter(Q(region_id__in=region_ids) | Q(region__kind=RegionKind.PROVINCE))
            .select_related("region")
            # The coordinator's own agencies first, then the province's.
            .order_by(
                Case(When(region__kind=RegionKind.PROVINCE, then=1), default=0),
                "region__code",
                "name",
            )
        )

    def clean_complaints(self):
        codes = self.cleaned_data["complaints"]
        if len(codes) > MAX_BULK:
            raise ValidationError(
                _("Choose at most %(max)d complaints at once."), params={"max": MAX_BULK}
            )
        return codes

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("bulk_action")
        if action == self.ROUTE and not cleaned.get("agency") and "agency" not in self.errors:
            self.add_error("agency", _("Choose the agency to send them to."))
        if action == self.DUPLICATE and not (cleaned.get("duplicate_of") or "").strip():
            self.add_error("duplicate_of", _("Give the tracking code of the original complaint."))
        return cleaned

    @property
    def archive_reason(self) -> str:
        return {
            self.SPAM: ArchiveReason.SPAM,
            self.DUPLICATE: ArchiveReason.DUPLICATE,
        }.get(self.cleaned_data.get("bulk_action"), "")


class ResponseTemplateForm(forms.Form):
    """A response template: whose it is, for which action and category, and its text."""

    owner = forms.ChoiceField(label=_("Kept by"))
    action = forms.ChoiceField(
        label=_("For the action"), choices=[(a.value, a.label) for a in RESPONSE_ACTIONS]
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("— every category —"),
    )
    title = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("Short, as staff will pick it, e.g. “Sudah diperbaiki”."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories_active()
        self.fields["owner"].choices = response_owner_choices(user)
        self.fields["body"].help_text = _(
            "Shown to the reporter and the public on the timeline. Placeholders filled in from "
            "the complaint: %(list)s."
        ) % {
            "list": "; ".join(
                "{%s} %s" % (name, meaning)  # noqa: UP031 (braces are the placeholder's)
                for name, meaning in PLACEHOLDERS.items()
            )
        }

    def clean_body(self):
        body = self.cleaned_data["body"]
        try:
            response_body_check(body)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["body"]) from exc
        return body

    def owner_parts(self) -> tuple[Agency | None, Region | None]:
        """The owner chosen: (agency, None), (None, region) or (None, None) for the province."""
        kind, _sep, pk = self.cleaned_data["owner"].partition(":")
        if kind == "agency":
            return Agency.objects.get(pk=pk), None
        if kind == "region":
            return None, Region.objects.get(pk=pk)
        return None, None

    @staticmethod
    def owner_value(template) -> str:
        if template.agency_id:
            return f"agency:{template.agency_id}"
        if template.region_id:
            return f"region:{template.region_id}"
        return "province"


def response_owner_choices(user) -> list:
    """Whose templates ``user`` may keep: the province's (provincial staff), their regions'
    (coordinators) and their agencies' (officers; coordinators for their regions' agencies)."""
    scope = staff_scope_for(user)
    choices: list = []
    if scope.is_province:
        choices.append(("province", _("The province (offered on every complaint)")))
    regions = Region.objects.exclude(kind=RegionKind.PROVINCE).order_by("code")
    if not scope.is_province:
        regions = regions.filter(pk__in=scope.region_ids)
    if regions:
        choices.append(
            (
                _("Coordinators of a regency or city"),
                [(f"region:{region.pk}", region.name) for region in regions],
            )
        )
    agencies = agencies_visible_to(user).filter(is_active=True).order_by("region__code", "name")
    if agencies:
        choices.append(
            (
                _("An agency"),
                [(f"agency:{agency.pk}", agency.name) for agency in agencies],
            )
        )
    return choices


class RedactForm(forms.Form):
    """Areas of a photo to fill black, as numbers (pixels from the top left corner); the page's
    script fills them in when staff draw on the photo, and works without it too."""

    PARTS = (("x", _("From left")), ("y", _("From top")), ("w", _("Width")), ("h", _("Height")))

    def __init__(self, *args, rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_count = rows
        for row in range(rows):
            for part, label in self.PARTS:
                self.fields[f"{part}{row}"] = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=0,
                    max_value=100_000,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}),
                )

    def rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"{p}{row}"] for p, _label in self.PARTS] for row in range(self.row_count)]

    def clean(self):
        data = super().clean()
        self.rectangles = []
        for row in range(self.row_count):
            values = [data.get(f"{p}{row}") for p, _label in self.PARTS]
            if all(v is None for v in values):
                continue
            if any(v is None for v in values):
                raise ValidationError(
                    _("Area %(n)s: give all four numbers, or none.") % {"n": row + 1}
                )
            x, y, w, h = values
            if w == 0 or h == 0:
                raise ValidationError(
                    _("Area %(n)s: width and height must be more than 0.") % {"n": row + 1}
                )
            self.rectangles.append(Rectangle(x, y, w, h))
        if not self.rectangles and not self.errors:
            raise ValidationError(_("Mark at least one area to hide."))
        return data
