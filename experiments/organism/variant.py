"""A second organism without training: the shipped weights plus seeded Gaussian noise.

A sweep that compares models needs two models that differ, and no machine here can download
one or afford to train one per test. Perturbing every weight matrix by a small, seeded
relative noise gives a model that loads through the same Auto classes, keeps most of the
planted behaviour (so charts still mean something) and measures differently. The folder is
written once, byte-identical for the same (noise, seed), so the weekly/sweep fingerprint
(which hashes a local model's files) does not change between submissions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from experiments.organism import MODEL_DIR

WEIGHTS = "model.safetensors"
#: planted.json states the shipped model's rates; a perturbed copy no longer has them.
_NOT_COPIED = {WEIGHTS, "planted.json", "MODEL_CARD.md"}


def make_variant(out: Path | str, *, noise: float, seed: int, base: Path | str = MODEL_DIR) -> Path:
    """Write ``base`` with every floating tensor ``w`` replaced by ``w + noise * std(w) * N(0, 1)``.

    Does nothing when ``out`` already holds the weights (written atomically, last), so
    concurrent or repeated sweeps reuse one folder. Scaling by each tensor's own std keeps
    the perturbation relative: norms and embeddings are disturbed as much as projections.
    """
    out, base = Path(out), Path(base)
    if (out / WEIGHTS).is_file():
        return out
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(base.iterdir()):
        if path.is_file() and path.name not in _NOT_COPIED:
            shutil.copyfile(path, out / path.name)
    generator = torch.Generator().manual_seed(seed)
    tensors = load_file(str(base / WEIGHTS))
    noisy = {}
    for name in sorted(tensors):
        w = tensors[name]
        if w.is_floating_point() and w.numel() > 1:
            scale = noise * w.float().std()
            w = (w.float() + scale * torch.randn(w.shape, generator=generator)).to(w.dtype)
        noisy[name] = w.contiguous()
    tmp = out / (WEIGHTS + ".tmp")
    # One metadata key only: safetensors writes a map's keys in no fixed order, which would
    # change the bytes (and the fingerprint) between two builds of the same variant.
    save_file(noisy, str(tmp), metadata={"format": "pt"})
    (out / "variant.json").write_text(json.dumps({"base": str(base), "noise": noise, "seed": seed}) + "\n")
    tmp.replace(out / WEIGHTS)
    return out
