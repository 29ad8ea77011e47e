"""Forced-answer sweep vs generating the answer at every cut: time, ratio, agreement.

Same items, same cuts, same batch size, one run. The forced method reads the answer
from one forward pass per cut (what ``reportgen run truncation`` does); the baseline
generates up to ``--gen-tokens`` greedy tokens after the same answer prefix and parses
the answer from the text, as a script without the forced read would.

    python benchmarks/bench_truncation.py                      # the organism, CPU
    python benchmarks/bench_truncation.py --arch qwen2-1.5b    # random weights of a real size (GPU)

With ``--arch`` the weights are random, so only the times mean anything (a random
model rarely emits EOS, so generation runs its full length, as a chat model's
explanation after "(B)" does); agreement is printed for the organism.
"""

from __future__ import annotations

import argparse
import time

import torch

from experiments.core.batching import generate
from experiments.core.mc_datasets import load_dataset
from experiments.core.model import LoadedModel, load_model
from experiments.truncation.answers import AnswerReader
from experiments.truncation.config import TruncationConfig, resolve_style
from experiments.truncation.prompts import answer_prefix, forced_text, parse_answer, question_prompt, split_reasoning
from experiments.truncation.segment import fraction_cuts, token_offsets


def _sync(lm: LoadedModel) -> None:
    if lm.device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="organism")
    ap.add_argument("--arch", default=None, help="random-init architecture (experiments.core.random_init)")
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--gen-tokens", type=int, default=32, help="max tokens the baseline generates per cut")
    ap.add_argument("--reasoning-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (1 is fastest for the organism)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.arch:
        from experiments.core.random_init import random_init_lm

        lm = random_init_lm(args.arch)
    else:
        lm = load_model(args.model)
    cfg = TruncationConfig(model="organism" if args.arch else args.model, max_new_tokens=args.reasoning_tokens,
                           batch_size=args.batch_size, system_prompt="You are a helpful assistant .")
    style = resolve_style(cfg.prompt, cfg.model)
    items = load_dataset("organism", limit=args.items)
    reader = AnswerReader(lm, style, batch_size=args.batch_size, answer_tokens=cfg.answer_tokens)

    prompts = [question_prompt(lm.tokenizer, it, style, cfg) for it in items]
    gens = generate(lm, prompts, max_new_tokens=cfg.max_new_tokens, batch_size=args.batch_size)
    texts, cut_items = [], []
    for it, p, g in zip(items, prompts, gens):
        reasoning = split_reasoning(g, style).reasoning
        for cut in fraction_cuts(token_offsets(lm.tokenizer, reasoning), cfg.fractions):
            texts.append(forced_text(p, cut.kept(reasoning), it, style))
            cut_items.append(it)

    # Warm up both paths so one-off costs (allocator, kernels) are not charged to either.
    reader.forced(texts[: args.batch_size], cut_items[: args.batch_size])
    generate(lm, texts[: args.batch_size], max_new_tokens=2, batch_size=args.batch_size)

    _sync(lm)
    t0 = time.perf_counter()
    forced = reader.forced(texts, cut_items)
    _sync(lm)
    t_forced = time.perf_counter() - t0

    t0 = time.perf_counter()
    completions = generate(lm, texts, max_new_tokens=args.gen_tokens, batch_size=args.batch_size)
    _sync(lm)
    t_gen = time.perf_counter() - t0
    generated = [parse_answer(answer_prefix(it, style) + c, it, style) for c, it in zip(completions, cut_items)]

    agree = sum(f.answer == g for f, g in zip(forced, generated)) / len(texts)
    unparsed = sum(g is None for g in generated)
    print(f"model: {lm.model_id} on {lm.device} ({str(lm.dtype).removeprefix('torch.')}), "
          f"{len(items)} items x {len(cfg.fractions)} cuts = {len(texts)} answers, batch {args.batch_size}")
    print(f"forced (one forward pass per cut): {t_forced:8.3f} s  ({1e3 * t_forced / len(texts):.2f} ms/cut)")
    print(f"generate <= {args.gen_tokens} tokens per cut:  {t_gen:8.3f} s  ({1e3 * t_gen / len(texts):.2f} ms/cut)")
    print(f"speed-up: {t_gen / t_forced:.1f}x (goal >= 10x)")
    note = " (random weights: not meaningful)" if args.arch else ""
    print(f"answer agreement: {agree:.3f}{note}; generated answers unparsed: {unparsed}/{len(texts)}")


if __name__ == "__main__":
    main()
