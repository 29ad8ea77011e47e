"""Issue 15, step 1: the pure moves of the redesign, as one idempotent script.

Why a script: six branches merge into main just before the redesign, so the moves must be
replayed on whatever tree results, fast and without hand edits. The script ``git mv``s every
module of :data:`MOVES` (and the tests that mirror it), creates the new packages with empty
(lazy) ``__init__.py`` files, then rewrites every reference in tracked text files: dotted
module names (imports, strings such as ``"reportgen.cli:main"``), ``from reportgen import x``
forms, ``reportgen/x.py`` paths, and ``Path(__file__).parents[n]`` inside a file that moved to
another depth. A second run finds nothing to move and nothing to rewrite.

Splits of large modules (chartspec, deckspec, organism/tasks, bias/runner) and every change of
behaviour are hand work described in docs/redesign-plan.md; this script does none of them.

    python tools/redesign_move.py            # apply (run at the repository root, clean tree)
    python tools/redesign_move.py --dry-run  # list what would move and which files change
    python tools/redesign_move.py --map      # print the old -> new table (markdown)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Old module -> new module. One source of truth: docs/redesign-plan.md prints this table.
MOVES: dict[str, str] = {
    # the seam: both halves import it, nothing else crosses
    "reportgen.schema": "reportgen.rundir.schema",
    "reportgen.atomic": "reportgen.rundir.atomic",
    # inputs: the YAML files a user writes
    "reportgen.spec": "reportgen.inputs.deck_yaml",
    "reportgen.weekly_config": "reportgen.inputs.weekly_yaml",
    "reportgen.recap": "reportgen.inputs.recap",
    # numbers
    "reportgen.stats": "reportgen.numbers.stats",
    "reportgen.summarize": "reportgen.numbers.summarize",
    "reportgen.claims": "reportgen.numbers.claims",
    # chart: decide, word, draw
    "reportgen.chartspec": "reportgen.chart.spec",
    "reportgen.chartwords": "reportgen.chart.words",
    "reportgen.charts": "reportgen.chart.render",
    # deck: decide, normalise text, draw
    "reportgen.deckspec": "reportgen.deck.spec",
    "reportgen.textnorm": "reportgen.deck.textnorm",
    "reportgen.deck": "reportgen.deck.render",
    # abstract
    "reportgen.abstract": "reportgen.abstract.render",
    # weekly job and its checks
    "reportgen.weekly": "reportgen.weekly.job",
    "reportgen.lint": "reportgen.weekly.lint",
    "reportgen.report_md": "reportgen.weekly.summary_md",
    # commands (entry point becomes reportgen.cli.entry:main)
    "reportgen.cli": "reportgen.cli.entry",
    "reportgen.cli_charts": "reportgen.cli.charts",
    "reportgen.cli_deck": "reportgen.cli.deck",
    "reportgen.cli_run": "reportgen.cli.run",
    "reportgen.cli_weekly": "reportgen.cli.weekly",
    "reportgen.cli_formats": "reportgen.cli.formats",
    "reportgen.cli_import": "reportgen.cli.imports",
    "reportgen.cli_sweep": "reportgen.cli.sweep",
    "reportgen.outputs": "reportgen.cli.outputs",
    # added by the deck, sweep and seam work after the plan was written
    "reportgen.palette": "reportgen.chart.palette",
    "reportgen.comparecharts": "reportgen.chart.compare",
    "reportgen.deckplan": "reportgen.deck.plan",
    "reportgen.runglossary": "reportgen.deck.glossary",
    "reportgen.render_check": "reportgen.deck.render_check",
    "reportgen.sweep_config": "reportgen.inputs.sweep_yaml",
    "reportgen.executors": "reportgen.weekly.executors",
    # runners: the answer parser bias borrows from truncation is shared core
    "experiments.truncation.parsing": "experiments.core.answer_parsing",
}

# Tests mirror the layout: tests/reportgen/test_<x>.py follows module reportgen.<x>.
TEST_MOVES: dict[str, str] = {
    "tests/reportgen/test_schema.py": "tests/reportgen/rundir/test_schema.py",
    "tests/reportgen/test_spec.py": "tests/reportgen/inputs/test_deck_yaml.py",
    "tests/reportgen/test_stats.py": "tests/reportgen/numbers/test_stats.py",
    "tests/reportgen/test_summarize.py": "tests/reportgen/numbers/test_summarize.py",
    "tests/reportgen/test_claims.py": "tests/reportgen/numbers/test_claims.py",
    "tests/reportgen/test_chartspec.py": "tests/reportgen/chart/test_spec.py",
    "tests/reportgen/test_chartwords.py": "tests/reportgen/chart/test_words.py",
    "tests/reportgen/test_charts.py": "tests/reportgen/chart/test_render.py",
    "tests/reportgen/test_deckspec.py": "tests/reportgen/deck/test_spec.py",
    "tests/reportgen/test_textnorm.py": "tests/reportgen/deck/test_textnorm.py",
    "tests/reportgen/test_deck.py": "tests/reportgen/deck/test_render.py",
    "tests/reportgen/test_abstract.py": "tests/reportgen/abstract/test_render.py",
    "tests/reportgen/test_weekly.py": "tests/reportgen/weekly/test_job.py",
    "tests/reportgen/test_lint.py": "tests/reportgen/weekly/test_lint.py",
    "tests/reportgen/test_report_md.py": "tests/reportgen/weekly/test_summary_md.py",
    "tests/reportgen/test_cli_charts.py": "tests/reportgen/cli/test_charts.py",
    "tests/reportgen/test_cli_deck.py": "tests/reportgen/cli/test_deck.py",
    "tests/experiments/truncation/test_answer_parsing.py": "tests/experiments/core/test_answer_parsing.py",
    "tests/reportgen/test_deckshape.py": "tests/reportgen/deck/test_plan.py",
    "tests/reportgen/test_seam_validation.py": "tests/reportgen/rundir/test_validation.py",
    "tests/reportgen/test_outputs.py": "tests/reportgen/cli/test_outputs.py",
    "tests/reportgen/test_lifecycle.py": "tests/reportgen/chart/test_workers.py",
    "tests/reportgen/test_sweep.py": "tests/reportgen/weekly/test_sweep.py",
    "tests/reportgen/test_wheel.py": "tests/reportgen/abstract/test_wheel.py",
    "tests/reportgen/test_examples.py": "tests/reportgen/inputs/test_examples.py",
}

PACKAGE_DOCS: dict[str, str] = {
    "reportgen.rundir": "The seam: run-directory schema, reading and atomic writing; runners and reporter both import it.",
    "reportgen.inputs": "The YAML files a user writes (deck.yaml, weekly.yaml, takeaways, glossary), strictly validated.",
    "reportgen.numbers": "Estimates with intervals, aggregation of tidy rows, claims checked against them.",
    "reportgen.chart": "Chart decisions (pure), their words, and their drawing with matplotlib.",
    "reportgen.deck": "Deck decisions (pure), text normalisation, and the python-pptx drawing.",
    "reportgen.abstract": "The abstract draft: claims rendered through templates/abstract.md.j2.",
    "reportgen.weekly": "The weekly job: run, report, lint, summary.md.",
    "reportgen.cli": "The commands; the one place that composes runners and reporter.",
}

TEXT_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".txt", ".cfg", ".ini", ".j2", ".json"}
TEXT_NAMES = {"Makefile"}
SELF = Path(__file__).resolve()
# The plan quotes old names on purpose.
KEEP = {Path("docs/redesign-plan.md")}


def mod_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def new_modules() -> set[str]:
    """Every module name that exists after the moves (targets and new packages)."""
    return set(MOVES.values()) | set(PACKAGE_DOCS)


def submodules_of(name: str) -> set[str]:
    """Children of ``name`` in the new layout: ``reportgen.deck`` -> {spec, render, textnorm}."""
    return {n[len(name) + 1 :].split(".")[0] for n in new_modules() if n.startswith(name + ".")}


def dotted_pattern(old: str) -> re.Pattern[str]:
    """``old`` as a whole dotted name, not already the prefix of a new-layout name.

    ``reportgen.deck`` is both an old module and a new package: ``reportgen.deck.spec`` is new
    (left alone), ``reportgen.deck.render_deck`` and ``"reportgen.deck"`` are old. A name
    directly followed by `` import <child>`` is a new-style import (``from reportgen.deck import spec``).
    """
    children = submodules_of(old)
    alt = "|".join(sorted(children))
    skip = rf"(?!\.(?:{alt})\b)(?! import (?:{alt})\b)" if children else ""
    return re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w]){skip}")


FROM_RE = re.compile(
    r"^(?P<indent>[ \t]*)from (?P<mod>[\w.]+) import (?P<names>\([^)]*\)|[^\n#]*?)(?P<tail>[ \t]*#[^\n]*)?$",
    re.M,
)


def split_names(names: str) -> list[tuple[str, str | None]]:
    names = names.strip().removeprefix("(").removesuffix(")")
    out: list[tuple[str, str | None]] = []
    for raw in re.split(r"[,\n]", names):
        part = re.sub(r"#.*", "", raw).strip()
        if not part:
            continue
        bits = part.split(" as ")
        out.append((bits[0].strip(), bits[1].strip() if len(bits) > 1 else None))
    return out


def join_import(mod: str, names: list[tuple[str, str | None]], indent: str, tail: str) -> str:
    text = ", ".join(f"{n} as {a}" if a and a != n else n for n, a in names)
    line = f"{indent}from {mod} import {text}{tail}"
    if len(line) <= 110:
        return line
    body = "".join(f"{indent}    {n} as {a},\n" if a and a != n else f"{indent}    {n},\n" for n, a in names)
    return f"{indent}from {mod} import ({tail}\n{body}{indent})"


def rewrite_from(match: re.Match[str]) -> str:
    """One ``from M import ...`` statement, old style -> new style (unchanged if already new)."""
    indent, mod, tail = match["indent"], match["mod"], match["tail"] or ""
    names = split_names(match["names"])
    if mod in MOVES and not all(n in submodules_of(mod) for n, _ in names):
        return join_import(MOVES[mod], names, indent, tail)
    lines: list[str] = []
    kept: list[tuple[str, str | None]] = []
    for name, alias in names:
        old = f"{mod}.{name}"
        if old in MOVES:  # ``from reportgen import stats`` -> ``from reportgen.numbers import stats``
            parent, leaf = MOVES[old].rsplit(".", 1)
            lines.append(join_import(parent, [(leaf, alias or name)], indent, tail))
        else:
            kept.append((name, alias))
    if not lines:
        return match.group(0)
    if kept:
        lines.insert(0, join_import(mod, kept, indent, tail))
    return "\n".join(lines)


def rewrite_text(text: str) -> str:
    text = FROM_RE.sub(rewrite_from, text)
    for old in sorted(MOVES, key=len, reverse=True):
        new = MOVES[old]
        text = dotted_pattern(old).sub(new, text)
        text = re.sub(rf"(?<![\w/]){re.escape(mod_path(old))}\b", mod_path(new), text)
    return text


def shift_parents(text: str, delta: int) -> str:
    """A moved file's ``Path(__file__)...parents[n]`` still names the same folder."""

    def one(m: re.Match[str]) -> str:
        depth = (int(m["n"]) if m["n"] is not None else 0) + delta
        return f"{m['head']}.parents[{depth}]" if depth else f"{m['head']}.parent"

    return re.sub(r"(?P<head>Path\(__file__\)(?:\.resolve\(\))?)(?:\.parents\[(?P<n>\d+)\]|\.parent\b)", one, text)


def moves_to_do() -> list[tuple[Path, Path]]:
    pairs = [(Path(mod_path(o)), Path(mod_path(n))) for o, n in MOVES.items()]
    pairs += [(Path(o), Path(n)) for o, n in TEST_MOVES.items()]
    todo = []
    for src, dst in pairs:
        if src.is_file() and not dst.exists():
            todo.append((src, dst))
        elif src.is_file() and dst.exists():
            sys.exit(f"both {src} and {dst} exist: resolve by hand, then rerun")
    return todo


def package_inits() -> list[Path]:
    inits = [Path(mod_path(p)).with_suffix("") / "__init__.py" for p in PACKAGE_DOCS]
    return [p for p in inits if not p.exists()]


def text_files() -> Iterable[Path]:
    for name in git("ls-files").splitlines():
        path = Path(name)
        if path.resolve() == SELF or path in KEEP or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
            yield path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--map", action="store_true")
    args = parser.parse_args()
    if args.map:
        print("| old module | new module |\n|---|---|")
        for old, new in MOVES.items():
            print(f"| `{old}` | `{new}` |")
        return 0
    if not Path(".git").exists():
        sys.exit("run at the repository root")

    todo = moves_to_do()
    for src, dst in todo:
        print(f"move {src} -> {dst}")
        if args.dry_run:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        git("mv", str(src), str(dst))
        delta = len(dst.parts) - len(src.parts)
        if delta:
            dst.write_text(shift_parents(dst.read_text(), delta))
    for init in package_inits():
        print(f"create {init}")
        if not args.dry_run:
            init.parent.mkdir(parents=True, exist_ok=True)
            package = ".".join(init.parent.parts)
            init.write_text(f'"""{PACKAGE_DOCS[package]}"""\n')
            git("add", str(init))

    changed = 0
    for path in text_files():
        old = path.read_text(encoding="utf-8")
        new = rewrite_text(old)
        if new != old:
            changed += 1
            print(f"rewrite {path}")
            if not args.dry_run:
                path.write_text(new, encoding="utf-8")
    print(f"{len(todo)} moved, {changed} files rewritten" + (" (dry run)" if args.dry_run else ""))
    # A module a merged branch added at the top level stays put: say so, so it gets a row in MOVES.
    moved = {mod_path(o) for o in MOVES}
    for path in sorted(Path("reportgen").glob("*.py")):
        if path.name != "__init__.py" and str(path) not in moved:
            print(f"warning: {path} is not in MOVES (left at the top level)")
    if todo and not args.dry_run:
        print("entry point changed: reinstall (pip install -e . or make install) before using bin/reportgen")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
