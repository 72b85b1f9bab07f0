import pytest
from django.core.management import call_command

from agencies import reference
from agencies.models import Agency, Category, Region, RegionKind, RoutingRule
from agencies.services import reference_data_load

pytestmark = pytest.mark.django_db

KALSEL = {
    "63.01": "Kabupaten Tanah Laut",
    "63.02": "Kabupaten Kotabaru",
    "63.03": "Kabupaten Banjar",
    "63.04": "Kabupaten Barito Kuala",
    "63.05": "Kabupaten Tapin",
    "63.06": "Kabupaten Hulu Sungai Selatan",
    "63.07": "Kabupaten Hulu Sungai Tengah",
    "63.08": "Kabupaten Hulu Sungai Utara",
    "63.09": "Kabupaten Tabalong",
    "63.10": "Kabupaten Tanah Bumbu",
    "63.11": "Kabupaten Balangan",
    "63.71": "Kota Banjarmasin",
    "63.72": "Kota Banjarbaru",
}


def test_thirteen_regencies_and_cities_and_the_province():
    regions = dict(Region.objects.exclude(kind=RegionKind.PROVINCE).values_list("code", "name"))
    assert regions == KALSEL
    province = Region.objects.get(kind=RegionKind.PROVINCE)
    assert (province.code, province.name) == ("63", "Provinsi Kalimantan Selatan")
    assert set(Region.objects.filter(kind=RegionKind.CITY).values_list("code", flat=True)) == {
        "63.71",
        "63.72",
    }


def test_every_region_has_the_standard_agencies():
    for region in Region.objects.all():
        kinds = set(region.agencies.values_list("kind", flat=True))
        assert {"perkim", "pupr", "dishub", "kominfo", "dinkes", "disdik"} <= kinds, region.code
        assert {"satpolpp", "disdukcapil"} <= kinds, region.code


def test_every_region_and_category_routes_to_an_active_agency_of_that_region():
    pairs = {(r.pk, c.pk) for r in Region.objects.all() for c in Category.objects.all()}
    rules = RoutingRule.objects.select_related("agency")
    assert {(rule.region_id, rule.category_id) for rule in rules} == pairs
    for rule in rules:
        assert rule.agency.region_id == rule.region_id
        assert rule.agency.is_active


@pytest.mark.parametrize(
    ("region_code", "agency_name", "agency_kind"),
    [
        ("63.72", "Dinas Perumahan dan Kawasan Permukiman Kota Banjarbaru", "perkim"),
        ("63.71", "UPTD Penerangan Jalan Umum Dinas Perhubungan Kota Banjarmasin", "dishub"),
        (
            "63.03",
            "Dinas Perumahan Rakyat, Kawasan Permukiman dan Lingkungan Hidup Kabupaten Banjar",
            "perkim",
        ),
    ],
)
def test_street_lighting_routes_differ_by_region(region_code, agency_name, agency_kind):
    rule = RoutingRule.objects.select_related("agency").get(
        region__code=region_code, category__code="pju"
    )
    assert rule.agency.name == agency_name
    assert rule.agency.kind == agency_kind


def test_roads_and_drainage_go_to_pupr_and_parking_to_dishub():
    for rule in RoutingRule.objects.select_related("agency", "category"):
        if rule.category.code in {"jalan", "drainase"}:
            assert rule.agency.kind == "pupr"
        if rule.category.code == "parkir":
            assert rule.agency.kind == "dishub"


def test_categories_default_to_three_follow_up_days_with_both_names():
    assert Category.objects.count() == len(reference.CATEGORIES)
    for category in Category.objects.all():
        assert category.follow_up_days == 3
        assert category.name_id and category.name_en


def test_loading_twice_changes_nothing():
    def snapshot():
        return (
            list(Region.objects.values_list("code", "name", "kind").order_by("code")),
            list(Agency.objects.values_list("region__code", "code", "name").order_by("pk")),
            list(Category.objects.values_list("code", "follow_up_days").order_by("code")),
            list(RoutingRule.objects.values_list("region_id", "category_id", "agency_id")),
        )

    before = snapshot()
    assert reference_data_load() == {
        "regions": 0,
        "agencies": 0,
        "categories": 0,
        "routing_rules": 0,
    }
    call_command("load_reference", verbosity=0)
    assert snapshot() == before


def test_an_admins_routing_change_survives_reloading():
    rule = RoutingRule.objects.get(region__code="63.72", category__code="parkir")
    satpol = Agency.objects.get(region__code="63.72", code="satpolpp")
    rule.agency = satpol
    rule.save()
    reference_data_load()
    rule.refresh_from_db()
    assert rule.agency == satpol
