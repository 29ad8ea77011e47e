"""The layout's rules, checked on the source (ast): the seam, the composition, no import cycles.

- ``experiments.*`` takes from the reporter only the seam, ``reportgen.rundir.*`` (any import,
  lazy ones included: a lazy import crosses the seam just the same);
- ``reportgen.*`` never imports ``experiments.*``, except the CLI and the weekly job and its
  executors, which reach the runners through ``experiments.registry``;
- ``reportgen.rundir`` (the seam) imports neither half;
- no import cycle among ``reportgen`` modules (module-level imports, ``TYPE_CHECKING`` blocks
  excluded: those never run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAY_IMPORT_EXPERIMENTS = ("reportgen.cli", "reportgen.weekly.job", "reportgen.weekly.executors")


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path, *, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import; with ``top_level_only`` those that run on import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"

    def walk(body: list[ast.stmt]) -> Iterator[ast.stmt]:
        for node in body:
            yield node
            if isinstance(node, ast.If) and _is_type_checking(node):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                yield from walk(node.body + node.orelse + getattr(node, "finalbody", []))
                for handler in getattr(node, "handlers", []):
                    yield from walk(handler.body)

    nodes = walk(tree.body) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            yield target, node.lineno
            for alias in node.names:  # `from reportgen.chart import spec` imports a module too
                yield f"{target}.{alias.name}", node.lineno


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_runners_import_only_the_seam_from_the_reporter() -> None:
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in _modules("experiments").items()
        for name, line in _imports(module, path, top_level_only=False)
        if _within(name, "reportgen") and name != "reportgen" and not _within(name, "reportgen.rundir")
    ]
    assert not crossings, "experiments/ may import only reportgen.rundir.*:\n" + "\n".join(crossings)


def test_the_reporter_never_imports_the_runners() -> None:
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in _modules("reportgen").items()
        if not any(_within(module, allowed) for allowed in MAY_IMPORT_EXPERIMENTS)
        for name, line in _imports(module, path, top_level_only=False)
        if _within(name, "experiments")
    ]
    assert not crossings, ("only reportgen.cli and reportgen.weekly.{job,executors} may import experiments:\n"
                           + "\n".join(crossings))


def test_the_seam_imports_neither_half() -> None:
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for module, path in _modules("reportgen/rundir").items()
        for name, line in _imports(module, path, top_level_only=False)
        if _within(name, "experiments") or (_within(name, "reportgen") and name != "reportgen"
                                            and not _within(name, "reportgen.rundir"))
    ]
    assert not crossings, "reportgen.rundir may import only itself:\n" + "\n".join(crossings)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycles_in_the_reporter() -> None:
    modules = _modules("reportgen")
    graph = {
        module: {name for name, _ in _imports(module, path, top_level_only=True) if name in modules and name != module}
        for module, path in modules.items()
    }
    # A package imports its __init__ anyway; an edge to one's own parent package is no cycle.
    graph = {m: {n for n in targets if not _within(m, n)} for m, targets in graph.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
])
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[str] | None) -> None:
    assert _cycle(graph) == expected
