"""Every page, as each kind of visitor, at phone (390 px) and desktop (1366 px) width, in a real
Chromium: no serious or critical axe-core finding (moderate ones too on our own pages), nothing
wider than the screen, no console error, a ``lang`` on the page. A screenshot of each page goes to
$LAPOR_SCREENSHOT_DIR (default var/screenshots) for a person to look at, e.g. as CI artifacts."""

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from agencies.models import Region
from awards.models import Level
from awards.services import action_plan_write, ranking_compute, ranking_publish
from complaints.attachments import clean_uploads
from complaints.follows import (
    confirm_token,
    follow_request,
    reporter_unsubscribe_token,
    unsubscribe_token,
)
from complaints.services import complaint_transition, response_template_save
from complaints.workflow import Action, Role
from notifications.models import Notification
from tests.factories import (
    UserFactory,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
)
from tests.lapor.test_browser_csp import TILE  # a blank map tile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
AXE = BASE_DIR / "tests" / "assets" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("LAPOR_SCREENSHOT_DIR") or BASE_DIR / "var" / "screenshots")
WIDTHS = (390, 1366)
# Pages that are not ours (Django's admin, Redoc): serious and critical findings only.
THIRD_PARTY = ("/admin/", "/api/docs/")
# Redoc's sidebar asks Redocly's CDN for a logo; the Content-Security-Policy refuses it.
ALLOWED_CONSOLE = {"/api/docs/": re.compile(r"cdn\.redoc\.ly/redoc/logo-mini\.svg")}

REASON = "Perlu konfirmasi lokasi tiang lampu"


def submit(button: str, *, fill: dict[str, str] | None = None, check: tuple[str, ...] = ()):
    """A step after opening a page: fill its form in and send it; the answer is the page."""

    def step(page):
        for selector, value in (fill or {}).items():
            page.fill(selector, value)
        for selector in check:
            page.check(selector)
        with page.expect_navigation() as navigation:
            page.click(button)
        return navigation.value

    return step


# A page is a path, or a path and a form sent from it (the page checked is the answer).
PAGES: dict[str, list] = {
    "anonymous": [
        "/",
        "/complaints/",
        "/complaints/new/",
        "/complaints/{public}/",
        "/complaints/{proof}/",
        "/complaints/is-it-fixed/fixed/?t={fixed}",
        "/complaints/is-it-fixed/not-fixed/?t={fixed}",
        "/track/",
        "/track/phone/",
        "/rankings/",
        "/rankings/{year}/?level=agency",
        "/rankings/{year}/regions/63.72/",
        "/rankings/{year}/report/",
        "/peta/",
        "/complaints/similar/?category=pju&region=63.72",
        "/complaints/?region=63.72&category=pju",
        "/ikuti/wilayah/?region=63.72",
        "/ikuti/konfirmasi/{confirm}/",
        "/ikuti/konfirmasi/not-a-token/",
        "/ikuti/berhenti/{unsubscribe}/",
        "/ikuti/pelapor/{reporter_unsubscribe}/",
        # Stopped (the page offers to resume), then resumed.
        ("/ikuti/pelapor/{reporter_unsubscribe}/", submit("main form button")),
        ("/ikuti/pelapor/{reporter_unsubscribe}/", submit("main form button")),
        "/ikuti/pelapor/not-a-token/",
        "/privasi/",
        "/data-saya/",
        "/accounts/login/",
        "/accounts/register/",
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/wrong-token/",
        "/api/docs/",
        "/does-not-exist/",
    ],
    "citizen": [
        "/accounts/complaints/",
        "/complaints/{mine}/",
        "/accounts/two-factor/",
        "/data-saya/",
        (
            "/data-saya/",
            submit("form[action$='/koreksi/'] button", fill={"#id_email": "bukan-email"}),
        ),
        # Last: it deletes the account.
        ("/data-saya/", submit("form[action$='/hapus/'] button", check=("#id_confirm",))),
    ],
    "officer": [
        "/dashboard/",
        "/dashboard/queue/",
        "/dashboard/queue/?due_soon=on",
        "/dashboard/queue/?q=lampu+mati&status=all",
        "/dashboard/intake/",
        "/dashboard/figures/",
        "/dashboard/triage/",
        "/dashboard/templat/",
        "/complaints/{public}/",
        "/complaints/{public}/?templat={template}",
        (
            "/complaints/{public}/",
            submit("form[action$='/contact/'] button", fill={"#id_reason": REASON}),
        ),
        "/complaints/{public}/photos/{photo}/redact/",
    ],
    "coordinator": [
        "/dashboard/",
        "/dashboard/queue/",
        "/dashboard/triage/",
        "/dashboard/intake/",
        "/dashboard/figures/?period=year",
    ],
    "province": [
        "/dashboard/",
        "/dashboard/queue/?status=all",
        "/dashboard/triage/",
        "/dashboard/figures/",
        "/rankings/staff/",
        "/rankings/staff/what-if/",
        "/rankings/staff/import/",
        "/dashboard/templat/{template}/",
        "/dashboard/sp4n-lapor/",
        "/complaints/{public}/photos/{photo}/redact/",
        "/rankings/staff/plans/{year}/",
        "/rankings/staff/plans/{year}/63.72/",
        "/rankings/{year}/report/",
        "/admin/",
    ],
}


def photo(colour: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "PNG")
    return SimpleUploadedFile(f"{colour}.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def world(media_root):
    """A few complaints in every state a page shows, a published ranking, and the visitors."""
    now = timezone.now()
    staff = province_staff(username="provinsi")
    perkim = officer("63.72", "perkim", username="perkim")
    coordinator("63.72", username="kominfo-bjb")
    citizen = UserFactory(username="rahmat@example.id", email="rahmat@example.id")
    public = complaint_submitted(now=now - timedelta(days=3), files=[clean_photo()]).complaint
    mine = complaint_submitted(
        now=now - timedelta(days=2), reporter_email=citizen.email, reporter=citizen
    ).complaint
    complaint_transition(
        complaint=mine, action=Action.RESOLVE, role=Role.AGENCY_OFFICER, actor=perkim, note="Beres."
    )
    complaint_submitted(now=now - timedelta(hours=5), category_code="jalan", region_code="63.72")
    # Resolved with an "after" photo: before/after on its page, and the "is it fixed?" links.
    proof = complaint_submitted(
        now=now - timedelta(days=4), files=clean_uploads([photo("black")])
    ).complaint
    complaint_transition(
        complaint=proof,
        action=Action.RESOLVE,
        role=Role.AGENCY_OFFICER,
        actor=perkim,
        note="Lampu sudah menyala.",
        files=clean_uploads([photo("yellow")]),
    )
    fixed = Notification.objects.get(complaint=proof, dedupe_key__startswith="fixed-check:")
    year = timezone.localdate(now).year - 1
    for level in Level.values:
        ranking_publish(result=ranking_compute(year=year, level=level, now=now), actor=staff)
    action_plan_write(
        year=year,
        region=Region.objects.get(code="63.01"),
        text="Pendampingan admin SP4N-LAPOR! tiap bulan dan pelatihan operator perangkat daerah.",
        actor=staff,
    )
    template = response_template_save(
        actor=staff,
        agency=None,
        region=None,
        category=None,
        action=Action.FOLLOW_UP,
        title="Sedang ditinjau",
        body="Laporan {kode} sedang ditinjau oleh {perangkat_daerah}.",
    )
    follow = follow_request(email="pengikut@example.id", complaint=public)
    return {
        "public": public.tracking_code,
        "mine": mine.tracking_code,
        "year": year,
        "template": template.pk,
        "proof": proof.tracking_code,
        "fixed": fixed.secret,
        "confirm": confirm_token(follow),
        "unsubscribe": unsubscribe_token(follow),
        "reporter_unsubscribe": reporter_unsubscribe_token(public),
        "photo": public.attachments.get().pk,
    }


def clean_photo():
    """A small clean photo, as the form stores it."""
    import io

    from PIL import Image

    from complaints.attachments import CleanFile, clean_image, random_name

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(out, "JPEG")
    return CleanFile(
        random_name("image/jpeg"),
        "foto.jpg",
        "image/jpeg",
        clean_image(out.getvalue(), "image/jpeg"),
    )


def sign_in(context, live_server, persona):
    username = {
        "citizen": "rahmat@example.id",
        "officer": "perkim",
        "coordinator": "kominfo-bjb",
        "province": "provinsi",
    }.get(persona)
    if username is None:
        return
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def problems_of(page, path: str) -> list[str]:
    problems = []
    if not page.locator("html").get_attribute("lang"):
        problems.append("no lang on <html>")
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    if width > inner:
        problems.append(f"page is {width} px wide in a {inner} px window")
    page.evaluate(AXE.read_text())  # not a script tag: the Content-Security-Policy refuses those
    result = page.evaluate("async () => await axe.run(document)")
    impacts = {"serious", "critical"}
    if not path.startswith(THIRD_PARTY):
        impacts.add("moderate")
    for violation in result["violations"]:
        if violation["impact"] in impacts:
            targets = [node["target"] for node in violation["nodes"][:3]]
            problems.append(f"axe {violation['impact']} {violation['id']}: {targets}")
    return problems


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("persona", list(PAGES))
def test_every_page_is_clean(live_server, browser, world, persona, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID")
    sign_in(context, live_server, persona)
    # Map tiles: a blank one, so the test needs no network.
    context.route(
        "https://tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=TILE),
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console.append(f"uncaught: {error}"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    try:
        for entry in PAGES[persona]:
            template, step = entry if isinstance(entry, tuple) else (entry, None)
            path = template.format(**world)
            console.clear()
            response = page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            if step is not None:
                console.clear()
                response = step(page)
                page.wait_for_load_state("networkidle")
                path = page.url.removeprefix(live_server.url) + "#sent"
            if path == "/api/docs/":
                page.get_by_text("/api/v1/complaints/").first.wait_for()
            assert response is not None and response.status < 500, path
            slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            page.screenshot(path=SCREENSHOTS / f"{persona}_{slug}_{width}.png", full_page=True)
            problems = problems_of(page, path)
            allowed = ALLOWED_CONSOLE.get(path)
            problems += [
                f"console: {text}"
                for text in console
                if not (allowed and allowed.search(text))
                # The page's own status, when it is an error page on purpose (403, 404).
                and not (response.status >= 400 and f"status of {response.status}" in text)
            ]
            if problems:
                found[path] = problems
    finally:
        context.close()
    assert found == {}
