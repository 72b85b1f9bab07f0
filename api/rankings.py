"""``GET /api/v1/rankings/<year>/?level=regency|agency[&region=<code>]``: the year's ranking with
each score's breakdown: the published (frozen) result, else the provisional draft."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Region
from api.schema import ErrorSerializer
from awards import selectors
from awards.models import Level


class CriterionSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    indicator = serializers.CharField()
    name_id = serializers.CharField()
    name_en = serializers.CharField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=4)
    normalisation = serializers.CharField()
    best = serializers.DecimalField(
        max_digits=16, decimal_places=4, allow_null=True, help_text="The best value of the year"
    )


class BandSerializer(serializers.Serializer):
    name_id = serializers.CharField()
    name_en = serializers.CharField()
    min_score = serializers.DecimalField(max_digits=8, decimal_places=4)


class SchemeSerializer(serializers.Serializer):
    name_id = serializers.CharField()
    name_en = serializers.CharField()
    max_score = serializers.DecimalField(max_digits=8, decimal_places=4)
    criteria = CriterionSerializer(many=True)
    bands = BandSerializer(many=True)


class ValueSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    raw = serializers.DecimalField(max_digits=16, decimal_places=4, allow_null=True)
    normalised = serializers.DecimalField(max_digits=6, decimal_places=4)
    weight = serializers.DecimalField(max_digits=6, decimal_places=4)
    points = serializers.DecimalField(max_digits=16, decimal_places=8)


class RowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    insufficient_data = serializers.BooleanField(source="insufficient")
    region_rank = serializers.IntegerField(allow_null=True)
    region_code = serializers.CharField(source="region.code")
    region_name = serializers.CharField()
    agency_code = serializers.SerializerMethodField()
    name = serializers.CharField()
    score = serializers.DecimalField(max_digits=16, decimal_places=8)
    predicate_id = serializers.CharField(source="band_id")
    predicate_en = serializers.CharField(source="band_en")
    previous_year = serializers.IntegerField(allow_null=True)
    previous_rank = serializers.IntegerField(allow_null=True)
    breakdown = ValueSerializer(source="values", many=True)

    def get_agency_code(self, row) -> str | None:
        return row.agency.code if row.agency_id else None


class RankingSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    level = serializers.ChoiceField(choices=Level.choices)
    status = serializers.ChoiceField(
        choices=["published", "provisional"],
        help_text="published: frozen; provisional: a draft that changes as complaints are handled",
    )
    computed_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    scheme = SchemeSerializer()
    results = RowSerializer(many=True)


class RankingView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="rankings_retrieve",
        summary="A year's ranking with each score's breakdown",
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter(
                "level",
                OpenApiTypes.STR,
                enum=Level.values,
                default=Level.REGENCY,
                description="regency: the 13 regencies and cities; agency: agencies (SKPD)",
            ),
            OpenApiParameter(
                "region",
                OpenApiTypes.STR,
                description="With level=agency: only the agencies of this region (Kemendagri "
                "code, e.g. 63.72), with their rank within it",
            ),
        ],
        responses={
            200: RankingSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown level or region"),
            404: OpenApiResponse(ErrorSerializer, description="No ranking for this year"),
        },
        tags=["peringkat"],
    )
    def get(self, request, year: int):
        level = request.query_params.get("level") or Level.REGENCY
        if level not in Level.values:
            # The API's one error shape (api.errors): a 400 names the field.
            raise exceptions.ValidationError(
                {"level": [_("Unknown level: use regency or agency.")]}
            )
        region = None
        code = request.query_params.get("region")
        if code:
            if "\x00" not in code:
                region = Region.objects.filter(code=code[:8]).first()
            if region is None or level != Level.AGENCY:
                raise exceptions.ValidationError(
                    {"region": [_("region is a Kemendagri code, and only with level=agency.")]}
                )
        result = selectors.result_shown(year=year, level=level)
        if result is None:
            raise exceptions.NotFound(_("There is no ranking for that year."))
        rows = selectors.result_rows(result, region=region)
        snapshot = result.scheme_snapshot
        data = {
            "year": result.year,
            "level": result.level,
            "status": "published" if result.is_published else "provisional",
            "computed_at": result.computed_at,
            "published_at": result.published_at,
            "period_start": result.period_start,
            "period_end": result.period_end,
            "scheme": snapshot,
            "results": rows,
        }
        return Response(RankingSerializer(data).data)
