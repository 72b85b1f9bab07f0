"""Root pytest configuration: fixtures shared by every app's tests."""

import os
import shutil

import pytest

# Playwright's sync API keeps an event loop in the test thread; Django's ORM refuses to run
# next to one unless told that this is safe here (tests only, one thread per test).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path() -> str | None:
    """Debian's Chromium where installed; otherwise None lets Playwright use its own build."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    """Tests run inside a transaction that never commits, so no change would retire a cached
    page: the page cache is off unless a test turns it on (tests/lapor/test_page_cache.py)."""
    settings.PAGE_CACHE_SECONDS = 0


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """Transactional tests empty every table afterwards, the migrated reference data included;
    load it again (idempotently) for them so each test sees the 13 regencies and their rules."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        from agencies.services import reference_data_load
        from awards.defaults import default_schemes_load
        from complaints.tally import tally_rebuild

        reference_data_load()
        default_schemes_load()
        # SQLite's flush deletes complaints after (or before) the tally's tables: count again.
        tally_rebuild()
