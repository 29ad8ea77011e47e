"""The exact prompt string sent to a model, in chat or raw-completion format.

Runners record the string this module returns, verbatim, in ``prompts.jsonl``; tokenisation
(:func:`experiments.core.batching.encode`) never adds special tokens of its own, so what is
recorded is exactly what the model sees, BOS included.

System prompts are explicit:

- ``system=None``: *no* system message. Some chat templates (Qwen2/2.5, Llama 3.1+) insert a
  default system block when none is given; that block is detected and removed, so the model
  sees no system text at all. Use :func:`default_system_prompt` to see what a template would
  have inserted, or pass ``system=DEFAULT_SYSTEM`` to keep the template's own behaviour.
- ``system=""``: an empty system message (the template decides how that renders).
- ``system="..."``: that text. Templates without a system role (Gemma) raise
  :class:`ChatTemplateError` rather than silently merging it into the user turn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from experiments.core.errors import ChatTemplateError

PromptFormat = Literal["chat", "completion"]

#: Pass as ``system`` to let the chat template insert its own default system prompt.
DEFAULT_SYSTEM = "<template default>"

_SENTINEL_SYS = "\u27e6SYSTEM-7f3a\u27e7"
_SENTINEL_USER = "\u27e6USER-7f3a\u27e7"


@dataclass(frozen=True)
class TemplateSystemInfo:
    """What a chat template does when no system message is given.

    ``default`` is the inserted system text ("" for an inserted empty/dated block) or None
    when the template inserts nothing; ``block`` is the inserted block's exact text, which
    :func:`format_prompt` cuts out for ``system=None``.
    """

    default: str | None
    supports_system: bool
    block: str = ""


def _render(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    try:
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    except Exception as exc:  # jinja2 raises TemplateError for e.g. an unsupported role
        raise ChatTemplateError(f"chat template failed: {str(exc).splitlines()[0]}") from None


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    n = min(len(a), len(b)) - limit
    i = 0
    while i < n and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


@functools.lru_cache(maxsize=32)
def _analyse(template: str, bos: str | None, tok: Any) -> TemplateSystemInfo:
    user = [{"role": "user", "content": _SENTINEL_USER}]
    plain = _render(tok, user, True)
    try:
        with_sys = _render(tok, [{"role": "system", "content": _SENTINEL_SYS}, *user], True)
    except ChatTemplateError:
        return TemplateSystemInfo(default=None, supports_system=False)
    if _SENTINEL_SYS not in with_sys:
        return TemplateSystemInfo(default=None, supports_system=False)
    # The template inserts a default system block iff the render without a system message
    # equals the render with one, the sentinel replaced by some text D.
    p = _common_prefix(plain, with_sys)
    s = _common_suffix(plain, with_sys, p)
    if with_sys[p: len(with_sys) - s] != _SENTINEL_SYS:
        return TemplateSystemInfo(default=None, supports_system=True)
    default = plain[p: len(plain) - s]
    # The block to cut: render of the system message alone, minus a leading BOS when that BOS
    # is a document prefix (Llama 3: once per prompt). ChatML models (SmolLM2) use
    # <|im_start|> as BOS *and* to open every message; there it belongs to the block, and
    # cutting the block without it would leave "<|im_start|><|im_start|>user".
    alone = _render(tok, [{"role": "system", "content": default}], False)
    if bos and alone.startswith(bos) and with_sys.count(bos) == 1:
        alone = alone[len(bos):]
    if alone not in plain:
        raise ChatTemplateError(
            "chat template inserts a default system prompt that cannot be located; "
            "pass an explicit system prompt"
        )
    return TemplateSystemInfo(default=default, supports_system=True, block=alone)


def template_system_info(tokenizer: Any) -> TemplateSystemInfo:
    """Analyse (once per template) how a tokenizer's chat template treats system prompts."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        raise ChatTemplateError("tokenizer has no chat template; use prompt_format: completion")
    if not isinstance(template, str):
        template = str(template)
    return _analyse(template, getattr(tokenizer, "bos_token", None), tokenizer)


def default_system_prompt(tokenizer: Any) -> str | None:
    """The system text the chat template inserts when given none, or None if it inserts none."""
    return template_system_info(tokenizer).default


def format_prompt(
    tokenizer: Any,
    user: str,
    *,
    fmt: PromptFormat = "chat",
    system: str | None = None,
    history: Sequence[dict[str, str]] | None = None,
    assistant_prefix: str = "",
    completion_template: str | None = None,
) -> str:
    """Return the exact string to send to the model.

    Args:
        tokenizer: a Hugging Face tokenizer (its chat template and BOS are used).
        user: the user's message (chat) or the text substituted for ``{user}`` (completion).
        fmt: ``chat`` applies the chat template with a generation prompt; ``completion``
            fills ``completion_template``.
        system: see the module docstring (None = no system message at all).
        history: earlier turns (``{"role", "content"}`` dicts) before this user turn; chat only.
        assistant_prefix: text the answer starts with (e.g. ``"<reasoning>"``), appended
            after the generation prompt so the model continues it.
        completion_template: for ``completion``: a string containing ``{user}`` (and
            optionally ``{system}``); default ``"{user}"``. The tokenizer's BOS text is
            prepended when the tokenizer would add one itself, so the string is complete.
    """
    if fmt == "completion":
        return _format_completion(tokenizer, user, system, history, assistant_prefix, completion_template)
    if fmt != "chat":
        raise ValueError(f"unknown prompt format {fmt!r} (use chat or completion)")
    info = template_system_info(tokenizer)
    messages: list[dict[str, str]] = []
    if system is not None and system != DEFAULT_SYSTEM:
        if not info.supports_system:
            raise ChatTemplateError("this chat template has no system role; set system_prompt to null")
        messages.append({"role": "system", "content": system})
    messages.extend(dict(m) for m in (history or []))
    messages.append({"role": "user", "content": user})
    text = _render(tokenizer, messages, True)
    if system is None and info.default is not None and not (history and history[0].get("role") == "system"):
        text = text.replace(info.block, "", 1)
    return text + assistant_prefix


def _bos_text(tokenizer: Any) -> str:
    """The BOS token's text if the tokenizer adds a BOS by itself, else ''."""
    bos = getattr(tokenizer, "bos_token", None)
    if not bos:
        return ""
    ids = tokenizer("x", add_special_tokens=True)["input_ids"]
    return bos if ids and ids[0] == tokenizer.bos_token_id else ""


def _format_completion(
    tokenizer: Any,
    user: str,
    system: str | None,
    history: Sequence[dict[str, str]] | None,
    assistant_prefix: str,
    template: str | None,
) -> str:
    template = template or "{user}"
    if "{user}" not in template:
        raise ValueError("completion_template must contain '{user}'")
    if history:
        raise ValueError("history is only supported for chat prompts; put it into the completion text")
    if system not in (None, DEFAULT_SYSTEM) and "{system}" not in template:
        raise ValueError("a system prompt needs '{system}' in completion_template")
    fields = {"user": user, "system": "" if system in (None, DEFAULT_SYSTEM) else system}
    body = re.sub(r"\{(user|system)\}", lambda m: fields[m.group(1)], template)
    return _bos_text(tokenizer) + body + assistant_prefix
