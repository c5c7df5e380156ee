"""The layout is the architecture: which room may import which, checked on the source.

Every module of ``hotline`` is parsed with ``ast`` and each import (at the top, inside a
function or under ``TYPE_CHECKING``) is an edge; a cycle counts only the imports that run.
The rooms, from the bottom up: errors/clock/garbage → engine → workflows, handlers, persistence →
service → reports, admin, simulation → daemon, soak → api (mounting console), cli. See the
README's Layout section.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hotline

ROOT = Path(hotline.__file__).parent
# What api/ and cli/ may import of persistence: the store, the package's light defaults, and
# the query verbs whose values (filters, rows) the shells pass or show. Everything else of
# persistence (tables, rows, db, the verb mixins) stays behind the service.
PERSISTENCE_PUBLIC = {
    "hotline.persistence",
    "hotline.persistence.sql",
    "hotline.persistence.queries",
    "hotline.persistence.tokens",
    "hotline.persistence.whistles",
    "hotline.persistence.backlog",
    "hotline.persistence.replicas",
    "hotline.persistence.open311",  # the Open311 listing's filter and rows
}
SHELLS = ("api", "cli", "console")
HIGHER = {
    "hotline.persistence": (
        "service",
        "api",
        "cli",
        "daemon",
        "reports",
        "admin",
        "simulation",
        "soak",
        "console",
    ),
    "hotline.service": SHELLS + ("daemon", "reports", "admin", "simulation", "soak"),
    "hotline.service_verbs": SHELLS + ("daemon", "reports", "admin", "simulation", "soak"),
    "hotline.reports": SHELLS + ("soak",),
    "hotline.admin": SHELLS + ("soak",),
    "hotline.simulation": SHELLS + ("soak",),
    "hotline.daemon": SHELLS + ("soak",),
    "hotline.soak": SHELLS + ("daemon",),
    # The console is a shell beside the API: the API mounts it; it borrows the API's ticket
    # lookup (``deps``) but never the API's app, and the CLI never loads it.
    "hotline.console": ("cli", "soak", "hotline.api.app"),
}
HEAVY = (
    "fastapi",
    "matplotlib",
    "uvicorn",
    "sqlalchemy",
    "prometheus_client",
    "apscheduler",
    "jinja2",
    "babel",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py") if "migrations" not in p.parts}


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, with_types: bool) -> list[ast.AST]:
    """Every node under ``node``; without ``with_types``, not those under TYPE_CHECKING."""
    found = []
    for child in ast.iter_child_nodes(node):
        if not with_types and _is_type_checking(child):
            continue
        found += [child, *_walk(child, with_types)]
    return found


def imports_of(name: str, with_types: bool = True, project: bool = True) -> set[str]:
    """The hotline modules ``name`` imports (``from pkg import mod`` names the module), or
    with ``project=False`` the top-level names of every module it imports."""
    found: set[str] = set()
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    for node in _walk(tree, with_types):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    if not project:
        return {m.split(".")[0] for m in found}
    return {m for m in found if m.split(".")[0] == "hotline" and m in MODULES}


GRAPH = {name: imports_of(name) for name in MODULES}
# What runs: imports under TYPE_CHECKING are for annotations only and cannot make a cycle.
RUNTIME = {name: imports_of(name, with_types=False) for name in MODULES}


def in_room(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def offences(rooms: tuple[str, ...], allowed: object) -> list[str]:
    return [
        f"{module} imports {target}"
        for module, targets in sorted(GRAPH.items())
        if any(in_room(module, f"hotline.{room}") for room in rooms)
        for target in sorted(targets)
        if not allowed(target)  # type: ignore[operator]
    ]


def cycles() -> list[list[str]]:
    """Strongly connected components of ``RUNTIME`` with more than one module (Tarjan), or a
    module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in RUNTIME[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in RUNTIME[node]:
                found.append(sorted(component))

    for node in sorted(RUNTIME):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_rooms():
    assert "hotline.persistence.sql" in GRAPH["hotline.service"]
    assert "hotline.engine.decide" in GRAPH["hotline.service"]


def test_no_module_imports_itself_back_through_others():
    assert cycles() == []


def test_the_engine_imports_nothing_of_hotline_but_errors_and_itself():
    allowed = lambda m: m == "hotline.errors" or in_room(m, "hotline.engine")  # noqa: E731
    assert offences(("engine",), allowed) == []


def test_lower_rooms_import_no_higher_room():
    found = []
    for room, higher in HIGHER.items():
        forbidden = tuple(h if h.startswith("hotline.") else f"hotline.{h}" for h in higher)
        found += offences(
            (room.removeprefix("hotline."),),
            lambda m, forbidden=forbidden: not any(in_room(m, f) for f in forbidden),
        )
    assert found == []


def test_sql_lives_in_persistence_only():
    outside = [
        name
        for name in sorted(MODULES)
        if not in_room(name, "hotline.persistence")
        and imports_of(name, project=False) & {"sqlalchemy", "sqlmodel", "sqlite3", "psycopg"}
    ]
    assert outside == []


def test_shells_use_only_the_public_verbs_of_persistence():
    public = lambda m: not in_room(m, "hotline.persistence") or m in PERSISTENCE_PUBLIC  # noqa: E731
    assert offences(("api", "cli", "console"), public) == []


def test_hotline_help_loads_no_web_database_or_chart_library():
    probe = "import sys, hotline.cli.main; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
