"""After signing in, staff land on the dashboard, citizens on their complaints; `next` wins
when it is a page of this site."""

import pytest

from tests.factories import UserFactory, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-123"


@pytest.mark.parametrize(
    ("make_user", "landing"),
    [
        (lambda: UserFactory(username="warga"), "/accounts/complaints/"),
        (lambda: officer(username="petugas"), "/dashboard/"),
        (lambda: coordinator(username="koordinator"), "/dashboard/"),
        (lambda: province_staff(username="provinsi"), "/dashboard/"),
    ],
)
def test_landing_follows_the_role(client, make_user, landing):
    user = make_user()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == landing


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/complaints/", "/complaints/"),
        ("https://evil.example/phish", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
    ],
)
def test_a_safe_next_is_honoured(client, next_url, expected):
    user = officer(username="petugas")
    response = client.post(
        f"/accounts/login/?next={next_url}", {"username": user.username, "password": PASSWORD}
    )
    assert response["Location"] == expected


def test_a_wrong_password_says_so_in_indonesian(client):
    UserFactory(username="warga")
    response = client.post("/accounts/login/", {"username": "warga", "password": "salah-sekali"})
    assert response.status_code == 200
    assert "kata sandi" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_password_validators_refuse_a_short_password_in_indonesian(client):
    response = client.post(
        "/accounts/register/",
        {
            "username": "baru",
            "first_name": "Baru",
            "email": "baru@example.id",
            "password1": "kalsel12",
            "password2": "kalsel12",
        },
    )
    assert response.status_code == 200
    assert "terlalu pendek" in response.content.decode()
