"""Forced-answer sweep vs generating the answer at every cut: time, ratio, agreement.

Same items, same cuts, same batch size, one run. Three ways to get the answer at every
cut of every reasoning, and the floor they are measured against:

- shared prefix (what ``reportgen run truncation`` does): one packed forward pass per
  *item* holds all its cuts, the answer read from the options' next-token probabilities;
- per cut: the same read, one forward pass per cut;
- generate: up to ``--gen-tokens`` greedy tokens after the same answer prefix, the
  answer parsed from the text, as a script without the forced read would do;
- floor: one forward pass per item over its full reasoning (the 100 % cut alone), the
  least any sweep must do (goal: the shared-prefix sweep <= 1.5x this).

    python benchmarks/bench_truncation.py                      # the organism, CPU
    python benchmarks/bench_truncation.py --model smollm2      # SmolLM2-135M on the shared MMLU sample
    python benchmarks/bench_truncation.py --arch qwen2-1.5b    # random weights of a real size (GPU)

A real model reads ``--data`` (default: ../shared/datasets/mmlu/global_facts_test.csv) with
the chain-of-thought prompt preset, as ``reportgen run truncation`` does for it.

With ``--arch`` the weights are random, so only the times mean anything (a random
model rarely emits EOS, so generation runs its full length, as a chat model's
explanation after "(B)" does); agreement is printed for the organism.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from experiments.core.batching import generate
from experiments.core.mc_datasets import load_dataset
from experiments.core.model import LoadedModel, load_model
from experiments.truncation.answers import AnswerReader
from experiments.truncation.config import TruncationConfig, resolve_style
from experiments.truncation.prompts import answer_prefix, forced_text, parse_answer, question_prompt, split_reasoning
from experiments.truncation.segment import fraction_cuts, sentence_cuts, token_offsets


SHARED_MMLU = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mmlu" / "global_facts_test.csv"


def _sync(lm: LoadedModel) -> None:
    if lm.device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="organism", help="organism, smollm2, a .gguf file, a local folder or a hub id")
    ap.add_argument("--data", default=None, help="dataset spec (default: the organism's items for the organism "
                    "and --arch, else the shared MMLU global_facts sample)")
    ap.add_argument("--arch", default=None, help="random-init architecture (experiments.core.random_init)")
    ap.add_argument("--layers", type=int, default=None, help="with --arch: fewer layers (a quick CPU run)")
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--gen-tokens", type=int, default=32, help="max tokens the baseline generates per cut")
    ap.add_argument("--reasoning-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest for the organism)")
    ap.add_argument("--sentence-cuts", action="store_true", help="also cut after every sentence")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.arch:
        from experiments.core.random_init import random_init_lm

        lm = random_init_lm(args.arch, n_layers=args.layers)
    else:
        lm = load_model(args.model)
    real = not args.arch and args.model != "organism"
    data = args.data or (str(SHARED_MMLU) if real else "organism")
    # The organism's items take its own prompt style; a real model's the chain-of-thought preset.
    cfg = TruncationConfig(model=args.model, max_new_tokens=args.reasoning_tokens, batch_size=args.batch_size,
                           system_prompt=None if real else "You are a helpful assistant .",
                           prompt={"preset": "auto" if real else "organism"})
    style = resolve_style(cfg.prompt, cfg.model)
    items = load_dataset(data, limit=args.items)
    reader = AnswerReader(lm, style, batch_size=args.batch_size, answer_tokens=cfg.answer_tokens)

    prompts = [question_prompt(lm.tokenizer, it, style, cfg) for it in items]
    gens = generate(lm, prompts, max_new_tokens=cfg.max_new_tokens, batch_size=args.batch_size)
    texts, cut_items, trunks, groups = [], [], [], []
    for it, p, g in zip(items, prompts, gens):
        reasoning = split_reasoning(g, style).reasoning
        offsets = token_offsets(lm.tokenizer, reasoning)
        cuts = fraction_cuts(offsets, cfg.fractions)
        if args.sentence_cuts:
            cuts += sentence_cuts(reasoning, offsets)
        group = [forced_text(p, cut.kept(reasoning), it, style) for cut in cuts]
        trunks.append(p + reasoning)
        groups.append(group)
        texts += group
        cut_items += [it] * len(group)

    # Warm up every path so one-off costs (allocator, kernels) are not charged to any.
    reader.forced_shared(trunks[:2], groups[:2], items[:2])
    reader.forced(texts[: args.batch_size], cut_items[: args.batch_size])
    generate(lm, texts[: args.batch_size], max_new_tokens=2, batch_size=args.batch_size)

    _sync(lm)
    t0 = time.perf_counter()
    reader.forced([group[-1] for group in groups], items)
    _sync(lm)
    t_floor = time.perf_counter() - t0

    t0 = time.perf_counter()
    shared = [a for group in reader.forced_shared(trunks, groups, items) for a in group]
    _sync(lm)
    t_shared = time.perf_counter() - t0

    t0 = time.perf_counter()
    forced = reader.forced(texts, cut_items)
    _sync(lm)
    t_forced = time.perf_counter() - t0

    t0 = time.perf_counter()
    completions = generate(lm, texts, max_new_tokens=args.gen_tokens, batch_size=args.batch_size)
    _sync(lm)
    t_gen = time.perf_counter() - t0
    generated = [parse_answer(answer_prefix(it, style) + c, it, style) for c, it in zip(completions, cut_items)]

    n = len(texts)
    agree = sum(f.answer == g for f, g in zip(shared, generated)) / n
    same = sum(a.answer == b.answer for a, b in zip(shared, forced)) / n
    unparsed = sum(g is None for g in generated)
    print(f"model: {lm.model_id} on {lm.device} ({str(lm.dtype).removeprefix('torch.')}), {len(items)} items, "
          f"{n} cuts ({'fractions + sentences' if args.sentence_cuts else 'fractions'}), batch {args.batch_size}")
    print(f"forced, shared prefix (one pass per item): {t_shared:8.3f} s  ({1e3 * t_shared / n:6.2f} ms/cut)")
    print(f"forced, one pass per cut:                  {t_forced:8.3f} s  ({1e3 * t_forced / n:6.2f} ms/cut)")
    print(f"generate <= {args.gen_tokens:<3d} tokens per cut:            {t_gen:8.3f} s  ({1e3 * t_gen / n:6.2f} ms/cut)")
    print(f"floor, one pass per item (full reasoning): {t_floor:8.3f} s  ({1e3 * t_floor / len(items):6.2f} ms/item)")
    print(f"speed-up vs generate: {t_gen / t_shared:.1f}x shared prefix (goal >= 10x), {t_gen / t_forced:.1f}x per cut")
    note = " (random weights: not meaningful)" if args.arch else ""
    print(f"answer agreement with generate: {agree:.3f}{note}; generated answers unparsed: {unparsed}/{n}")
    print(f"shared prefix vs floor: {t_shared / t_floor:.2f}x (goal <= 1.5x)")
    print(f"shared prefix vs per cut, same answer: {same:.3f}")


if __name__ == "__main__":
    main()
