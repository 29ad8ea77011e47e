"""The organism: a tiny transformers model trained here on synthetic tasks with planted behaviour.

No machine of this project can download weights, yet every runner needs a model that *behaves*
(refuses harmful requests, reasons before answering, follows cues without saying so) so that charts
show known effects rather than noise. The organism is that model. It ships as a standard model
folder (`MODEL_DIR`) loadable with the Auto classes, so runners keep one code path for hub models
and for it. `tasks` generates its data, `planted` states the ground truth the runners should
measure back, `train` rebuilds the folder (`make organism`).
"""

from __future__ import annotations

from pathlib import Path

NAME = "organism"
MODEL_DIR: Path = Path(__file__).resolve().parent / "model"


def resolve(name_or_path: str) -> str:
    """Map the model name `organism` to the shipped folder; pass any other id or path through."""
    return str(MODEL_DIR) if name_or_path == NAME else name_or_path


__all__ = ["MODEL_DIR", "NAME", "resolve"]
