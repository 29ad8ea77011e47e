"""The experiment core shared by the steering, truncation and bias runners.

- :mod:`~experiments.core.model`: load any causal LM (organism, folder, hub id) as a
  :class:`LoadedModel` with architecture-independent accessors;
- :mod:`~experiments.core.prompting`: the exact prompt string (chat template or completion);
- :mod:`~experiments.core.batching`: left-padded forward passes and generation;
- :mod:`~experiments.core.hooks`: self-removing hooks (ablation, addition, capture);
- :mod:`~reportgen.rundir.writer`: resumable run-directory writer for the tidy schema;
- :mod:`~experiments.core.config`: strict YAML configs;
- :mod:`~experiments.core.datasets`: instruction datasets;
- :mod:`~experiments.core.errors`: user errors (the CLI maps them to exit code 2).
"""

from __future__ import annotations

import importlib
from typing import Any

# Lazy (PEP 562): importing a light submodule such as ``experiments.core.errors`` must not
# load torch and transformers through eager re-exports. The names stay reachable as
# ``experiments.core.<name>``; each loads its submodule on first use.
_EXPORTS: dict[str, str] = {
    "ChatTemplateError": "experiments.core.errors",
    "ConfigError": "experiments.core.errors",
    "DEFAULT_SYSTEM": "experiments.core.prompting",
    "DatasetError": "experiments.core.errors",
    "ExperimentConfig": "experiments.core.config",
    "ExperimentError": "experiments.core.errors",
    "InstructionItem": "experiments.core.datasets",
    "LoadedModel": "experiments.core.model",
    "MeanTargets": "experiments.core.hooks",
    "ModelLoadError": "experiments.core.errors",
    "PromptFormat": "experiments.core.prompting",
    "ResidualCapture": "experiments.core.hooks",
    "RunDirError": "reportgen.rundir.errors",
    "RunWriter": "reportgen.rundir.writer",
    "StrictModel": "experiments.core.config",
    "activation_addition": "experiments.core.hooks",
    "capture_residuals": "experiments.core.hooks",
    "config_hash": "reportgen.rundir.strict",
    "continuation_logprobs": "experiments.core.batching",
    "cut_at_stop": "experiments.core.batching",
    "default_device": "experiments.core.model",
    "default_system_prompt": "experiments.core.prompting",
    "directional_ablation": "experiments.core.hooks",
    "encode": "experiments.core.batching",
    "format_prompt": "experiments.core.prompting",
    "forward": "experiments.core.batching",
    "generate": "experiments.core.batching",
    "hooked": "experiments.core.hooks",
    "load_config": "experiments.core.config",
    "load_instructions": "experiments.core.datasets",
    "load_model": "experiments.core.model",
    "next_token_logprobs": "experiments.core.batching",
    "output_hook": "experiments.core.hooks",
    "position_ids_from_mask": "experiments.core.batching",
    "pre_hook": "experiments.core.hooks",
    "prefill_tracker": "experiments.core.hooks",
    "sample": "experiments.core.datasets",
    "unit_key": "reportgen.rundir.writer",
    "validate_config": "experiments.core.config",
    "wrap_model": "experiments.core.model",
}


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
