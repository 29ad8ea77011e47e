"""The core package init is lazy: a light submodule must not drag torch in (2.8 s before)."""

from __future__ import annotations

import subprocess
import sys

import experiments.core


def test_errors_import_does_not_load_torch() -> None:
    code = "import sys, experiments.core.errors; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_every_reexport_still_resolves() -> None:
    exported = [n for n in dir(experiments.core) if n[0].isalpha()]
    assert {"RunWriter", "load_model", "ConfigError", "format_prompt"} <= set(exported)
    for name in exported:
        assert getattr(experiments.core, name) is not None, name
    assert experiments.core.RunWriter.__module__ == "reportgen.rundir.writer"
