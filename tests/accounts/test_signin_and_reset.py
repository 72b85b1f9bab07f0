"""Signing in with an email address as a phone keyboard types it, and a password reset that
stays on the portal's own pages with an Indonesian email signed by the portal."""

import re

import pytest
from django.core import mail

from tests.factories import UserFactory, officer

pytestmark = pytest.mark.django_db
PASSWORD = "kalsel-maju-2026"


def citizen(email="rahmat.uji@example.id"):
    user = UserFactory(username=email, email=email)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_the_sign_in_field_asks_for_the_email_address(client):
    html = client.get("/accounts/login/").content.decode()
    assert "Alamat email" in html
    assert 'autocapitalize="none"' in html


@pytest.mark.parametrize(
    "typed", ["Rahmat.uji@example.id", "RAHMAT.UJI@EXAMPLE.ID ", "rahmat.uji@example.id"]
)
def test_a_citizen_signs_in_with_their_email_in_any_case(client, typed):
    user = citizen()
    response = client.post("/accounts/login/", {"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_staff_sign_in_with_their_username_in_any_case(client):
    staff = officer("63.72", "perkim", username="petugas.perkim")
    staff.set_password(PASSWORD)
    staff.save()
    response = client.post("/accounts/login/", {"username": "Petugas.perkim", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_a_wrong_password_is_refused_with_a_message_that_does_not_stutter(client):
    citizen()
    response = client.post(
        "/accounts/login/", {"username": "Rahmat.uji@example.id", "password": "salah-sekali"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "nama pengguna nama pengguna" not in html
    assert "tidak cocok" in html


def test_an_address_shared_by_two_accounts_signs_into_neither(client):
    citizen()
    twin = UserFactory(username="rahmat-lain", email="Rahmat.Uji@example.id")
    twin.set_password(PASSWORD)
    twin.save()
    response = client.post(
        "/accounts/login/", {"username": "RAHMAT.UJI@example.id", "password": PASSWORD}
    )
    # The lower-cased address is one account's username exactly: that account signs in.
    assert response.status_code == 302
    client.logout()
    other = UserFactory(username="budi-1", email="budi@example.id")
    other.set_password(PASSWORD)
    other.save()
    clash = UserFactory(username="budi-2", email="Budi@example.id")
    clash.set_password(PASSWORD)
    clash.save()
    response = client.post(
        "/accounts/login/", {"username": "budi@example.id", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_stays_on_the_portal_and_mails_in_indonesian(client, settings):
    settings.LAPOR_SITE_URL = "https://lapor.kalselprov.go.id"
    user = citizen()
    page = client.get("/accounts/password_reset/").content.decode()
    assert "Administrasi Django" not in page
    assert "/admin/" not in page
    assert 'href="/accounts/login/"' in page

    response = client.post("/accounts/password_reset/", {"email": "Rahmat.uji@example.id"})
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    assert "Administrasi Django" not in done
    assert "Periksa email Anda" in done

    [message] = mail.outbox
    assert "Lapor Paman" in message.subject
    assert "Tim Lapor Paman" in message.body
    assert "127.0.0.1" not in message.body and "testserver" not in message.body
    assert "kata sandi" in message.body
    link = re.search(r"https://lapor\.kalselprov\.go\.id(/accounts/reset/\S+/)", message.body)
    assert link

    form = client.get(link.group(1), follow=True)
    html = form.content.decode()
    assert "Administrasi Django" not in html
    assert "Pilih kata sandi baru" in html
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "baru-dan-panjang-2026", "new_password2": "baru-dan-panjang-2026"},
    )
    assert response.status_code == 302
    complete = client.get(response["Location"]).content.decode()
    assert "Administrasi Django" not in complete
    user.refresh_from_db()
    assert user.check_password("baru-dan-panjang-2026")


def test_a_new_accounts_empty_list_says_nothing_was_filed_yet(client):
    client.force_login(citizen())
    html = client.get("/accounts/complaints/").content.decode()
    assert "Anda belum pernah mengirim pengaduan" in html
    assert "Tidak ada pengaduan yang cocok" not in html
