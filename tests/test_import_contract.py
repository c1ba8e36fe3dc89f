"""The package's import contract (DESIGN.md, "Layout"): imports point down the layers
only, there is no import cycle (type-checking imports included), the engine is pure, and
the engine's tests need no Temporal.

Read from the source with ``ast``, so imports inside functions and under TYPE_CHECKING
count as much as the ones at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "soe_temporal"

# DESIGN's layers, bottom first: a module may import its own layer and the ones below.
LAYERS = [
    ["soe_temporal.errors"],
    ["soe_temporal.llm", "soe_temporal.llm.protocol", "soe_temporal.llm.response",
     "soe_temporal.llm.usage"],
    ["soe_temporal.engine"],
    ["soe_temporal.temporal", "soe_temporal.tools", "soe_temporal.llm.providers",
     "soe_temporal.config", "soe_temporal.validation", "soe_temporal.servers"],
    ["soe_temporal.workflow", "soe_temporal.activities", "soe_temporal.worker"],
    ["soe_temporal.client", "soe_temporal.soe", "soe_temporal.cli", "soe_temporal.testing",
     "soe_temporal.tool_context", "soe_temporal"],
]  # fmt: skip

# The standard library's I/O, which the engine never touches (nor the clock or chance).
IO_MODULES = {"os", "sys", "asyncio", "socket", "subprocess", "threading", "time", "random",
              "pathlib", "io", "shutil", "urllib", "http", "select", "signal"}  # fmt: skip


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, relative imports resolved, wherever they stand."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` may name a module
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def package_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {target for target in imports_of(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def layer_of(module: str) -> int:
    """The layer of the longest prefix that names one."""
    best, depth = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = index, len(prefix)
    return best


def test_every_module_of_the_package_has_a_layer():
    assert [m for m in package_graph() if layer_of(m) < 0] == []


def test_imports_point_down_the_layers_only():
    upward = [
        f"{importer} -> {imported}"
        for importer, targets in package_graph().items()
        for imported in targets
        if layer_of(imported) > layer_of(importer)
    ]
    assert upward == []


def test_there_is_no_import_cycle_in_the_package():
    graph = package_graph()
    # Tarjan's strongly connected components: any of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


ENGINE = sorted((PACKAGE / "engine").rglob("*.py"))


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_engine_imports_no_temporal_no_io_and_nothing_above_it(path: Path):
    bad = []
    for target in imports_of(path):
        top = target.split(".")[0]
        if (
            top == "temporalio"
            or top in IO_MODULES
            or top == "soe_temporal"
            and layer_of(target) > layer_of("soe_temporal.engine")
        ):
            bad.append(target)
    assert bad == []


ENGINE_TESTS = sorted((ROOT / "tests" / "engine").glob("*.py"))
PURE = (
    "soe_temporal.engine",
    "soe_temporal.llm.protocol",
    "soe_temporal.llm.response",
    "soe_temporal.llm.usage",
)


@pytest.mark.parametrize("path", ENGINE_TESTS, ids=lambda p: p.name)
def test_engine_tests_need_no_temporal(path: Path):
    """They import neither temporalio nor any part of the package but the pure ones."""
    bad = [
        target
        for target in imports_of(path)
        if target.split(".")[0] == "temporalio"
        or (target.startswith("soe_temporal") and not target.startswith(PURE))
    ]
    assert bad == []
