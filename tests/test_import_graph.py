"""The import graph of the patdnn package has no cycles: between modules (imports inside functions
count too: a lazy import only hides a cycle) and between its subpackages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# where each installed package's sources are (pyproject's package-dir)
PACKAGE_DIRS = {"patdnn": ROOT / "patdnn", "patdnn.dialects": ROOT / "dialects", "patdnn.passes": ROOT / "passes"}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The patdnn modules `name` imports: the most specific module each import names."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [[alias.name] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = name.split(".") if is_package else name.split(".")[:-1]
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            candidates = [[f"{base}.{alias.name}", base] for alias in node.names]
        else:
            continue
        for options in candidates:  # `from a import b`: the module a.b if there is one, else a
            module = next((m for m in options if m in known), None)
            if module is not None and module != name:
                targets.add(module)
    return targets


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` (as a closed path), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == 1:
                return path[path.index(succ) :] + [succ]
            if succ not in state and (cycle := visit(succ)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def module_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(name, path, known) for name, path in found.items()}


def package_of(module: str) -> str:
    """The first level below patdnn: `patdnn.prune.admm` -> `patdnn.prune`."""
    return ".".join(module.split(".")[:2])


def test_the_graph_sees_the_imports():
    graph = module_graph()
    assert "patdnn.build" in graph["patdnn.api"]  # from patdnn.build import ...
    assert "patdnn.runners.host" in graph["patdnn.runners"]  # a package's own modules
    assert "patdnn.autotune" in graph["patdnn.api"]  # an import inside a function
    assert "patdnn.frontend.torch_import" in graph["patdnn.frontend"]
    assert len(graph) > 60


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_import_cycles():
    cycle = find_cycle(module_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_package_import_cycles():
    packages: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        source = package_of(module)
        packages.setdefault(source, set()).update(package_of(t) for t in targets if package_of(t) != source)
    cycle = find_cycle(packages)
    if cycle is not None:
        pytest.fail("subpackage import cycle: " + " -> ".join(cycle))
