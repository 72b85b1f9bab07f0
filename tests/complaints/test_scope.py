"""One scope: every read of complaints starts from ``complaints.scope.complaints_for``.

The guard below reads the source of every module and fails when one outside the few that may
(the scope itself, the writers, the sweep, seeding, admin, migrations, commands, the award
indicators and the notifications) touches ``Complaint.objects`` or a reverse ``complaints``
relation: a new page cannot forget the scope. See docs/architecture.md, "One scope, one writer".
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from agencies.models import RoutingRule
from complaints.scope import Purpose, complaints_for, private_link_opens
from complaints.services import complaint_submit
from tests.factories import (
    UserFactory,
    complaint_fields,
    complaint_submitted,
    coordinator,
    officer,
    province_staff,
)

BASE_DIR = Path(settings.BASE_DIR)
# Trees that are not the running application.
NOT_SCANNED = {".venv", ".git", "tests", "bench", "var", "node_modules", "static", "templates"}
# Modules that may read or write complaints without the scope, and why.
ALLOWED = {
    "complaints/scope.py": "the scope itself",
    "complaints/querysets.py": "the filters the scope is made of",
    "complaints/models.py": "the model",
    "complaints/services.py": "the one writer: locks and changes rows",
    "complaints/enforcement.py": "the deadline sweep, the system's own reads",
    "lapor/demo.py": "demo seeding",
    "complaints/admin.py": "the admin site, read-only for provincial staff",
    "awards/indicators.py": "annual indicators over every complaint",
    "notifications/services.py": "the outbox: renders what a notification is about",
}
ALLOWED_DIRS = ("migrations", "management/commands", "notifications")
# Known offenders being fixed on another branch; remove each entry once that has merged.
PENDING: dict[str, str] = {}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
AGGREGATES = {"Count", "Sum", "Avg", "Min", "Max", "Prefetch", "FilteredRelation"}
RELATED_CALLS = {"prefetch_related", "select_related", "annotate", "values", "values_list"}


def unscoped_reads(source: str) -> list[str]:
    """Where ``source`` reaches complaints without the scope, as "line N: what" strings."""
    found = []

    def add(node, what):
        found.append(f"line {node.lineno}: {what}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            if (
                node.attr in MANAGERS
                and isinstance(node.value, ast.Name)
                and node.value.id == "Complaint"
            ):
                add(node, f"Complaint.{node.attr}")
            elif node.attr in ("complaints", "duplicates"):  # reverse managers
                add(node, ".complaints")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("complaints__"):
                add(node, f"lookup {node.value!r}")
        elif isinstance(node, ast.keyword) and (node.arg or "").startswith("complaints__"):
            add(node.value, f"lookup {node.arg}=")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name in AGGREGATES | RELATED_CALLS and "complaints" in strings:
                add(node, f'{name}("complaints")')
            elif name == "get_model" and "Complaint" in strings:
                add(node, 'get_model(..., "Complaint")')
    return found


def application_modules() -> list[Path]:
    modules = []
    for path in sorted(BASE_DIR.rglob("*.py")):
        relative = path.relative_to(BASE_DIR)
        if relative.parts[0] in NOT_SCANNED or relative.parts[0].startswith("."):
            continue
        modules.append(relative)
    return modules


def is_allowed(relative: Path) -> bool:
    name = relative.as_posix()
    if name in ALLOWED or name in PENDING:
        return True
    return any(f"/{d}/" in f"/{name}" for d in ALLOWED_DIRS)


def test_no_module_outside_the_allowed_ones_reads_complaints_without_the_scope():
    modules = application_modules()
    assert Path("portal/views.py") in modules  # the scan does see the application
    offenders = {
        relative.as_posix(): reads
        for relative in modules
        if not is_allowed(relative)
        and (reads := unscoped_reads((BASE_DIR / relative).read_text(encoding="utf-8")))
    }
    assert offenders == {}, (
        "Start these reads from complaints.scope.complaints_for (or write through "
        f"complaints/services.py): {offenders}"
    )


# A template reaching for a reverse manager (`region.complaints.count`) reads around it too.
TEMPLATE_REVERSE = re.compile(r"\.(complaints|duplicates)(\.|\s|\}|\|)")


def test_no_template_reads_complaints_through_a_relation():
    offenders = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in sorted((BASE_DIR / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TEMPLATE_REVERSE.search(line)
    ]
    assert offenders == []
    assert TEMPLATE_REVERSE.search("{{ region.complaints.count }}")
    assert not TEMPLATE_REVERSE.search("{% url 'complaints:list' %} complaints/detail.html")


@pytest.mark.parametrize(
    "source",
    [
        "Complaint.objects.filter(pk=1)",
        "get_object_or_404(Complaint._default_manager, pk=1)",
        "Complaint._base_manager.all()",
        "region.complaints.count()",
        "original.duplicates.all()",
        'Region.objects.annotate(n=Count("complaints"))',
        'Agency.objects.filter(complaints__status="assigned")',
        'Region.objects.prefetch_related("complaints")',
        'apps.get_model("complaints", "Complaint").objects.all()',
    ],
)
def test_the_guard_catches_each_way_around_the_scope(source):
    assert unscoped_reads(source) != []


def test_the_guard_lets_scoped_reads_and_imports_through():
    source = (
        "from complaints.models import Complaint\n"
        "import complaints.scope\n"
        "qs = complaints_for(user, purpose=Purpose.WORK).filter(region_id=1)\n"
        'qs.values("region_id").annotate(n=Count("pk"))\n'
        'template = "complaints/detail.html"\n'
    )
    assert unscoped_reads(source) == []


# --- what each purpose gives -------------------------------------------------------------------


@pytest.fixture
def complaints(db, media_root):
    """In Banjarbaru: a public complaint (Perkim), a rahasia one of an account, and one in triage;
    in Banjarmasin: a public one."""
    owner = UserFactory(username="pemilik")
    public = complaint_submitted(title="Publik").complaint
    rahasia = complaint_submitted(title="Rahasia", reporter=owner, is_confidential=True).complaint
    RoutingRule.objects.filter(region__code="63.72", category__code="pju").delete()
    triage = complaint_submitted(title="Triase").complaint
    elsewhere = complaint_submitted(region_code="63.71", title="Banjarmasin").complaint
    return {
        "owner": owner,
        "public": public,
        "rahasia": rahasia,
        "triage": triage,
        "elsewhere": elsewhere,
    }


def titles(queryset) -> set[str]:
    return set(queryset.values_list("title", flat=True))


@pytest.mark.django_db
def test_public_is_routed_and_not_rahasia_whoever_asks(complaints):
    for user in (None, AnonymousUser(), complaints["owner"], province_staff()):
        assert titles(complaints_for(user, purpose=Purpose.PUBLIC)) == {"Publik", "Banjarmasin"}


@pytest.mark.django_db
def test_work_is_the_staff_members_own_set_and_empty_for_citizens(complaints):
    expected = {
        "officer of Banjarbaru's Perkim": (officer("63.72", "perkim"), {"Publik", "Rahasia"}),
        "coordinator of Banjarbaru": (coordinator("63.72"), {"Publik", "Rahasia", "Triase"}),
        "coordinator of Banjarmasin": (coordinator("63.71"), {"Banjarmasin"}),
        "provincial staff": (
            province_staff(),
            {"Publik", "Rahasia", "Triase", "Banjarmasin"},
        ),
        "the reporter": (complaints["owner"], set()),
        "a visitor": (AnonymousUser(), set()),
    }
    for who, (user, wanted) in expected.items():
        assert titles(complaints_for(user, purpose=Purpose.WORK)) == wanted, who


@pytest.mark.django_db
def test_own_is_by_account_or_by_proven_codes_and_nothing_else(complaints):
    assert titles(complaints_for(complaints["owner"], purpose=Purpose.OWN)) == {"Rahasia"}
    codes = frozenset({complaints["triage"].tracking_code})
    assert titles(complaints_for(None, purpose=Purpose.OWN, reporter_codes=codes)) == {"Triase"}
    assert titles(complaints_for(AnonymousUser(), purpose=Purpose.OWN)) == set()
    assert titles(complaints_for(UserFactory(username="tetangga"), purpose=Purpose.OWN)) == set()


@pytest.mark.django_db
def test_see_adds_own_and_work_to_public(complaints):
    assert titles(complaints_for(complaints["owner"], purpose=Purpose.SEE)) == {
        "Publik",
        "Banjarmasin",
        "Rahasia",
    }
    assert titles(complaints_for(coordinator("63.72"), purpose=Purpose.SEE)) == {
        "Publik",
        "Banjarmasin",
        "Rahasia",
        "Triase",
    }


@pytest.mark.django_db
def test_only_the_right_secret_opens_a_private_link(db, media_root):
    result = complaint_submit(**complaint_fields(region_code="63.72", category_code="pju"))
    code = result.complaint.tracking_code
    assert private_link_opens(code, result.access_key)
    assert not private_link_opens(code, result.access_key + "x")
    assert not private_link_opens(code, "")
