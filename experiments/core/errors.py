"""User-facing errors raised by the experiment core and the runners.

Every class here means "the user's input is wrong" (a model that does not exist, a config
with an unknown key, a dataset without an ``instruction`` column), never "the code is
broken". They sit beneath :class:`reportgen.rundir.errors.UserError`; ``RunDirError`` is the
seam's own (the run-directory writer raises it) and is re-exported here. The CLI catches them
and prints the one-line message with exit code 2 and no traceback, so messages must name the
file, row or field involved.
"""

from __future__ import annotations

from reportgen.rundir.errors import RunDirError, UserError

__all__ = [
    "ChatTemplateError", "ConfigError", "DatasetError", "ExperimentError", "ModelLoadError", "RunDirError",
]


class ExperimentError(UserError):
    """Base class: a user error in an experiment's inputs (exit code 2 in the CLI)."""


class ModelLoadError(ExperimentError):
    """The model or tokenizer cannot be loaded, or cannot be used the way it was asked to."""


class ChatTemplateError(ModelLoadError):
    """A chat prompt was requested from a tokenizer that cannot render it."""


class ConfigError(ExperimentError):
    """A YAML config is unreadable or fails validation; the message names file and field."""


class DatasetError(ExperimentError):
    """An instruction dataset is unreadable or malformed; the message names file and row."""
