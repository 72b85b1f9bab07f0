"""What goes in and out of the API. Thin: validation of complaints lives in the services."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency, Category, Region
from agencies.selectors import categories_active, regions_public
from complaints.attachments import MAX_FILES
from complaints.contact import PHONE_MAX_LENGTH, validate_phone
from complaints.models import Attachment, Classification, ComplaintEvent
from complaints.workflow import ArchiveReason, ComplaintStatus

# --- reference data ---------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "kind"]


class CategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=_("In the request's language."))

    class Meta:
        model = Category
        fields = ["code", "name", "name_id", "name_en", "follow_up_days"]


class AgencySerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Agency
        fields = ["id", "code", "name", "short_name", "kind", "region", "is_active"]


class AgencyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


# --- complaints out ---------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    # A neutral name (``lampiran-42.jpg``): the uploader's own file name is not kept.
    name = serializers.CharField(source="download_name", read_only=True)

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        path = reverse("attachment", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ComplaintSerializer(serializers.Serializer):
    """A complaint as the public may see it: never the reporter's identity."""

    tracking_code = serializers.CharField()
    classification = serializers.ChoiceField(choices=Classification.choices)
    title = serializers.CharField()
    description = serializers.CharField()
    category = CodeNameSerializer()
    region = CodeNameSerializer()
    district = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    incident_date = serializers.DateField()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    agency = AgencyRefSerializer(source="assigned_agency", allow_null=True)
    is_anonymous = serializers.BooleanField()
    is_overdue = serializers.BooleanField(default=False)
    supporter_count = serializers.IntegerField(
        help_text=_("How many people support it (“me too”).")
    )
    created_at = serializers.DateTimeField()
    follow_up_due_at = serializers.DateTimeField(allow_null=True)
    completion_due_at = serializers.DateTimeField(allow_null=True)
    first_follow_up_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField(help_text=_("The complaint's page."))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        request = self.context.get("request")
        path = obj.get_absolute_url()
        return request.build_absolute_uri(path) if request else path

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["category"] = {"code": instance.category.code, "name": instance.category.name}
        data["region"] = {"code": instance.region.code, "name": instance.region.name}
        return data


class ReporterSerializer(serializers.Serializer):
    """Output only: the reporter's own contact, shown to the reporter."""

    name = serializers.CharField(source="reporter_name", read_only=True)
    email = serializers.CharField(source="reporter_email", read_only=True)
    phone = serializers.CharField(source="reporter_phone", read_only=True)


class ComplaintDetailSerializer(ComplaintSerializer):
    """One complaint for a caller who may see it; ``reporter`` only for the reporter."""

    is_confidential = serializers.BooleanField()
    rating = serializers.IntegerField(allow_null=True)
    rating_comment = serializers.CharField()
    attachments = serializers.SerializerMethodField()
    reporter = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("What the caller may do now, by the workflow: the action endpoints' names.")
    )

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj):
        # The caller prefetches the complaint's own attachments (those sent with it).
        return AttachmentSerializer(obj.attachments.all(), many=True, context=self.context).data

    @extend_schema_field(ReporterSerializer(allow_null=True))
    def get_reporter(self, obj):
        if not self.context.get("show_reporter"):
            return None
        return ReporterSerializer(obj).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, obj) -> list[str]:
        return list(self.context.get("allowed_actions", []))


class StaffComplaintSerializer(ComplaintSerializer):
    """A queue row for staff: never the reporter's contact (staff ask for it on the complaint's
    page, with a recorded reason)."""

    is_confidential = serializers.BooleanField()
    triage_due_at = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    actor_role_label = serializers.CharField(source="get_actor_role_display")
    from_agency = AgencyRefSerializer(allow_null=True)
    to_agency = AgencyRefSerializer(allow_null=True)
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = ComplaintEvent
        fields = [
            "id",
            "kind",
            "kind_label",
            "created_at",
            "actor_role",
            "actor_role_label",
            "from_status",
            "to_status",
            "from_agency",
            "to_agency",
            "note",
            "is_internal",
            "attachments",
        ]


# --- complaints in ----------------------------------------------------------------------------


class ComplaintCreateSerializer(serializers.Serializer):
    """The fields of /complaints/new/. JSON, or multipart/form-data with ``attachments``."""

    classification = serializers.ChoiceField(choices=Classification.choices)
    title = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=5000)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=categories_active(), help_text=_("A category code.")
    )
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=regions_public(), help_text=_("A Kemendagri code, e.g. 63.72.")
    )
    district = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=255)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None
    )
    incident_date = serializers.DateField()
    is_anonymous = serializers.BooleanField(required=False, default=False)
    is_confidential = serializers.BooleanField(required=False, default=False)
    reporter_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    reporter_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    reporter_phone = serializers.CharField(
        max_length=PHONE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        validators=[validate_phone],
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=MAX_FILES,
        help_text=_("Up to 5 files: JPEG, PNG or WebP photos, or PDF; 10 MB each at most."),
    )


class ComplaintCreatedSerializer(ComplaintDetailSerializer):
    access_key = serializers.CharField(
        allow_null=True,
        help_text=_(
            "For a guest: the private link's secret, shown once. Send it as X-Access-Key to "
            "reply, rate or reopen."
        ),
    )
    private_link = serializers.URLField(allow_null=True)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, max_length=MAX_FILES
    )


class OptionalNoteSerializer(NoteSerializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RerouteSerializer(OptionalNoteSerializer):
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.filter(is_active=True).select_related("region"),
        help_text=_("The id of an active agency of the complaint's regency, or of the province."),
    )


class ArchiveSerializer(OptionalNoteSerializer):
    reason = serializers.ChoiceField(choices=ArchiveReason.choices)
    duplicate_of = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("For a duplicate: the tracking code of the original complaint."),
    )
