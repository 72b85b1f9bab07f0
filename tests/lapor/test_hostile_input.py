"""No input makes a 5xx: every URL pattern of the project, found from the resolver (so a new page
is covered without a new test), is requested with hostile path and query/form values, as an
anonymous visitor, a citizen and each staff role, on the test database: PostgreSQL, and SQLite
(the embedded default) in a second run of `.ci/run`."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import UserFactory, complaint_submitted, coordinator, officer, province_staff

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# Each written as it travels in a URL or a form body; "%ff%fe" is not UTF-8 at all.
HOSTILE = [
    "%00",
    "a%0B%1Bb",
    "x" * 10_000,
    "0001-01-01",
    "9999-12-31T23%3A59%3A59%2B99%3A00",
    "2026-02-30",
    "-1",
    "99999999999999999999",
    "ZZZ_unknown",
    "%ff%fe",
]
# In a JSON body: also a lone surrogate and deep nesting.
JSON_HOSTILE = '{"a": "\\udcff\\u0000", "n": ' + "[" * 40 + "]" * 40 + "}"
PARAMS = [
    "after", "before", "triage_after", "triage_before", "since", "until", "start", "end",
    "period", "region", "agency", "category", "status", "q", "page", "page_size", "year",
    "level", "code", "key", "result", "username", "password", "note", "title",
    "reporter_email", "action", "next", "ids",
]  # fmt: skip


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _fill(route: str, value: str) -> str | None:
    """A concrete path for ``route`` with every parameter ``value``; None for regex routes
    that cannot take it (they are requested with a plain value instead)."""
    import re

    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    path = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else value, route)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", value, path)
    if "(" in path or "[" in path.replace("[]", "") or "*" in path or "?" in path:
        return None
    return "/" + path


@pytest.fixture
def clients(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    complaint_submitted()
    people = {
        "anonymous": None,
        "citizen": UserFactory(username="warga"),
        "officer": officer("63.72", "perkim", username="petugas"),
        "coordinator": coordinator("63.72", username="koordinator"),
        "province": province_staff(username="provinsi"),
    }
    out = {}
    for name, user in people.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        out[name] = client
    return out


def test_no_url_answers_5xx_to_hostile_input(clients, settings):
    settings.LAPOR_API_RATES = dict.fromkeys(settings.LAPOR_API_RATES, "100000/hour")
    settings.RATELIMIT_ENABLE = False
    failures = []
    routes = sorted({route for route, _ in _patterns()})
    for who, client in clients.items():
        for route in routes:
            if route.startswith(("admin/", "static/", "media/")) or "logout" in route:
                continue  # the admin has its own test; signing out would end the session
            for value in HOSTILE:
                path = _fill(route, value)
                if path is None:
                    continue
                encoded = "&".join(f"{name}={value}" for name in PARAMS)
                attempts = [
                    ("get", f"{path}?{encoded}", {}),
                    ("post", path, {"data": encoded, "content_type": FORM}),
                ]
                if path.startswith("/api/"):
                    attempts.append(("post", path, {"data": JSON_HOSTILE, "content_type": JSON}))
                for method, url, kwargs in attempts:
                    try:
                        response = getattr(client, method)(url, **kwargs)
                    except Exception as exc:  # noqa: BLE001 (a crash is what this looks for)
                        failures.append((who, method, url[:90], repr(exc)[:200]))
                        continue
                    if response.status_code >= 500:
                        failures.append((who, method, url[:90], response.status_code))
    assert not failures, "\n".join(map(str, failures[:40]))


def test_json_nested_fifty_thousand_deep_is_a_400(client):
    body = "[" * 50_000 + "]" * 50_000
    response = client.post("/api/v1/complaints/", body, content_type="application/json")
    assert response.status_code == 400


def test_a_sign_in_username_of_ten_thousand_characters_is_a_4xx(client):
    response = client.post("/accounts/login/", {"username": "u" * 10_000, "password": "x"})
    assert 400 <= response.status_code < 500 or response.status_code == 200
