"""Fixtures of the API tests: the people of the permission matrix and a complaint of each kind."""

import pytest
from rest_framework.test import APIClient

from api.models import StaffToken
from tests.factories import UserFactory, complaint_submitted, coordinator, officer, province_staff


@pytest.fixture(autouse=True)
def _media(media_root):
    return media_root


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Eight accounts a test: hash their passwords quickly (security is not under test here)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def people(db):
    """Everyone of the permission matrix, for complaints in Kota Banjarbaru (63.72) about
    street lighting, which routing gives to Banjarbaru's Perkim."""
    reporter = UserFactory(username="pelapor", email="pelapor@example.id")
    return {
        "anonymous": None,
        "citizen": UserFactory(username="warga"),
        "reporter": reporter,
        "officer": officer("63.72", "perkim", username="petugas_perkim"),
        "other_officer": officer("63.72", "pupr", username="petugas_pupr"),
        "coordinator": coordinator("63.72", username="koordinator_bjb"),
        "other_coordinator": coordinator("63.71", username="koordinator_bjm"),
        "province": province_staff(username="provinsi"),
    }


def client_as(user, **headers) -> APIClient:
    client = APIClient(**headers)
    if user is not None:
        client.force_login(user)
    return client


def token_for(user, name="integrasi") -> str:
    _token, key = StaffToken.objects.create_key(name=name, user=user)
    return key


@pytest.fixture
def filed(people):
    """Complaints filed by the reporter's account: a public one, an anonim one, a rahasia one."""
    reporter = people["reporter"]

    def submit(**kw):
        return complaint_submitted(
            reporter=reporter, reporter_name="", reporter_email="", reporter_phone="", **kw
        ).complaint

    return {
        "public": submit(title="Lampu jalan mati di Jl. Panglima Batur"),
        "anonim": submit(title="Lampu anonim di Jl. Trikora", is_anonymous=True),
        "rahasia": submit(title="Lampu rahasia di Jl. Karang Anyar", is_confidential=True),
    }
