"""The package's layers: who may import whom (docs/architecture.md), and no import cycle.

Imports are read from the source with :mod:`ast`, lazy ones inside functions
included, so a violation fails here even when no test happens to execute it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gridkit

PACKAGE = Path(gridkit.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The gridkit modules ``name`` imports (``from a import b`` is ``a.b`` when a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == "gridkit" or t.startswith("gridkit."))
    return found - {name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_is_read():
    assert "gridkit.validate.serial" in GRAPH["gridkit.validate.coding"]
    assert "gridkit.codes" in GRAPH["gridkit.validate.core"]
    assert "gridkit.cli._common" in GRAPH["gridkit.cli.score_cmd"]
    assert len(GRAPH) > 40


@pytest.mark.parametrize(("package", "allowed"), [
    ("gridkit.cli", {"gridkit.__main__"}),
    ("gridkit.synth", {"gridkit.cli.synth_cmd"}),
])
def test_only_its_own_package_imports(package, allowed):
    offenders = sorted(f"{m} imports {t}" for m, targets in GRAPH.items()
                       if not _inside(m, package) and m not in allowed
                       for t in targets if _inside(t, package))
    assert not offenders, offenders


#: The bottom layer (docs/architecture.md): it imports nothing above it.
FOUNDATION = ("gridkit.errors", "gridkit.i18n", "gridkit.data", "gridkit.codes",
              "gridkit.config", "gridkit.crs", "gridkit.io", "gridkit.metrics")


def test_the_foundation_imports_only_the_foundation():
    offenders = sorted(f"{m} imports {t}" for m, targets in GRAPH.items()
                       if any(_inside(m, f) for f in FOUNDATION)
                       for t in targets if not any(_inside(t, f) for f in FOUNDATION))
    assert not offenders, offenders


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None (depth-first search, colouring nodes)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_cycle_finder():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_lazy_imports_inside_functions_count(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from gridkit.cli import cli\n", encoding="utf-8")
    assert _imports("gridkit.m", module) == {"gridkit.cli"}


def test_no_import_cycle():
    cycle = _cycle(GRAPH)
    assert cycle is None, " → ".join(cycle)


def _declares_all(path: Path) -> bool:
    targets = [t for node in ast.parse(path.read_text(encoding="utf-8")).body
               for t in (node.targets if isinstance(node, ast.Assign) else
                         [node.target] if isinstance(node, ast.AnnAssign) else [])]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def test_every_module_declares_its_public_names():
    """``__all__`` in every module of the package: the public API is explicit."""
    assert not [name for name, path in MODULES.items() if not _declares_all(path)]
