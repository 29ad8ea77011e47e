"""Steering speed, side by side in one run.

Prints three comparisons at the same batch size and prompts:

1. generation tokens/s with the refusal direction ablated (hooks on every layer's residual
   input, attention and MLP output) vs unsteered — goal >= 0.9;
2. generation tokens/s of the weight-orthogonalised model vs unsteered — goal ~ 1.0;
3. the first-token refusal metric (one forward pass) vs generating 64 tokens and matching
   refusal substrings — goal >= 20x faster with >= 95 % agreement. Agreement is measured on
   completions that stop at EOS (what a run scores); the time of that variant is printed
   too, since a model with short answers (the organism) stops well before 64 tokens.

Usage::

    python benchmarks/bench_steering.py                         # organism, CPU/GPU auto
    python benchmarks/bench_steering.py --model Qwen/Qwen2-1.5B-Instruct --device cuda
    python benchmarks/bench_steering.py --random-init-config qwen2-1.5b --device cuda

``--random-init-config`` builds a randomly initialised model of a real size from its
architecture (no download; the organism's tokenizer supplies prompts): the speed figures
are real, the agreement figure is not meaningful (random models do not refuse).
Generation is forced to exactly ``--new-tokens`` tokens per prompt for the throughput
comparisons, so every condition generates the same number of tokens.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from collections.abc import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.core.batching import generate, next_token_logprobs
from experiments.core.datasets import load_instructions
from experiments.core.hooks import activation_addition, directional_ablation
from experiments.core.model import LoadedModel, load_model
from experiments.core.prompting import format_prompt
from experiments.core.random_init import ARCHITECTURES, random_init_lm
from experiments.steering.directions import mean_diff_candidates, post_instruction_positions
from experiments.steering.interventions import orthogonalized
from experiments.steering.scoring import is_refusal, refusal_score, refusal_token_ids


def _sources(args: argparse.Namespace) -> dict[str, str]:
    """Prompt files: the organism's own, or (for a real model) the shared refusal_direction data."""
    folder = Path(args.data) if args.data else None
    shared = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "refusal_direction"
    if folder is None and args.model != "organism" and not args.random_init_config and shared.is_dir():
        folder = shared
    if folder is None:
        return {f"{c}_{s}": f"organism:{c}:{s}" for c in ("harmful", "harmless") for s in ("train", "eval")}
    # No harmless train file is shared: the direction's harmless prompts come from the eval file.
    return {"harmful_train": str(folder / "harmful_train.json"), "harmful_eval": str(folder / "harmful_val.json"),
            "harmless_train": str(folder / "harmless_val.json"), "harmless_eval": str(folder / "harmless_val.json")}


def _sync(lm: LoadedModel) -> None:
    if lm.device.type == "cuda":
        torch.cuda.synchronize(lm.device)


def timed(lm: LoadedModel, fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls after one warm-up call; returns (seconds, last result)."""
    out = fn()
    times = []
    for _ in range(repeats):
        _sync(lm)
        t0 = time.perf_counter()
        out = fn()
        _sync(lm)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def build(args: argparse.Namespace) -> LoadedModel:
    if args.random_init_config:
        return random_init_lm(args.random_init_config, device=args.device, dtype=args.dtype, n_layers=args.n_layers)
    return load_model(args.model, device=args.device, dtype=args.dtype)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="organism", help="organism, smollm2, a .gguf file, a local folder or a hub id")
    ap.add_argument("--data", default=None, help="folder with harmful_train/harmful_val/harmless_val.json "
                    "(default: the organism's prompts; ../shared/datasets/refusal_direction for a real model)")
    ap.add_argument("--random-init-config", choices=sorted(ARCHITECTURES), help="random model of a real size")
    ap.add_argument("--n-layers", type=int, default=None, help="with --random-init-config: fewer layers")
    ap.add_argument("--device", default=None, help="cuda / cpu (default: cuda when present)")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--prompts", type=int, default=64, help="prompts per class for the metric comparison")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    lm = build(args)
    tok = lm.tokenizer
    render = lambda u: format_prompt(tok, u)  # noqa: E731
    src = _sources(args)
    harmful = [render(i.instruction) for i in load_instructions(src["harmful_eval"], n=args.prompts)]
    harmless = [render(i.instruction) for i in load_instructions(src["harmless_eval"], n=args.prompts)]
    gen_prompts = (harmful[: args.batch_size // 2] + harmless[: args.batch_size - args.batch_size // 2])

    # A real difference-in-means direction at a middle layer (meaningless on random weights).
    train_h = [render(i.instruction) for i in load_instructions(src["harmful_train"], n=32)]
    train_s = [render(i.instruction) for i in load_instructions(src["harmless_train"], n=32)]
    positions = post_instruction_positions(tok, render)
    cands = mean_diff_candidates(lm, train_h, train_s, positions, batch_size=args.batch_size)
    layer = lm.n_layers // 2
    direction = cands.vector(layer, -1).float()

    def gen(n_tokens: int = args.new_tokens, prompts: list[str] = gen_prompts, forced: bool = True) -> list[str]:
        return generate(lm, prompts, max_new_tokens=n_tokens, batch_size=args.batch_size,
                        min_new_tokens=n_tokens if forced else 0)

    tokens = len(gen_prompts) * args.new_tokens
    r: dict[str, Any] = {
        "model": lm.model_id, "device": str(lm.device), "dtype": str(lm.dtype).removeprefix("torch."),
        "n_layers": lm.n_layers, "d_model": lm.d_model, "batch_size": args.batch_size,
        "params_million": round(sum(p.numel() for p in lm.model.parameters()) / 1e6, 1),
        "new_tokens": args.new_tokens, "direction_layer": layer,
    }
    conditions: dict[str, Callable[[], Any]] = {
        "unsteered": nullcontext,
        "ablation (hooks, all layers)": lambda: directional_ablation(lm, direction),
        "addition (hook, one layer)": lambda: activation_addition(lm, direction, layer, scope="all"),
        "orthogonalised weights": lambda: orthogonalized(lm, direction),
    }
    # Conditions are timed in rounds, in a shuffled order each round, and each ratio is the
    # median over rounds of that round's pair of timings: drift in machine load (shared CPUs,
    # GPU clocks) then cancels instead of biasing whichever condition ran at a bad moment.
    times: dict[str, list[float]] = {name: [] for name in conditions}
    for ctx in conditions.values():  # warm-up
        with ctx():
            gen()
    order = list(conditions)
    rng = random.Random(0)
    for _ in range(args.repeats):
        rng.shuffle(order)
        for name in order:
            with conditions[name]():
                _sync(lm)
                t0 = time.perf_counter()
                gen()
                _sync(lm)
                times[name].append(time.perf_counter() - t0)
    tps = {name: tokens / statistics.median(ts) for name, ts in times.items()}
    r["spread"] = {name: round((max(ts) - min(ts)) / statistics.median(ts), 3) for name, ts in times.items()}

    def paired(name: str) -> float:
        return statistics.median(u / t for u, t in zip(times["unsteered"], times[name]))
    r["tokens_per_s"] = {k: round(v, 1) for k, v in tps.items()}
    r["ratio_ablation_vs_unsteered"] = paired("ablation (hooks, all layers)")
    r["ratio_addition_vs_unsteered"] = paired("addition (hook, one layer)")
    r["ratio_orthogonalised_vs_unsteered"] = paired("orthogonalised weights")

    prompts = harmful + harmless
    ids = refusal_token_ids(tok)
    t_first, lp = timed(lm, lambda: next_token_logprobs(lm, prompts, batch_size=args.batch_size), args.repeats)
    first = (refusal_score(lp, ids) > 0).tolist()
    reps = max(1, args.repeats - 2)
    t_forced, _ = timed(lm, lambda: gen(64, prompts, forced=True), reps)
    t_eos, comps = timed(lm, lambda: gen(64, prompts, forced=False), reps)
    matched = [is_refusal(c) for c in comps]
    r["refusal_metric_s"] = {"first_token": round(t_first, 4), "generate_64_and_match": round(t_forced, 4),
                             "generate_up_to_64_stop_at_eos": round(t_eos, 4)}
    r["speedup_first_token"] = t_forced / t_first
    r["speedup_first_token_vs_eos_stopping"] = t_eos / t_first
    r["agreement_first_token_vs_substring"] = sum(a == b for a, b in zip(first, matched)) / len(prompts)
    r["refusal_rate_substring"] = sum(matched) / len(prompts)
    report(r, meaningful_agreement=not args.random_init_config)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n")
    return r


def report(r: dict[str, Any], meaningful_agreement: bool) -> None:
    print(f"model {r['model']} ({r['params_million']} M params, {r['n_layers']} layers, d={r['d_model']}) "
          f"on {r['device']} {r['dtype']}; batch {r['batch_size']}, {r['new_tokens']} new tokens per prompt")
    print(f"{'generation':38s} {'tokens/s':>10s}  spread (max-min)/median over repeats")
    for name, v in r["tokens_per_s"].items():
        print(f"  {name:36s} {v:10.1f}  {r['spread'][name]:.0%}")
    rows = [
        ("ablation / unsteered", r["ratio_ablation_vs_unsteered"], ">= 0.90", r["ratio_ablation_vs_unsteered"] >= 0.9),
        ("addition / unsteered", r["ratio_addition_vs_unsteered"], ">= 0.90", r["ratio_addition_vs_unsteered"] >= 0.9),
        ("orthogonalised / unsteered", r["ratio_orthogonalised_vs_unsteered"], "~ 1.00",
         abs(r["ratio_orthogonalised_vs_unsteered"] - 1) <= 0.1),
        ("first-token metric speed-up vs generate-64", r["speedup_first_token"], ">= 20x", r["speedup_first_token"] >= 20),
    ]
    agree_ok = r["agreement_first_token_vs_substring"] >= 0.95
    rows.append(("agreement first-token vs substrings", r["agreement_first_token_vs_substring"], ">= 0.95",
                 agree_ok if meaningful_agreement else None))
    print(f"{'comparison':44s} {'value':>8s}  {'goal':8s} met")
    for name, v, goal, ok in rows:
        mark = "n/a (random weights)" if ok is None else ("yes" if ok else "NO")
        print(f"  {name:42s} {v:8.2f}  {goal:8s} {mark}")
    t = r["refusal_metric_s"]
    print(f"  (first token {t['first_token']:.3f} s; generate 64 tokens {t['generate_64_and_match']:.3f} s; "
          f"generate up to 64, stopping at EOS {t['generate_up_to_64_stop_at_eos']:.3f} s = "
          f"{r['speedup_first_token_vs_eos_stopping']:.1f}x; substring refusal rate {r['refusal_rate_substring']:.2f})")


if __name__ == "__main__":
    main()
