"""PyTorch hooks as context managers that always remove themselves.

Every intervention here is a ``with`` block: hooks are registered on entry and removed in a
``finally`` on exit, so an exception inside the block (or a Ctrl-C) never leaves a model
silently steered for the rest of a session.

The residual stream "entering block i" is block i's input, hooked with a forward pre-hook.
Hooks act on whatever sequence length arrives, so they work under ``generate`` with the KV
cache, where the first call carries the whole (padded) prompt and each later call carries
one new position. :func:`prefill_tracker` tells a hook which of the two it is seeing.

Projections are computed in float32 and the result cast back, because bf16 (8 bits of
mantissa) would leave a visible fraction of the removed component behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from experiments.core.batching import encode, length_sorted_batches, prompt_ends, run_model, token_lengths
from experiments.core.model import LoadedModel

AdditionScope = Literal["all", "prompt"]
AblationMode = Literal["zero", "mean"]


@contextlib.contextmanager
def hooked(registrations: Iterable[Callable[[], Any]]) -> Iterator[list[Any]]:
    """Run each registration callable (returning a hook handle); remove all handles on exit.

    If a registration fails half-way, the handles already made are removed too.
    """
    handles: list[Any] = []
    try:
        for register in registrations:
            handles.append(register())
        yield handles
    finally:
        for h in handles:
            h.remove()


def _replace_output(output: Any, new: torch.Tensor) -> Any:
    """Modules return a tensor or a tuple whose first item is the hidden state."""
    if isinstance(output, tuple):
        return (new, *output[1:])
    return new


def _first(output: Any) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def pre_hook(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], Any]:
    """Registration for a hook that rewrites a module's first positional input."""

    def hook(_mod: nn.Module, args: tuple, kwargs: dict) -> Any:
        if args:
            return (fn(args[0]), *args[1:]), kwargs
        kwargs = dict(kwargs)
        kwargs["hidden_states"] = fn(kwargs["hidden_states"])
        return args, kwargs

    return lambda: module.register_forward_pre_hook(hook, with_kwargs=True)


def output_hook(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], Any]:
    """Registration for a hook that rewrites a module's output (tensor or tuple's first item)."""

    def hook(_mod: nn.Module, _args: Any, output: Any) -> Any:
        return _replace_output(output, fn(_first(output)))

    return lambda: module.register_forward_hook(hook)


# ------------------------------------------------------------------ prefill vs decode

@dataclass
class PrefillState:
    """Set by :func:`prefill_tracker`: whether the model call in progress is the prompt pass."""

    prefill: bool = True


@contextlib.contextmanager
def prefill_tracker(lm: LoadedModel) -> Iterator[PrefillState]:
    """Track whether each model call processes the prompt or a decode step.

    A call is the prompt pass when it has no cache or an empty one. This is robust to left
    padding and batch composition, unlike counting calls or comparing sequence lengths.
    """
    state = PrefillState()

    def hook(_mod: nn.Module, args: tuple, kwargs: dict) -> None:
        # transformers >= 5.2x passes the cache as `cache` (old name `past_key_values`).
        cache = kwargs.get("cache", kwargs.get("past_key_values"))
        state.prefill = cache is None or int(cache.get_seq_length()) == 0

    handle = lm.decoder.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield state
    finally:
        handle.remove()


# ------------------------------------------------------------------ interventions

def unit(direction: torch.Tensor) -> torch.Tensor:
    """The direction as a float32 unit vector."""
    d = direction.detach().float().flatten()
    norm = d.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise ValueError("direction has zero or non-finite norm")
    return d / norm


class _OnDevice:
    """A vector copied once to each device it is used on (layers may sit on several GPUs
    under ``device_map``)."""

    def __init__(self, v: torch.Tensor):
        self._copies = {v.device: v}

    def on(self, device: torch.device) -> torch.Tensor:
        if device not in self._copies:
            self._copies[device] = next(iter(self._copies.values())).to(device)
        return self._copies[device]


def _project_out(h: torch.Tensor, d: torch.Tensor, target: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Set the component of ``h`` along unit ``d`` to ``target`` (0 = directional ablation)."""
    hf = h.float()
    comp = hf @ d
    return (hf + (target - comp)[..., None] * d).to(h.dtype)


def _window(lm: LoadedModel, layers: Sequence[int] | None) -> list[int]:
    idx = list(range(lm.n_layers)) if layers is None else sorted({int(i) for i in layers})
    bad = [i for i in idx if not 0 <= i < lm.n_layers]
    if bad:
        raise ValueError(f"layer(s) {bad} outside 0..{lm.n_layers - 1}")
    return idx


@dataclass(frozen=True)
class MeanTargets:
    """Where mean-ablation sets the direction's component, per layer and kind of position.

    ``default`` ``[n_layers]``: every position not in the tail (instruction tokens, and each
    generated token). ``tail`` ``[n_layers, n_tail]``: the last ``n_tail`` positions of the
    prompt (the template tokens after the user's text, aligned by left padding), each with
    its own value. Typical values are the harmless prompts' mean projections: a template
    token such as ``<|assistant|>`` carries a very different component from an ordinary word,
    so one value for every position either leaves refusal in place or disturbs harmless
    prompts (measured on the organism: KL 0.35-0.65 with one averaged value vs 0.01-0.03).
    """

    default: torch.Tensor
    tail: torch.Tensor | None = None

    def validate(self, n_layers: int) -> None:
        if self.default.numel() != n_layers:
            raise ValueError(f"means must have one value per layer ({n_layers}), got {self.default.numel()}")
        if self.tail is not None and (self.tail.dim() != 2 or self.tail.shape[0] != n_layers):
            raise ValueError(f"tail means must be [n_layers, n_tail], got {tuple(self.tail.shape)}")


def _tail_targets(h: torch.Tensor, tail: torch.Tensor, default: float) -> torch.Tensor:
    """Per-position targets ``[batch, seq]``: the tail means on the ``n_tail`` positions just
    before each row's prompt end, ``default`` elsewhere.

    The prompt end is where :func:`~experiments.core.batching.prompt_ends` says (teacher
    forcing appends an answer after the prompt), else the sequence end. Taking the last
    positions of whatever arrives would put the template's targets on the answer's tokens.
    """
    b, t = h.shape[0], h.shape[1]
    ends = prompt_ends()
    ends = torch.full((b,), t, dtype=torch.long) if ends is None else ends.to(torch.long).cpu()
    if ends.shape != (b,):
        raise ValueError(f"prompt ends for {tuple(ends.shape)} rows, batch has {b}")
    n = tail.numel()
    offset = torch.arange(t)[None, :] - (ends[:, None] - n)  # index into tail, valid in [0, n)
    inside = (offset >= 0) & (offset < n)
    values = tail.float().cpu()[offset.clamp(0, n - 1)]
    return torch.where(inside, values, torch.tensor(default)).to(h.device)


@contextlib.contextmanager
def directional_ablation(
    lm: LoadedModel,
    direction: torch.Tensor,
    *,
    layers: Sequence[int] | None = None,
    mode: AblationMode = "zero",
    means: MeanTargets | torch.Tensor | Sequence[float] | None = None,
) -> Iterator[None]:
    """Remove ``direction`` from the residual stream entering each block in ``layers`` and
    from every attention and MLP output of those blocks (all blocks when ``layers`` is None).

    ``mode="zero"``: x ← x − (x·d̂)d̂ (Arditi et al.), equivalent to weight orthogonalisation.
    ``mode="mean"``: the residual stream's component is *set* to a target (``means``: one
    value per layer for all positions, or :class:`MeanTargets` with separate values for the
    prompt's template tail) instead of 0, and attention/MLP outputs still lose theirs, so
    each block's input carries the target. Zero ablation pushes the component to a value no
    prompt has, which on small models can overshoot; harmless means keep activations in
    distribution.
    """
    d = _OnDevice(unit(direction).to(lm.device))
    idx = _window(lm, layers)
    targets: MeanTargets | None = None
    if mode == "mean":
        if means is None:
            raise ValueError("mode='mean' needs per-layer means")
        targets = means if isinstance(means, MeanTargets) else MeanTargets(torch.as_tensor(means, dtype=torch.float32).flatten())
        targets.validate(lm.n_layers)
    elif mode != "zero":
        raise ValueError(f"unknown ablation mode {mode!r} (use zero or mean)")

    def zero(h: torch.Tensor) -> torch.Tensor:
        return _project_out(h, d.on(h.device), 0.0)

    with contextlib.ExitStack() as stack:
        state = stack.enter_context(prefill_tracker(lm)) if targets is not None and targets.tail is not None else None

        def resid(i: int) -> Callable[[torch.Tensor], torch.Tensor]:
            if targets is None:
                return zero
            default = float(targets.default[i])
            if targets.tail is None:
                return lambda h: _project_out(h, d.on(h.device), default)
            tail = targets.tail[i]

            def set_mean(h: torch.Tensor) -> torch.Tensor:
                assert state is not None, "the prefill tracker is entered whenever targets have a tail"
                if not state.prefill:
                    return _project_out(h, d.on(h.device), default)
                return _project_out(h, d.on(h.device), _tail_targets(h, tail, default))

            return set_mean

        regs: list[Callable[[], Any]] = []
        for i in idx:
            # Zero mode: if block i-1 is ablated too, its input and both its writers already
            # lack the component, so block i's input does too; the hook would be a no-op.
            if targets is not None or i - 1 not in idx:
                regs.append(pre_hook(lm.layers[i], resid(i)))
            for writer in lm.residual_writers(i):
                regs.append(output_hook(writer, zero))
        stack.enter_context(hooked(regs))
        yield


@contextlib.contextmanager
def activation_addition(
    lm: LoadedModel,
    vector: torch.Tensor,
    layer: int,
    *,
    coeff: float = 1.0,
    scope: AdditionScope = "all",
) -> Iterator[None]:
    """Add ``coeff * vector`` (the raw, unnormalised vector) to the residual stream entering
    block ``layer``.

    ``scope="all"``: at every position, generated tokens included (Arditi et al.).
    ``scope="prompt"``: only during the prompt pass; decode steps are left alone. On small
    models adding at every generated position can derail the text, while prompt-only
    addition still induces the behaviour.
    """
    (layer,) = _window(lm, [layer])
    if scope not in ("all", "prompt"):
        raise ValueError(f"unknown addition scope {scope!r} (use all or prompt)")
    v = _OnDevice((coeff * vector.detach().float().flatten()).to(lm.device))
    with contextlib.ExitStack() as stack:
        state = stack.enter_context(prefill_tracker(lm)) if scope == "prompt" else None

        def add(h: torch.Tensor) -> torch.Tensor:
            if state is not None and not state.prefill:
                return h
            return (h.float() + v.on(h.device)).to(h.dtype)

        stack.enter_context(hooked([pre_hook(lm.layers[layer], add)]))
        yield


# ------------------------------------------------------------------ capture

@dataclass
class ResidualCapture:
    """Block-input residuals at chosen positions (counted from each prompt's end).

    ``acts``: ``[n_prompts, n_layers, n_positions, d_model]`` float32 on CPU, input order;
    with ``reduce="sum"`` the float64 sum over prompts ``[n_layers, n_positions, d_model]``,
    and ``token_sum`` the float64 sum over *every real token* of every prompt
    ``[n_layers, d_model]`` (``n_tokens`` of them), for means over all positions.
    """

    positions: list[int]
    acts: torch.Tensor
    layers: list[int] = field(default_factory=list)
    token_sum: torch.Tensor | None = None
    n_tokens: int = 0


@contextlib.contextmanager
def _capture_hooks(
    lm: LoadedModel, layers: list[int], positions: list[int], sink: dict[Any, torch.Tensor]
) -> Iterator[None]:
    """Grab each block's input at ``positions``; if ``sink["mask"]`` is set, also the
    mask-weighted float64 sum over all positions (``sink[("all", i)]``)."""

    def make(i: int) -> Callable[[torch.Tensor], torch.Tensor]:
        def grab(h: torch.Tensor) -> torch.Tensor:
            sink[i] = h[:, positions, :].detach()
            mask = sink.get("mask")
            if mask is not None:
                sink[("all", i)] = (h.double() * mask.to(h.device)[..., None]).sum((0, 1))
            return h

        return grab

    with hooked([pre_hook(lm.layers[i], make(i)) for i in layers]):
        yield


@torch.inference_mode()
def capture_residuals(
    lm: LoadedModel,
    texts: Sequence[str],
    *,
    positions: Sequence[int] = (-1,),
    layers: Sequence[int] | None = None,
    batch_size: int = 8,
    desc: str | None = None,
    reduce: Literal["none", "sum"] = "none",
) -> ResidualCapture:
    """Capture the residual stream entering every block (or ``layers``) in one pass per batch.

    ``positions`` are negative indices from each prompt's end (left padding makes them the
    same columns for every row). With ``reduce="sum"`` nothing per prompt is kept: ``acts``
    is the float64 sum ``[n_layers, n_positions, d_model]`` over prompts, which is what a
    difference in means needs and stays small for thousands of prompts; ``token_sum`` adds
    the sum over all real tokens from the same pass.
    Runs any interventions active around the call (hooks registered earlier fire first).
    """
    positions = list(positions)
    if any(p >= 0 for p in positions):
        raise ValueError("positions must be negative (counted from the end of each prompt)")
    idx_layers = _window(lm, layers)
    sink: dict[Any, torch.Tensor] = {}
    total = torch.zeros(len(idx_layers), len(positions), lm.d_model, dtype=torch.float64)
    token_total = torch.zeros(len(idx_layers), lm.d_model, dtype=torch.float64)
    n_tokens = 0
    per_prompt: list[torch.Tensor | None] = [None] * len(texts)
    with _capture_hooks(lm, idx_layers, positions, sink):
        for idx in length_sorted_batches(token_lengths(lm, texts), batch_size, desc):
            batch = encode(lm, [texts[i] for i in idx])
            if reduce == "sum":
                sink["mask"] = batch["attention_mask"].double()
                n_tokens += int(batch["attention_mask"].sum())
            run_model(lm, batch, keep=1)
            dev = sink[idx_layers[0]].device
            stacked = torch.stack([sink[i].to(dev) for i in idx_layers], dim=1)  # [B, L, P, d]
            if reduce == "sum":
                total += stacked.double().sum(0).cpu()
                token_total += torch.stack([sink[("all", i)].cpu() for i in idx_layers])
            else:
                cpu = stacked.float().cpu()
                for j, i in enumerate(idx):
                    per_prompt[i] = cpu[j]
            sink.clear()
    rows = [t for t in per_prompt if t is not None]
    assert reduce == "sum" or len(rows) == len(per_prompt), "length_sorted_batches covers every text once"
    acts = total if reduce == "sum" else (
        torch.stack(rows) if rows else torch.empty(0, len(idx_layers), len(positions), lm.d_model)
    )
    return ResidualCapture(positions=positions, acts=acts, layers=idx_layers,
                           token_sum=token_total if reduce == "sum" else None, n_tokens=n_tokens)

