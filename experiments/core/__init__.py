"""The experiment core shared by the steering, truncation and bias runners.

- :mod:`~experiments.core.model`: load any causal LM (organism, folder, hub id) as a
  :class:`LoadedModel` with architecture-independent accessors;
- :mod:`~experiments.core.prompting`: the exact prompt string (chat template or completion);
- :mod:`~experiments.core.batching`: left-padded forward passes and generation;
- :mod:`~experiments.core.hooks`: self-removing hooks (ablation, addition, capture);
- :mod:`~experiments.core.writer`: resumable run-directory writer for the tidy schema;
- :mod:`~experiments.core.config`: strict YAML configs;
- :mod:`~experiments.core.datasets`: instruction datasets;
- :mod:`~experiments.core.errors`: user errors (the CLI maps them to exit code 2).
"""

from experiments.core.batching import (
    continuation_logprobs,
    cut_at_stop,
    encode,
    forward,
    generate,
    next_token_logprobs,
    position_ids_from_mask,
)
from experiments.core.config import ExperimentConfig, StrictModel, config_hash, load_config, validate_config
from experiments.core.datasets import InstructionItem, load_instructions, sample
from experiments.core.errors import (
    ChatTemplateError,
    ConfigError,
    DatasetError,
    ExperimentError,
    ModelLoadError,
    RunDirError,
)
from experiments.core.hooks import (
    MeanTargets,
    ResidualCapture,
    activation_addition,
    capture_residuals,
    directional_ablation,
    hooked,
    output_hook,
    pre_hook,
    prefill_tracker,
)
from experiments.core.model import LoadedModel, default_device, load_model, wrap_model
from experiments.core.prompting import DEFAULT_SYSTEM, PromptFormat, default_system_prompt, format_prompt
from experiments.core.writer import RunWriter, unit_key

__all__ = [
    "ChatTemplateError",
    "ConfigError",
    "DEFAULT_SYSTEM",
    "DatasetError",
    "ExperimentConfig",
    "ExperimentError",
    "InstructionItem",
    "LoadedModel",
    "MeanTargets",
    "ModelLoadError",
    "PromptFormat",
    "ResidualCapture",
    "RunDirError",
    "RunWriter",
    "StrictModel",
    "activation_addition",
    "capture_residuals",
    "config_hash",
    "continuation_logprobs",
    "cut_at_stop",
    "default_device",
    "default_system_prompt",
    "directional_ablation",
    "encode",
    "format_prompt",
    "forward",
    "generate",
    "hooked",
    "load_config",
    "load_instructions",
    "load_model",
    "next_token_logprobs",
    "output_hook",
    "position_ids_from_mask",
    "pre_hook",
    "prefill_tracker",
    "sample",
    "unit_key",
    "validate_config",
    "wrap_model",
]
