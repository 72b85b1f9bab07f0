"""The architecture's guards, each proven by planting the violation it guards against.

- Reads: complaint data (complaints, events, attachments, breaches, assignments, notifications)
  is read through ``complaints.scope.complaints_for`` or a selector built on it, except in the
  few modules listed below.
- Writes: it is changed only by the services (and the sweeps and the outbox, which are services
  of their own), never by a view, form, task or command.
- Imports: each app imports only the apps below it (docs/architecture.md), so there is no cycle.
- Pages: the HTML lists page with the one keyset pager (``complaints.pagination``), never with
  Django's ``Paginator``.
- The repository refers to no file outside it.
"""

import re
import shutil
from pathlib import Path

import pytest

from .guards import (
    ROOT,
    SITE,
    app_edges,
    application_files,
    cycles,
    manager_reads,
    module_name,
    unsanctioned_writes,
    unscoped_reads,
)


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


# Modules that may read complaint data without the scope, and why.
READERS = {
    "complaints/scope.py": "the scope itself",
    "complaints/querysets.py": "the filters the scope is made of",
    "complaints/models.py": "the models",
    "complaints/selectors.py": "the reads, each starting from the scope",
    "complaints/services.py": "the one writer: locks and changes rows",
    "complaints/enforcement.py": "the deadline sweep, the system's own reads",
    "complaints/admin.py": "the admin site, read-only for provincial staff",
    "notifications/services.py": "the outbox: its own rows",
    "notifications/admin.py": "the outbox in the admin, read-only",
    "awards/indicators.py": "annual indicators over every complaint",
    "lapor/demo.py": "demo seeding",
}
# Modules that may change complaint data, and why.
WRITERS = {
    "complaints/services.py": "the one writer of complaints, events and breaches",
    "complaints/enforcement.py": "the deadline sweep: breaches and their events",
    "notifications/services.py": "the outbox: claims and delivery results of its rows",
}


def is_migration(relative: str) -> bool:
    return "/migrations/" in f"/{relative}"


def offenders(check, allowed: dict[str, str], files=None) -> dict[str, list[str]]:
    found = {}
    for path in files or application_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in allowed or is_migration(relative):
            continue
        lines = check(path.read_text(encoding="utf-8"), package_of(path))
        if lines:
            found[relative] = lines
    return found


# --- reads -------------------------------------------------------------------------------------


def test_no_module_reads_complaint_data_around_the_scope():
    files = application_files()
    assert ROOT / "portal/views.py" in files  # the scan does see the application
    assert offenders(unscoped_reads, READERS) == {}, (
        "Read complaint data through complaints.scope.complaints_for or a selector in "
        "complaints/selectors.py"
    )


@pytest.mark.parametrize(
    "source",
    [
        "from complaints.models import Complaint\nComplaint.objects.filter(pk=1)",
        "from complaints.models import Complaint as C\nC.objects.all()",
        "from complaints.models import Complaint\nM = Complaint\nN = M\nN._base_manager.all()",
        "from complaints import models as m\nm.Complaint.objects.all()",
        "import complaints.models as cm\ncm.ComplaintEvent.objects.all()",
        "import complaints.models\ncomplaints.models.Attachment.objects.first()",
        "from .models import DeadlineBreach\nDeadlineBreach.objects.count()",
        "from complaints.models import Assignment\nAssignment._default_manager.all()",
        "from notifications.models import Notification\nNotification.objects.filter(x=1)",
        'apps.get_model("complaints", "ComplaintEvent").objects.all()',
        'get_model("complaints.Complaint").objects.all()',
        "region.complaints.count()",
        "agency.breaches.all()",
        "original.duplicates.all()",
        'Region.objects.annotate(n=Count("complaints"))',
        'Agency.objects.filter(complaints__status="assigned")',
        'Region.objects.filter(breaches__kind="follow_up")',
        'Region.objects.prefetch_related("complaints")',
    ],
)
def test_the_read_guard_catches_each_way_around_the_scope(source):
    assert unscoped_reads(source, "complaints") != []


def test_the_read_guard_lets_scoped_reads_through():
    source = (
        "from complaints.models import Complaint\n"
        "from complaints.scope import complaints_for\n"
        "qs = complaints_for(user, purpose=Purpose.WORK).filter(region_id=1)\n"
        'qs.values("region_id").annotate(n=Count("pk"))\n'
        'template = "complaints/detail.html"\n'
        "Complaint.DoesNotExist\n"
    )
    assert unscoped_reads(source, "portal") == []


# --- writes ------------------------------------------------------------------------------------


def test_only_the_services_write_complaint_data():
    assert offenders(unsanctioned_writes, WRITERS) == {}, (
        "Change complaint data through complaints/services.py"
    )


@pytest.mark.parametrize(
    "source",
    [
        "complaints_for(user, purpose=Purpose.WORK).update(status='closed')",
        "complaints_for(user).filter(pk=1).delete()",
        "from complaints.models import Complaint as C\nC.objects.filter(pk=1).update(title='x')",
        "from complaints.models import ComplaintEvent\nComplaintEvent.objects.create(note='x')",
        "from complaints.models import DeadlineBreach\nDeadlineBreach.objects.bulk_create([])",
        "from notifications.models import Notification\nNotification.objects.get_or_create(x=1)",
        (
            "def act(request, code):\n"
            "    complaint = get_object_or_404(complaints_for(request.user), tracking_code=code)\n"
            "    complaint.status = 'closed'\n"
            "    complaint.save()\n"
        ),
        (
            "def act(rows):\n"
            "    for complaint in complaints_for(None).filter(pk__in=rows):\n"
            "        complaint.delete()\n"
        ),
        "from complaints.models import Complaint\nComplaint(title='x').save()",
        "event.complaint.save(update_fields=['status'])",
        "from complaints.models import Attachment\nAttachment.objects.first().delete()",
        'cursor.execute("UPDATE complaints_complaint SET status = %s", ["closed"])',
        "cursor.execute('insert into \"complaints_complaintevent\" (note) values (%s)', [n])",
        'sql = "DELETE FROM notifications_notification WHERE id = %s"',
    ],
)
def test_the_write_guard_catches_each_way_around_the_services(source):
    assert unsanctioned_writes(source, "workspace") != []


def test_the_write_guard_lets_other_writes_through():
    source = (
        "def view(request):\n"
        "    form.save()\n"
        "    request.session.save()\n"
        "    profile = CitizenProfile.objects.create(user=user)\n"
        "    profile.save()\n"
        "    complaint_transition(complaint=complaint, action=Action.RESOLVE)\n"
        '    cursor.execute("UPDATE complaints_tally SET n = 0")\n'
    )
    assert unsanctioned_writes(source, "workspace") == []


def test_a_write_planted_in_a_real_view_is_found(tmp_path):
    """A copy of the workspace's staff-action view with a direct save is caught."""
    planted = tmp_path / "workspace" / "home.py"
    planted.parent.mkdir()
    shutil.copy(ROOT / "workspace/home.py", planted)
    source = planted.read_text(encoding="utf-8")
    assert unsanctioned_writes(source, "workspace") == []
    source += (
        "\n\ndef shortcut(request, tracking_code):\n"
        "    complaint = get_object_or_404(\n"
        "        complaints_for(request.user, purpose=Purpose.WORK), tracking_code=tracking_code\n"
        "    )\n"
        "    complaint.status = ComplaintStatus.RESOLVED\n"
        "    complaint.save(update_fields=['status'])\n"
    )
    assert unsanctioned_writes(source, "workspace") != []


# --- the follow-up plans (awards) ---------------------------------------------------------------

# The province's follow-up plans keep every version: written only by the awards services (a new
# version each time, never an edit), read only through the awards selectors.
PLAN_MODELS = {"awards.models": {"ActionPlan", "ActionPlanVersion"}}
PLAN_TABLES = ("awards_actionplan", "awards_actionplanversion")
PLAN_RELATIONS = frozenset({"versions"})
PLAN_WRITERS = {
    "awards/services.py": "action_plan_write: a new version on top of the earlier ones",
}
PLAN_READERS = {
    **PLAN_WRITERS,
    "awards/models.py": "the models",
    "awards/selectors.py": "the reads",
}


def plan_writes(source: str, package: str) -> list[str]:
    return unsanctioned_writes(
        source, package, guarded=PLAN_MODELS, tables=PLAN_TABLES, relations=PLAN_RELATIONS
    )


def plan_reads(source: str, package: str) -> list[str]:
    return manager_reads(source, package, PLAN_MODELS, PLAN_RELATIONS)


def test_only_the_awards_services_write_plans_and_the_selectors_read_them():
    assert offenders(plan_writes, PLAN_WRITERS) == {}
    assert offenders(plan_reads, PLAN_READERS) == {}


@pytest.mark.parametrize(
    "source",
    [
        "from awards.models import ActionPlanVersion as V\nV.objects.filter(pk=1).update(text='x')",
        "from .models import ActionPlan as P\nP.objects.get(pk=1).delete()",
        "from awards import models as m\nm.ActionPlanVersion.objects.create(text='x')",
        "def edit(plan):\n    plan.versions.first().save()\n",
        'cursor.execute("UPDATE awards_actionplanversion SET text = %s", ["x"])',
    ],
)
def test_the_plan_guard_catches_writes_around_the_service(source):
    assert plan_writes(source, "awards") != []
    assert unsanctioned_writes(source, "awards") == []  # not complaint data


@pytest.mark.parametrize(
    "source",
    [
        "from awards.models import ActionPlan\nActionPlan.objects.filter(year=2025)",
        "from .models import ActionPlanVersion as V\nV._default_manager.all()",
        "def show(plan):\n    return plan.versions.all()\n",
    ],
)
def test_the_plan_guard_catches_reads_around_the_selectors(source):
    assert plan_reads(source, "awards") != []


def test_a_plan_write_planted_in_the_real_views_is_found():
    source = (ROOT / "awards/views.py").read_text(encoding="utf-8")
    assert plan_writes(source, "awards") == [] and plan_reads(source, "awards") == []
    source += (
        "\n\ndef quick_edit(request, pk):\n"
        "    version = ActionPlanVersion.objects.get(pk=pk)\n"
        "    version.text = request.POST['text']\n"
        "    version.save()\n"
    )
    source = "from awards.models import ActionPlanVersion\n" + source
    assert len(plan_writes(source, "awards")) == 1
    assert len(plan_reads(source, "awards")) == 1


# --- imports between apps ----------------------------------------------------------------------

# What each app may import (besides itself and third-party code). The order is the layering:
# an app imports only apps above it in this list; the site imports everything.
ALLOWED_IMPORTS = {
    "lapor": set(),
    "agencies": {"lapor"},
    "notifications": {"lapor", "agencies"},
    "complaints": {"lapor", "agencies", "notifications"},
    "accounts": {"lapor", "agencies", "notifications", "complaints"},
    "awards": {"lapor", "agencies", "complaints"},
    "portal": {"lapor", "agencies", "notifications", "complaints", "accounts"},
    "workspace": {
        "lapor",
        "agencies",
        "notifications",
        "complaints",
        "accounts",
        "awards",
        "portal",
    },
    "api": {"lapor", "agencies", "notifications", "complaints", "accounts", "awards", "portal"},
    SITE: {
        "lapor",
        "agencies",
        "notifications",
        "complaints",
        "accounts",
        "awards",
        "portal",
        "workspace",
        "api",
    },
}


def forbidden_imports(edges) -> dict[str, dict[str, list[str]]]:
    return {
        source: {
            target: sorted(why)[:3]
            for target, why in targets.items()
            if target not in ALLOWED_IMPORTS.get(source, set())
        }
        for source, targets in edges.items()
        if any(target not in ALLOWED_IMPORTS.get(source, set()) for target in targets)
    }


def test_apps_import_only_the_apps_below_them():
    edges = app_edges(application_files())
    assert set(edges) <= set(ALLOWED_IMPORTS)
    assert forbidden_imports(edges) == {}


def test_there_is_no_import_cycle_between_apps():
    assert cycles({s: set(t) for s, t in app_edges(application_files()).items()}) == []


def test_the_allowed_imports_have_no_cycle_themselves():
    assert cycles(ALLOWED_IMPORTS) == []


def test_an_import_planted_against_the_layering_is_found(tmp_path):
    """complaints importing the workspace (a lazy import inside a function) is caught, both as
    a forbidden edge and, with the workspace importing complaints, as a cycle."""
    for app in ("complaints", "workspace"):
        (tmp_path / app).mkdir()
    (tmp_path / "complaints" / "services.py").write_text(
        "def act():\n    from workspace.queue import queue\n    return queue\n"
    )
    (tmp_path / "workspace" / "queue.py").write_text(
        "from complaints.services import act\n\n\ndef queue():\n    return act\n"
    )
    files = [tmp_path / "complaints" / "services.py", tmp_path / "workspace" / "queue.py"]
    import tests.lapor.guards as guards

    original = guards.ROOT
    guards.ROOT = tmp_path
    try:
        edges = app_edges(files)
    finally:
        guards.ROOT = original
    assert "workspace" in forbidden_imports(edges)["complaints"]
    assert cycles({s: set(t) for s, t in edges.items()}) == [["complaints", "workspace"]]


# --- nothing outside the repository ------------------------------------------------------------

# The names are put together here so that this file does not match its own check.
OUTSIDE = re.compile(
    "|".join([r"PRODUCT" + r"\.md", r"STYLE" + r"\.md", r"\.\./" + r"shared\b", "shared" + "/spec"])
)
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".yml", ".yaml", ".cfg", ".ini", ""}
SKIPPED = {".git", ".venv", "var", "node_modules", "__pycache__"}


def outside_references(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if set(relative.parts) & SKIPPED or not path.is_file():
            continue
        if path.suffix not in TEXT_SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{relative}:{number}")
    return found


def test_the_repository_cites_no_file_outside_it():
    assert outside_references(ROOT) == []


def test_the_outside_reference_check_finds_one(tmp_path):
    (tmp_path / "deadlines.py").write_text('"""See ' + "PRODUCT" + '.md section 4."""\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("As ../" + "shared" + "/spec says.\n")
    assert outside_references(tmp_path) == ["deadlines.py:1", "docs/a.md:1"]


# --- one pager ---------------------------------------------------------------------------------

OTHER_PAGER = re.compile(r"django\.core\.paginator|\bPaginator\b")


def other_pagers(files) -> list[str]:
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OTHER_PAGER.search(line):
                found.append(f"{path.name}:{number}")
    return found


def test_the_html_lists_page_only_with_the_keyset_pager():
    assert other_pagers(application_files()) == []


def test_a_planted_paginator_is_found(tmp_path):
    view = tmp_path / "views.py"
    view.write_text(
        "from django.core.paginator import Paginator\npage = Paginator(rows, 20).get_page(1)\n"
    )
    assert other_pagers([view]) == ["views.py:1", "views.py:2"]
