"""Schemes in the admin: editable by provincial staff, read-only once a published result used
them, a normalisation that does not fit its indicator refused; the API's OpenAPI description."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from agencies.services import role_groups_sync
from awards.models import Criterion, Level, Scheme
from awards.services import ranking_compute, ranking_publish
from tests.factories import province_staff

from .dataset import WITA

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=WITA)  # the year is over: no reason needed


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    role_groups_sync()
    return province_staff(username="prov.kalsel")


@pytest.mark.django_db
def test_provincial_staff_edit_a_scheme_until_it_is_published(client, staff):
    client.force_login(staff)
    default = Scheme.objects.get(year__isnull=True, is_default=True, level=Level.REGENCY)
    url = f"/admin/awards/scheme/{default.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="criteria-0-weight"' in page.content  # editable

    result = ranking_publish(
        result=ranking_compute(year=2025, level=Level.REGENCY, now=NOW), actor=staff, now=NOW
    )
    year_scheme = result.scheme
    assert year_scheme.year == 2025 and year_scheme.is_locked
    page = client.get(f"/admin/awards/scheme/{year_scheme.pk}/change/")
    assert page.status_code == 200
    assert b'name="criteria-0-weight"' not in page.content  # read-only now
    response = client.post(
        f"/admin/awards/scheme/{year_scheme.pk}/change/",
        {"year": 2025, "level": "regency", "name_id": "Diubah", "name_en": "Changed"},
    )
    assert response.status_code == 403
    year_scheme.refresh_from_db()
    assert year_scheme.name_id != "Diubah"
    # The default it was copied from stays editable.
    assert b'name="criteria-0-weight"' in client.get(url).content


@pytest.mark.django_db
def test_a_normalisation_must_fit_its_indicator(db):
    scheme = Scheme.objects.get(year__isnull=True, is_default=True, level=Level.REGENCY)
    wrong = Criterion(
        scheme=scheme,
        order=4,
        indicator="median_hours_to_follow_up",
        weight=Decimal("0.5"),
        normalisation="as_is",
        name_id="Kecepatan",
        name_en="Speed",
    )
    with pytest.raises(ValidationError) as error:
        wrong.full_clean()
    assert "normalisation" in error.value.message_dict
    wrong.normalisation = "inverse_best"
    wrong.full_clean()


@pytest.mark.django_db
def test_results_are_read_only_in_the_admin(client, staff):
    client.force_login(staff)
    result = ranking_compute(year=2025, level=Level.REGENCY, now=NOW)
    assert client.get("/admin/awards/result/").status_code == 200
    assert client.get("/admin/awards/rankinglog/").status_code == 200
    response = client.post(f"/admin/awards/result/{result.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403


def test_the_ranking_endpoint_is_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/rankings/{year}/"]["get"]
    assert operation["operationId"] == "rankings_retrieve"
    assert {p["name"] for p in operation["parameters"]} == {"year", "level", "region"}
    assert set(operation["responses"]) == {"200", "400", "404"}
