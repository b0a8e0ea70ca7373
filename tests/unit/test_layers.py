"""The Layout of DESIGN.md as a matrix, checked on the import graph.

Every import statement of every module counts, also one inside a function or under
`if TYPE_CHECKING`. The tables below are the rules; the tests only apply them:

- LAYERS: each folder (a row) and the project modules it may import. Every other
  part of the project (AREAS, a column) is forbidden to it, and so is each group of
  outside libraries named in its row. `bot/domain/` may use the standard library only
  (without its I/O modules) and the pure-Python text libraries of TEXT_LIBRARIES.
- LIBRARY_HOMES: the one folder that may import a platform, database or LLM library.
- handlers never open a unit of work nor name one or a repository.
- No test module (`tests/**/test_*.py`, `tests/conftest.py`) is imported by anything;
  `bench/` takes from `tests/` only `tests/support/`.
- No import circle among the project's modules (a package's `__init__` counts).

A violation names the file and line, the import and the rule it breaks.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("bot", "handlers", "store", "prompts", "tests", "bench")

# ----------------------------------------------------------------------------- libraries

PLATFORM = frozenset({"slack_bolt", "slack_sdk", "botbuilder", "botframework"})
DATABASE = frozenset({"sqlalchemy", "alembic", "psycopg", "psycopg2", "sqlite3"})
LLM = frozenset({"openai", "langchain", "langchain_core", "langchain_openai"})
WEB = frozenset({"aiohttp", "httpx", "requests", "urllib3"})
VALIDATION = frozenset({"pydantic", "pydantic_settings"})
# standard-library modules that reach outside the process: network, database, processes
IO_STDLIB = frozenset(
    {
        "asyncio",
        "ftplib",
        "http",
        "multiprocessing",
        "selectors",
        "smtplib",
        "socket",
        "socketserver",
        "sqlite3",
        "ssl",
        "subprocess",
        "urllib",
        "webbrowser",
        "wsgiref",
        "xmlrpc",
    }
)
STDLIB = frozenset(sys.stdlib_module_names)
# pure-Python text libraries the domain rules may use (DESIGN.md: "e.g. a lemmatiser")
TEXT_LIBRARIES: frozenset[str] = frozenset({"simplemma"})

LIBRARY_GROUPS = {
    "platform libraries": PLATFORM,
    "database libraries": DATABASE,
    "LLM libraries": LLM,
    "web libraries": WEB,
    "pydantic": VALIDATION,
    "I/O modules of the standard library": IO_STDLIB,
}

# ----------------------------------------------------------------------------- the project's parts

# The columns of the matrix: every project module belongs to the area of its longest prefix.
AREAS = {
    "bot/domain": "bot.domain",
    "bot/messages": "bot.messages",
    "bot/service": "bot.service",
    "bot/ports.py": "bot.ports",
    "bot/settings.py": "bot.settings",
    "bot/clock.py": "bot.clock",
    "bot/app.py": "bot.app",
    "bot/cli.py": "bot.cli",
    "bot/ (other root files)": "bot",
    "handlers (channels)": "handlers",
    "handlers/llm": "handlers.llm",
    "store": "store",
    "prompts": "prompts",
    "tests": "tests",
    "tests/support": "tests.support",
    "bench": "bench",
}


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]  # the module prefixes it covers (longest prefix wins)
    may_import: tuple[str, ...]  # the project modules it may import (a prefix covers its submodules)
    forbidden: tuple[str, ...] = ()  # groups of LIBRARY_GROUPS it may not import
    libraries: frozenset[str] | None = None  # the only outside libraries it may import (None: any other)
    except_: tuple[str, ...] = ()  # project modules under `may_import` that it still may not import

    def allows(self, module: str) -> bool:
        return any(_under(module, p) for p in self.may_import) and not any(_under(module, p) for p in self.except_)


CORE_ROOT = ("bot.ports", "bot.settings", "bot.clock")
# What a channel may use of the core (DESIGN.md: "bot/ public names (facade, results, errors,
# messages, interview)"), plus the settings it is started with, and the ports and records an
# outbound sender implements and receives.
CHANNEL_USES = (
    "bot.service.core",  # the facade Govbot
    "bot.service.results",
    "bot.domain.errors",
    "bot.messages",
    "bot.domain.interview",
    "bot.domain.questions",
    "bot.settings",
    "bot.ports",
    "bot.domain.records",
)

LAYERS = (
    Layer(
        "bot/domain",
        ("bot.domain",),
        may_import=("bot.domain",),
        forbidden=(
            "I/O modules of the standard library",
            "pydantic",
            "platform libraries",
            "database libraries",
            "LLM libraries",
            "web libraries",
        ),
        libraries=STDLIB | TEXT_LIBRARIES,
    ),
    Layer(
        "bot/messages",
        ("bot.messages",),
        may_import=("bot.domain", "bot.messages"),
        forbidden=("platform libraries", "database libraries", "LLM libraries", "web libraries", "pydantic"),
    ),
    Layer(
        "bot/service",
        ("bot.service",),
        may_import=("bot.domain", "bot.messages", "bot.service", *CORE_ROOT),
        forbidden=("platform libraries", "database libraries", "LLM libraries", "web libraries"),
    ),
    Layer(
        "bot/ root (ports, settings, clock)",
        ("bot",),
        may_import=("bot",),  # everything in bot/
        forbidden=("platform libraries", "database libraries", "LLM libraries", "web libraries"),
    ),
    Layer(
        "bot/app.py and bot/cli.py",
        ("bot.app", "bot.cli"),
        may_import=("bot", "store", "handlers", "prompts"),
    ),
    Layer(
        "handlers (channels)",
        ("handlers",),
        may_import=("handlers", *CHANNEL_USES),
        except_=("handlers.llm",),
        forbidden=("database libraries", "LLM libraries"),
    ),
    Layer(
        "handlers/llm",
        ("handlers.llm",),
        may_import=("handlers.llm", "bot.ports", "bot.domain"),
        forbidden=("platform libraries", "database libraries"),
    ),
    Layer(
        "store",
        ("store",),
        may_import=("store", "bot.ports", "bot.domain"),
        forbidden=("platform libraries", "LLM libraries", "web libraries"),
    ),
    Layer("prompts", ("prompts",), may_import=("prompts",), libraries=STDLIB),
    Layer("tests", ("tests",), may_import=PROJECT),
    Layer("bench", ("bench",), may_import=("bot", "handlers", "store", "prompts", "bench", "tests.support")),
)

# Where each platform, database and LLM library may be imported (tests/ and bench/ use them all).
LIBRARY_HOMES = {
    "slack_bolt": ("handlers.slack",),
    "slack_sdk": ("handlers.slack",),
    "botbuilder": ("handlers.teams",),
    "botframework": ("handlers.teams",),
    "openai": ("handlers.llm",),
    "langchain": ("handlers.llm",),
    "langchain_core": ("handlers.llm",),
    "langchain_openai": ("handlers.llm",),
    "sqlalchemy": ("store", "bot.app", "bot.cli"),
    "alembic": ("store", "bot.app", "bot.cli"),
    "psycopg": ("store", "bot.app", "bot.cli"),
}
EVERYWHERE = ("tests", "bench")

# ----------------------------------------------------------------------------- the import graph


@dataclass(frozen=True)
class Import:
    path: str  # the importing file, relative to the repository
    line: int
    source: str  # the importing module
    module: str  # the most specific module imported (a project module or an outside one)
    names: tuple[str, ...] = ()  # the names a from-import takes from `module`
    package: str | None = None  # `from package import module`: the package, run first

    def __str__(self) -> str:
        if self.names:
            what = f"from {self.module} import {', '.join(self.names)}"
        elif self.package:
            what = f"from {self.package} import {self.module.rpartition('.')[2]}"
        else:
            what = f"import {self.module}"
        return f"{self.path}:{self.line}: {what}"


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@cache
def modules() -> dict[str, Path]:
    found = {}
    for root in PROJECT:
        for path in sorted((ROOT / root).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    return found


def _project(name: str) -> bool:
    return name.split(".")[0] in PROJECT


def _known(name: str) -> str:
    """The longest prefix of a dotted project name that is a module (`a.b.attr` -> `a.b`)."""
    while name not in modules() and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    rel = path.relative_to(ROOT).as_posix()
    return read_imports(path.read_text(encoding="utf-8"), module, rel, package=path.name == "__init__.py")


def read_imports(source: str, module: str, rel: str, package: bool = False) -> Iterator[Import]:
    """Every import in `source` (the text of `module`, a package's `__init__` when `package`)."""
    package_name = module if package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, filename=rel)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = _known(alias.name) if _project(alias.name) else alias.name
                yield Import(rel, node.lineno, module, name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package_name.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            plain: list[str] = []
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules():
                    yield Import(rel, node.lineno, module, sub, package=target)
                else:
                    plain.append(alias.name)
            if plain:
                name = _known(target) if _project(target) else target
                yield Import(rel, node.lineno, module, name, tuple(plain))


@cache
def imports() -> tuple[Import, ...]:
    return tuple(imp for module, path in modules().items() for imp in _imports_of(module, path))


def _longest(module: str, prefixes: dict[str, str]) -> str | None:
    best = None
    for key, prefix in prefixes.items():
        if _under(module, prefix) and (best is None or len(prefix) > len(prefixes[best])):
            best = key
    return best


def layer_of(module: str) -> Layer:
    return next(
        layer
        for layer in sorted(LAYERS, key=lambda la: -max(len(p) for p in la.modules))
        if any(_under(module, p) for p in layer.modules)
    )


def area_of(module: str) -> str:
    area = _longest(module, AREAS)
    assert area is not None, module
    return area


def _allowed_text(layer: Layer) -> str:
    but = f" (but not {', '.join(layer.except_)})" if layer.except_ else ""
    return ", ".join(layer.may_import) + but


# ----------------------------------------------------------------------------- the matrix


def _matrix() -> list[tuple[Layer, str]]:
    """(layer, area) for every area a layer may not wholly import."""
    cases = []
    for layer in LAYERS:
        for area, prefix in AREAS.items():
            inner = [p for p in AREAS.values() if p != prefix and _under(p, prefix)]
            wholly = layer.allows(prefix) and not any(not layer.allows(p) for p in inner)
            owned = any(_under(prefix, m) for m in layer.modules) and layer.allows(prefix)
            if not (wholly or owned):
                cases.append((layer, area))
    return cases


@pytest.mark.parametrize(("layer", "area"), _matrix(), ids=lambda v: v.name if isinstance(v, Layer) else f"not-{v}")
def test_a_layer_imports_only_the_parts_of_the_project_the_layout_allows(layer, area):
    bad = [
        f"{imp} — {layer.name} may import only {_allowed_text(layer)} (DESIGN.md Layout), not {area}"
        for imp in imports()
        if _project(imp.module)
        and layer_of(imp.source) is layer
        and area_of(imp.module) == area
        and not layer.allows(imp.module)
    ]
    assert bad == [], "\n".join(bad)


OTHER_LIBRARIES = "other libraries"


def _library_cases() -> list[tuple[Layer, str]]:
    cases = [(layer, group) for layer in LAYERS for group in layer.forbidden]
    cases += [(layer, OTHER_LIBRARIES) for layer in LAYERS if layer.libraries is not None]
    return cases


@pytest.mark.parametrize(
    ("layer", "group"), _library_cases(), ids=lambda v: v.name if isinstance(v, Layer) else f"not-{v}"
)
def test_a_layer_uses_no_library_the_layout_forbids_it(layer, group):
    named = frozenset().union(*(LIBRARY_GROUPS[g] for g in layer.forbidden))

    def forbidden(top: str) -> bool:
        if group == OTHER_LIBRARIES:  # beyond the named groups: only what the layer's row lists
            return top not in named and top not in (layer.libraries or ())
        return top in LIBRARY_GROUPS[group]

    rule = (
        f"may import no library but {', '.join(sorted(layer.libraries - STDLIB)) or 'the standard library'}"
        if group == OTHER_LIBRARIES and layer.libraries is not None
        else f"may not import {group}"
    )
    bad = [
        f"{imp} — {layer.name} {rule} (DESIGN.md Layout)"
        for imp in imports()
        if not _project(imp.module) and layer_of(imp.source) is layer and forbidden(imp.module.split(".")[0])
    ]
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("library", sorted(LIBRARY_HOMES))
def test_a_platform_database_or_llm_library_is_imported_only_in_its_home(library):
    homes = LIBRARY_HOMES[library] + EVERYWHERE
    bad = [
        f"{imp} — {library} belongs in {' or '.join(LIBRARY_HOMES[library])} only"
        for imp in imports()
        if imp.module.split(".")[0] == library and not any(_under(imp.source, home) for home in homes)
    ]
    assert bad == [], "\n".join(bad)


def _handlers() -> list[tuple[str, Path]]:
    return [(m, p) for m, p in modules().items() if _under(m, "handlers")]


def test_handlers_never_open_a_unit_of_work():
    bad = []
    for _module, path in _handlers():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "uow":
                bad.append(
                    f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: calls .uow() — handlers call the facade, "
                    "never a unit of work (DESIGN.md Layout)"
                )
    assert bad == [], "\n".join(bad)


def test_handlers_never_name_a_unit_of_work_or_a_repository():
    bad = [
        f"{imp} — handlers never take a unit of work or a repository (DESIGN.md Layout)"
        for imp in imports()
        if _under(imp.source, "handlers") and any("UnitOfWork" in name or "Repo" in name for name in imp.names)
    ]
    assert bad == [], "\n".join(bad)


def _test_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return _under(module, "tests") and (last.startswith("test_") or last == "conftest")


def test_no_module_imports_a_test_module():
    bad = [
        f"{imp} — test modules and conftest are never imported; shared code goes to tests/support/"
        for imp in imports()
        if _test_module(imp.module)
    ]
    assert bad == [], "\n".join(bad)


# ----------------------------------------------------------------------------- circles


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports; `from pkg import mod` imports `pkg` too."""
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for imp in imports():
        for target in (imp.module, imp.package):
            if target and target in modules() and target != imp.source:
                graph[imp.source].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph)))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _lines_within(component: list[str]) -> list[str]:
    members = set(component)
    return [
        f"  {imp}"
        for imp in imports()
        if imp.source in members and (imp.module in members or imp.package in members) and imp.module != imp.source
    ]


def test_no_import_circle():
    found = circles(import_graph())
    report = [f"{len(c)} modules import each other: {', '.join(c)}\n" + "\n".join(_lines_within(c)) for c in found]
    assert found == [], "\n".join(report)


def test_the_reader_sees_imports_in_functions_relative_ones_and_submodules():
    source = (
        "import json\n"
        "from bot.domain import interview, errors as e\n"
        "from bot.domain.errors import NotFound\n"
        "def later():\n"
        "    from . import compose\n"
        "    from ..service.results import Reply\n"
        "    import bot.ports\n"
    )
    found = [
        (i.line, i.module, i.names, i.package) for i in read_imports(source, "bot.messages.x", "bot/messages/x.py")
    ]
    assert found == [
        (1, "json", (), None),
        (2, "bot.domain.interview", (), "bot.domain"),
        (2, "bot.domain.errors", (), "bot.domain"),
        (3, "bot.domain.errors", ("NotFound",), None),
        (5, "bot.messages.compose", (), "bot.messages"),
        (6, "bot.service.results", ("Reply",), None),
        (7, "bot.ports", (), None),
    ]


def test_a_module_belongs_to_the_layer_and_area_of_its_longest_prefix():
    assert [layer_of(m).name for m in ("bot.app", "bot.ports", "bot.domain.proposal", "handlers.llm.x")] == [
        "bot/app.py and bot/cli.py",
        "bot/ root (ports, settings, clock)",
        "bot/domain",
        "handlers/llm",
    ]
    assert [area_of(m) for m in ("bot", "bot.service.core", "tests.support.proposals", "tests.unit.test_x")] == [
        "bot/ (other root files)",
        "bot/service",
        "tests/support",
        "tests",
    ]


def test_the_circle_finder_finds_a_circle_through_a_package():
    graph = {"a": {"a.b"}, "a.b": {"c"}, "c": {"a"}, "d": {"c"}}
    assert circles(graph) == [["a", "a.b", "c"]]
