"""The seam imports neither half: runners and reporter both depend on it, never the reverse.

Read with ``ast`` (imports inside functions count too), so a lazy import of the reporter or
a runner from ``reportgen.rundir`` fails here rather than as an import cycle later.
"""

from __future__ import annotations

import ast
from pathlib import Path

RUNDIR = Path(__file__).resolve().parents[3] / "reportgen" / "rundir"


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _crossing(name: str) -> bool:
    top = name.split(".")
    if top[0] == "experiments":
        return True
    return top[0] == "reportgen" and name not in ("reportgen", "reportgen.rundir") and top[1] != "rundir"


def test_rundir_imports_neither_experiments_nor_other_reportgen_wings():
    modules = sorted(RUNDIR.glob("*.py"))
    assert {p.name for p in modules} >= {"errors.py", "schema.py", "reader.py", "writer.py", "strict.py"}
    bad = {f"{p.name}: {name}" for p in modules for name in _imports(p) if _crossing(name)}
    assert not bad, f"the seam must import only itself from reportgen and nothing from experiments: {sorted(bad)}"


def test_the_check_catches_a_crossing_import():
    assert _crossing("experiments.core.errors") and _crossing("reportgen.chart.spec")
    assert not _crossing("reportgen.rundir.schema") and not _crossing("pandas")
