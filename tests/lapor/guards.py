"""Source guards: who may read and write complaint data, and which app may import which.

Each function reads Python source as a syntax tree and returns what it finds as
"line N: what" strings, so a test can show exactly where a rule is broken. Names are followed
through imports and aliases (``from complaints.models import Complaint as C``, ``from
complaints import models as m``, ``M = Complaint``), so renaming a model does not slip past.
See docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The models that carry a complaint's data, by the module that defines them.
GUARDED_MODELS = {
    "complaints.models": {
        "Complaint",
        "ComplaintEvent",
        "Attachment",
        "DeadlineBreach",
        "Assignment",
        "Support",
        "ContactView",
    },
    "notifications.models": {"Notification"},
}
GUARDED_TABLES = (
    "complaints_complaint",
    "complaints_complaintevent",
    "complaints_attachment",
    "complaints_deadlinebreach",
    "complaints_assignment",
    "complaints_support",
    "complaints_contactview",
    "notifications_notification",
)
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Attributes that lead from another row to complaint data (``event.complaint``).
COMPLAINT_RELATIONS = frozenset({"complaint", "complaints"})
# Reverse relations that reach complaints or breaches from a region, agency or category.
REVERSE = {"complaints", "duplicates", "breaches"}
LOOKUP_PREFIXES = ("complaints__", "breaches__")
AGGREGATES = {"Count", "Sum", "Avg", "Min", "Max", "Prefetch", "FilteredRelation"}
RELATED_CALLS = {"prefetch_related", "select_related", "annotate", "values", "values_list"}
WRITE_METHODS = {
    "save",
    "delete",
    "update",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
# Calls whose result is complaint data: the scope and Django's shortcut around it.
SCOPE_CALLS = {"complaints_for"}


def sql_write(tables) -> re.Pattern:
    """SQL that inserts into, updates, deletes from or truncates one of ``tables``."""
    return re.compile(
        r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(\s+TABLE)?)\s+\"?("
        + "|".join(tables)
        + r")\b",
        re.IGNORECASE,
    )


SQL_WRITE = sql_write(GUARDED_TABLES)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass
class Names:
    """What the names of one module stand for: guarded models and modules that hold them."""

    models: dict[str, str] = field(default_factory=dict)  # local name -> model name
    modules: dict[str, str] = field(default_factory=dict)  # local name -> module path
    guarded: dict[str, set[str]] = field(default_factory=lambda: GUARDED_MODELS)

    def model_of(self, node: ast.AST) -> str | None:
        """The guarded model an expression names, if it names one."""
        if isinstance(node, ast.Name):
            return self.models.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = dotted(node.value)
            if owner is not None:
                module = self.modules.get(owner, owner)
                if node.attr in self.guarded.get(module, ()):
                    return node.attr
        return None


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def names_of(tree: ast.AST, package: str, guarded: dict | None = None) -> Names:
    guarded = GUARDED_MODELS if guarded is None else guarded
    names = Names(guarded=guarded)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name in guarded.get(base, ()):
                    names.models[local] = alias.name
                elif f"{base}.{alias.name}" in guarded:
                    names.modules[local] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in guarded:
                    names.modules[alias.asname or alias.name] = alias.name
    # Plain aliases (``M = Complaint``), followed until nothing new is learnt.
    assignments = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and len(node.targets) == 1
        if isinstance(node.targets[0], ast.Name)
    ]
    changed = True
    while changed:
        changed = False
        for node in assignments:
            model = names.model_of(node.value)
            target = node.targets[0].id
            if model and target not in names.models:
                names.models[target] = model
                changed = True
    return names


def _strings(node: ast.Call) -> list[str]:
    return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _get_model(node: ast.AST, guarded: dict | None = None) -> str | None:
    """``apps.get_model("complaints", "Complaint")`` or ``get_model("complaints.Complaint")``."""
    if not isinstance(node, ast.Call):
        return None
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    if name != "get_model":
        return None
    guarded = GUARDED_MODELS if guarded is None else guarded
    every = {model for models in guarded.values() for model in models}
    for value in _strings(node):
        model = value.rpartition(".")[2]
        if model in every:
            return model
    return None


def _chain(node: ast.AST):
    """The receivers of a call chain, outermost first: ``a.b().c`` gives c, b(), b, a."""
    while True:
        yield node
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return


def _is_manager(node: ast.AST, names: Names) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in MANAGERS
        and (
            names.model_of(node.value) is not None
            or _get_model(node.value, names.guarded) is not None
        )
    )


def _is_scope_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    return name in SCOPE_CALLS


def _package(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def unscoped_reads(source: str, package: str = "") -> list[str]:
    """Where ``source`` reaches complaint data without ``complaints.scope.complaints_for``."""
    tree = ast.parse(source)
    names = names_of(tree, package)
    found = []

    def add(node, what):
        found.append(f"line {node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in MANAGERS:
                model = names.model_of(node.value) or _get_model(node.value)
                if model:
                    add(node, f"{model}.{node.attr}")
            elif node.attr in REVERSE:
                add(node, f".{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith(LOOKUP_PREFIXES):
                add(node, f"lookup {node.value!r}")
        elif isinstance(node, ast.keyword) and (node.arg or "").startswith(LOOKUP_PREFIXES):
            add(node.value, f"lookup {node.arg}=")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in AGGREGATES | RELATED_CALLS and set(_strings(node)) & REVERSE:
                add(node, f"{name}({sorted(set(_strings(node)) & REVERSE)[0]!r})")
    return found


def manager_reads(source: str, package: str, guarded: dict, relations=frozenset()) -> list[str]:
    """Where ``source`` reads one of the ``guarded`` models through its manager (or through
    one of ``relations`` from another row), instead of through the selectors."""
    tree = ast.parse(source)
    names = names_of(tree, package, guarded)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            model = names.model_of(node.value) or _get_model(node.value, guarded)
            if model:
                found.append(f"line {node.lineno}: {model}.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in relations:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def unsanctioned_writes(
    source: str,
    package: str = "",
    *,
    guarded: dict | None = None,
    tables=GUARDED_TABLES,
    relations=COMPLAINT_RELATIONS,
) -> list[str]:
    """Where ``source`` changes complaint data (or the ``guarded`` models, their ``tables``,
    what their ``relations`` lead to) itself instead of through the services."""
    tree = ast.parse(source)
    names = names_of(tree, package, guarded)
    writes_sql = SQL_WRITE if tables is GUARDED_TABLES else sql_write(tables)
    found = []

    def add(node, what):
        found.append(f"line {node.lineno}: {what}")

    def is_data(expr: ast.AST, bound: set[str]) -> bool:
        for link in _chain(expr):
            if _is_manager(link, names) or _is_scope_call(link):
                return True
            if isinstance(link, ast.Call) and names.model_of(link.func):
                return True  # Complaint(...)
            if isinstance(link, ast.Attribute) and link.attr in relations:
                return True
            if isinstance(link, ast.Name) and link.id in bound:
                return True
            if isinstance(link, ast.Call) and any(is_data(arg, bound) for arg in link.args):
                # get_object_or_404(complaints_for(...), ...), list(Complaint.objects...)
                name = getattr(link.func, "id", None) or getattr(link.func, "attr", None)
                if name in {"get_object_or_404", "list", "get_list_or_404", "next", "iter"}:
                    return True
        return False

    scopes = [tree] + [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    for scope in scopes:
        bound: set[str] = set()
        body = scope.body if not isinstance(scope, ast.Module) else scope.body
        for node in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(node, ast.Assign) and is_data(node.value, bound):
                for target in node.targets:
                    bound.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.For) and is_data(node.iter, bound):
                bound.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.With):
                for item in node.items:
                    if item.optional_vars is not None and is_data(item.context_expr, bound):
                        bound.update(
                            n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)
                        )
        for node in ast.walk(ast.Module(body=body, type_ignores=[])):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WRITE_METHODS
                and is_data(node.func.value, bound)
            ):
                add(node, f".{node.func.attr}() on complaint data")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and writes_sql.search(node.value)
            ):
                add(node, "SQL that writes complaint data")
    return sorted(set(found), key=lambda line: int(line.split()[1].rstrip(":")))


# --- apps and their imports -------------------------------------------------------------------

APPS = (
    "lapor",
    "agencies",
    "notifications",
    "complaints",
    "accounts",
    "portal",
    "workspace",
    "awards",
    "api",
)
# The project package holds shared infrastructure (settings, Celery, client address, rate
# limits, logging) that any app may use, and the composition that uses every app (root URLs,
# demo seeding, the commands that run the portal): two nodes, so that neither hides a cycle.
SITE_MODULES = ("lapor.urls", "lapor.demo", "lapor.management", "lapor.wsgi", "lapor.asgi")
SITE = "lapor.site"


def app_of(module: str) -> str | None:
    top = module.split(".")[0]
    if top not in APPS:
        return None
    if top == "lapor" and module.startswith(SITE_MODULES):
        return SITE
    return top


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in its code (lazy imports included)."""
    package = _package(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
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
    return found


def application_files(root: Path = ROOT) -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((root / app).rglob("*.py"))
        if "migrations" not in path.relative_to(root).parts
    ]


def app_edges(files: list[Path]) -> dict[str, dict[str, set[str]]]:
    """App → app it imports → the imports that make the edge ("module -> module")."""
    edges: dict[str, dict[str, set[str]]] = {}
    for path in files:
        module = module_name(path)
        source = app_of(module)
        for imported in imports_of(path):
            target = app_of(imported)
            if source and target and target != source:
                edges.setdefault(source, {}).setdefault(target, set()).add(
                    f"{module} -> {imported}"
                )
    return edges


def cycles(edges) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan), i.e. every cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
