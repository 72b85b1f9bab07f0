"""The import graph inside each app: no cycles, and nothing imports a tasks module.

Arrows point down: views → services → models; tasks call services and are queued by name, so a
change to a task never drags the web process into importing the worker's code. Every import
counts, those inside functions too: a lazy import only hides a cycle. Imports between apps are
checked in tests/lapor/test_guards.py.
"""

import ast
import importlib
from pathlib import Path

import pytest

from tests.lapor.guards import APPS, cycles, module_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "complaints"
TASKS = {f"{app}.tasks" for app in APPS if (ROOT / app / "tasks.py").exists()}


def modules(package: str = PACKAGE) -> dict[str, Path]:
    """Every module of an app but its migrations (which Django loads on its own)."""
    return {
        module_name(path): path
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def imported_by(name: str, path: Path, known: dict[str, Path] | None = None) -> set[str]:
    """The modules of ``known`` (this app's) that ``name`` imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = modules() if known is None else known
    return {module for module in found if module in known and module != name}


def graph(package: str = PACKAGE) -> dict[str, set[str]]:
    known = modules(package)
    return {name: imported_by(name, path, known) for name, path in known.items()}


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_relative_and_lazy_imports():
    edges = graph()
    assert "complaints.models" in edges["complaints.services"]  # from .models
    assert "complaints.enforcement" in edges["complaints.tasks"]


@pytest.mark.parametrize("app", APPS)
def test_no_app_has_an_import_cycle_inside(app):
    assert cycles(graph(app)) == []


def test_nothing_imports_the_tasks_module():
    project = {}
    for package in (
        "lapor",
        "agencies",
        "notifications",
        "complaints",
        "accounts",
        "portal",
        "workspace",
        "awards",
        "api",
    ):
        if (ROOT / package).is_dir():
            project.update(modules(package))
    importers = {
        name for name, path in project.items() if TASKS in imported_by(name, path, project)
    }
    assert importers == set()


@pytest.mark.parametrize(
    "name",
    # gunicorn.conf is gunicorn's configuration file, read by path, not imported.
    sorted(name for app in APPS for name in modules(app) if name != "lapor.gunicorn.conf"),
)
def test_every_module_imports_on_its_own(name):
    importlib.import_module(name)
