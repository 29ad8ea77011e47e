"""Exact prompt strings for the bias runner, including a second user turn in either format.

The core's :func:`~experiments.core.prompting.format_prompt` renders one user turn (with chat
history for chat prompts). "Are you sure?" needs a second turn in completion format too; there
the conversation is the completion template applied turn after turn, with the model's first
answer in between and the BOS text only once at the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from experiments.core.prompting import format_prompt


@dataclass(frozen=True)
class Prompter:
    tokenizer: Any
    fmt: Literal["chat", "completion"] = "chat"
    system: str | None = None
    completion_template: str | None = None

    def __call__(self, user: str, *, assistant_prefix: str = "") -> str:
        return format_prompt(
            self.tokenizer, user, fmt=self.fmt, system=self.system, assistant_prefix=assistant_prefix,
            completion_template=self.completion_template,
        )

    def second_turn(self, first_user: str, first_answer: str, follow_up: str) -> str:
        """The prompt after the model answered ``first_user`` with ``first_answer``."""
        if self.fmt == "chat":
            history = [{"role": "user", "content": first_user}, {"role": "assistant", "content": first_answer}]
            return format_prompt(self.tokenizer, follow_up, fmt="chat", system=self.system, history=history)
        first = self(first_user)
        bos = format_prompt(self.tokenizer, "", fmt="completion", completion_template="{user}")
        second = format_prompt(self.tokenizer, follow_up, fmt="completion", system=None,
                               completion_template=self.completion_template)
        return first + first_answer + "\n" + second[len(bos):]
