"""Staff sessions end after 30 minutes without activity; citizens stay signed in longer."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tests.factories import UserFactory, officer

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def test_a_staff_session_ends_after_the_idle_limit(settings):
    settings.LAPOR_STAFF_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(officer(username="petugas"))
        # Working every 20 minutes for two hours keeps the session.
        for _step in range(6):
            traveller.shift(timedelta(minutes=20))
            assert client.get("/dashboard/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/dashboard/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/dashboard/"
        assert "_auth_user_id" not in client.session


def test_the_idle_limit_names_the_minutes(settings):
    """The middleware's own check, with a session store that would still keep the session."""
    settings.LAPOR_STAFF_IDLE_MINUTES = 30
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(officer(username="petugas"))
        traveller.shift(timedelta(minutes=31))
        response = client.get("/dashboard/", follow=True)
        assert "setelah 30 menit tanpa aktivitas" in response.content.decode()


def test_a_citizen_session_lasts_longer(settings):
    settings.LAPOR_STAFF_IDLE_MINUTES = 30
    settings.LAPOR_CITIZEN_IDLE_MINUTES = 14 * 24 * 60
    with time_machine.travel(START, tick=False) as traveller:
        client = Client()
        client.force_login(UserFactory(username="warga"))
        traveller.shift(timedelta(hours=8))
        assert client.get("/accounts/complaints/").status_code == 200
        traveller.shift(timedelta(days=15))
        assert client.get("/accounts/complaints/").status_code == 302
