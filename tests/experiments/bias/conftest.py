"""Bias tests run torch single-threaded.

The models here are tiny, so a forward pass is dominated by per-op overhead; with two OpenMP
threads on a machine whose other core is busy, generation was measured 30x slower (16 s vs
0.5 s for 40 organism prompts) because the threads spin-wait for each other.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
