"""Shared test fixtures."""

from __future__ import annotations

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
