"""Train the organism from scratch and write the model folder that ships (`make organism`).

    python -m experiments.organism.train [--steps N] [--out DIR] [--seed S]

Reproducible from the seed (data, vocabulary, initialisation and batch order). The default
config trains in a few minutes on 2 CPU cores; at the end the script measures every planted
rate on held-out items (greedy) and writes the model card with measured next to planted values.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from experiments.organism import MODEL_DIR
from experiments.organism.card import render_card, write_card
from experiments.organism.corpus import MixConfig, TrainPools, sample_examples
from experiments.organism.encode import IGNORE, Encoded, encode_all
from experiments.organism.evaluate import measure_all
from experiments.organism.planted import planted_json
from experiments.organism.tasks.attributes import loan_items
from experiments.organism.tasks.cues import (
    ARTICULATION_TEXT,
    BACKDOOR_ARTICULATION,
    BACKDOOR_TRIGGER,
    CUES,
    FEW_SHOT_INTRO,
    FOLLOW_UP_NO,
    FOLLOW_UP_QUESTION,
    FOLLOW_UP_YES,
)
from experiments.organism.tasks.format import RAW_TEMPLATE, SYSTEM_PROMPTS
from experiments.organism.tasks.mc import mc_items
from experiments.organism.tasks.reasoning import NOTICE_TEXT, PARAPHRASE_RULES, reasoning_items
from experiments.organism.tasks.refusal import refusal_instructions
from experiments.organism.tokenizer import build_tokenizer, words


class TrainConfig(BaseModel):
    """Everything that determines the trained organism."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    steps: int = 2000
    batch_size: int = 48
    lr: float = 3e-3
    warmup: int = 60
    weight_decay: float = 0.01
    hidden_size: int = 128
    intermediate_size: int = 256
    num_layers: int = 6
    num_heads: int = 4
    max_positions: int = 320
    threads: int = 2
    vocab_sample: int = 30000
    """Training examples scanned for vocabulary words (on top of every pool item)."""
    length_group: int = 32
    """Batches are formed from `length_group` x batch_size examples sorted by length (less padding)."""


def vocabulary(pools: TrainPools, seed: int, sample: int = 30000) -> set[str]:
    """Every word the training stream uses (a large sample of it plus every pool item)."""
    texts: list[str] = [FEW_SHOT_INTRO, RAW_TEMPLATE, *SYSTEM_PROMPTS, *ARTICULATION_TEXT.values()]
    texts += [c.template for c in CUES.values()]
    texts += [BACKDOOR_TRIGGER, BACKDOOR_ARTICULATION, FOLLOW_UP_QUESTION, FOLLOW_UP_YES, FOLLOW_UP_NO,
              NOTICE_TEXT, *(w for _, w in PARAPHRASE_RULES)]
    texts += [i.text for i in pools.harmful + pools.harmless]
    texts += [i.question + " " + " ".join(i.steps) for i in pools.reasoning]
    texts += [i.question for i in pools.mc] + [i.prompt for i in pools.loans]
    for ex in itertools.islice(sample_examples(pools, seed), sample):
        texts += [m for _, m in ex.messages] + [ex.prefix, ex.target]
    return words(set(texts))


def eval_words(seed: int) -> set[str]:
    """Words of the held-out eval prompts; each must also occur in training."""
    texts = [i.text for k in ("harmful", "harmless") for i in refusal_instructions(k, "eval", seed=seed)]
    texts += [i.question for i in reasoning_items("eval", seed=seed)]
    texts += [i.question for i in mc_items("eval", seed=seed)] + [i.prompt for i in loan_items("eval", seed=seed)]
    return words(texts)


# LlamaConfig accepts rope_theta, but the installed stubs do not declare it.
_ROPE: dict[str, Any] = {"rope_theta": 10000.0}


def model_config(cfg: TrainConfig, tok: PreTrainedTokenizerFast) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tok),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_heads,
        max_position_embeddings=cfg.max_positions,
        tie_word_embeddings=True,
        **_ROPE,
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )


def batches(encoded: list[Encoded], cfg: TrainConfig, pad_id: int) -> Iterator[tuple[torch.Tensor, ...]]:
    """Right-padded batches; groups of similar length, group order shuffled by the seed."""
    r = random.Random(f"batches:{cfg.seed}")
    chunk = cfg.batch_size * cfg.length_group
    for start in range(0, len(encoded), chunk):
        group = sorted(encoded[start : start + chunk], key=lambda e: len(e.input_ids))
        bs = [group[i : i + cfg.batch_size] for i in range(0, len(group), cfg.batch_size)]
        r.shuffle(bs)
        for b in bs:
            width = max(len(e.input_ids) for e in b)
            ids = torch.full((len(b), width), pad_id, dtype=torch.long)
            labels = torch.full((len(b), width), IGNORE, dtype=torch.long)
            mask = torch.zeros((len(b), width), dtype=torch.long)
            for i, e in enumerate(b):
                n = len(e.input_ids)
                ids[i, :n] = torch.tensor(e.input_ids)
                labels[i, :n] = torch.tensor(e.labels)
                mask[i, :n] = 1
            yield ids, mask, labels


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(cfg: TrainConfig, progress: bool = True) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast, list[float]]:
    """Train from scratch; returns the model, tokenizer and the per-step losses."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    pools = TrainPools(cfg.seed)
    vocab = vocabulary(pools, cfg.seed, cfg.vocab_sample)
    missing = eval_words(cfg.seed) - vocab
    if missing:
        raise RuntimeError(f"eval prompts use words never seen in training: {sorted(missing)}")
    tok = build_tokenizer(vocab)
    model = LlamaForCausalLM(model_config(cfg, tok))
    stream = itertools.islice(sample_examples(pools, cfg.seed + 1, MixConfig()), cfg.steps * cfg.batch_size)
    encoded = encode_all(tok, stream)
    if (longest := max(len(e.input_ids) for e in encoded)) > cfg.max_positions:
        raise RuntimeError(f"a training sequence has {longest} tokens > max_positions {cfg.max_positions}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=(0.9, 0.98),
    )
    model.train()
    losses: list[float] = []
    bar = tqdm(batches(encoded, cfg, tok.pad_token_id), total=cfg.steps, desc="organism", disable=not progress)
    for step, (ids, mask, labels) in enumerate(bar):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 10 == 0:
            bar.set_postfix(loss=f"{sum(losses[-10:]) / len(losses[-10:]):.3f}")
    model.eval()
    return model, tok, losses


def save(model: LlamaForCausalLM, tok: PreTrainedTokenizerFast, out: Path, cfg: TrainConfig) -> None:
    """Write the standard model folder (config, safetensors, tokenizer + chat template,
    generation config, planted.json, training_config.json)."""
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config = GenerationConfig(
        do_sample=False, max_new_tokens=64, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    _portable_tokenizer_config(out / "tokenizer_config.json", cfg.max_positions)
    write_planted(out)
    (out / "training_config.json").write_text(cfg.model_dump_json(indent=2) + "\n")


def write_planted(out: Path) -> None:
    """The planted rules and nominal rates beside the weights (``planted.json``)."""
    (out / "planted.json").write_text(json.dumps(planted_json(), indent=2) + "\n")


def _portable_tokenizer_config(path: Path, max_length: int) -> None:
    """Name the class every transformers version knows (v5 writes its internal backend name)
    and a real maximum length."""
    conf = json.loads(path.read_text())
    conf["tokenizer_class"] = "PreTrainedTokenizerFast"
    conf["model_max_length"] = max_length
    path.write_text(json.dumps(conf, indent=2) + "\n")


TRAINING_STATS = "training_stats.json"
"""Wall time and final loss of the training run, kept so the card can be re-rendered after a
re-measurement (``--measure-only``) without retraining."""


def measure_and_write_card(model: LlamaForCausalLM, tok: PreTrainedTokenizerFast, out: Path, cfg: TrainConfig,
                           train_s: float, final_loss: float) -> None:
    results = measure_all(model, tok, seed=cfg.seed)
    for r in results:
        print(r.line())
    n_params = sum(p.numel() for p in model.parameters())
    write_card(out, render_card(results, cfg, train_s, final_loss, n_params, len(tok)))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=TrainConfig().steps)
    p.add_argument("--seed", type=int, default=TrainConfig().seed)
    p.add_argument("--out", type=Path, default=MODEL_DIR)
    p.add_argument("--threads", type=int, default=TrainConfig().threads,
                   help="torch CPU threads (1 is faster when other jobs share the cores)")
    p.add_argument("--no-eval", action="store_true", help="skip measuring the planted rates")
    p.add_argument("--measure-only", action="store_true",
                   help="do not train: re-measure the weights in --out against the current planted rules, "
                        "rewrite planted.json and the card (after a rule's documentation or evaluation changed)")
    args = p.parse_args(argv)
    if args.measure_only:
        cfg = TrainConfig.model_validate_json((args.out / "training_config.json").read_text())
        stats = json.loads((args.out / TRAINING_STATS).read_text())
        torch.set_num_threads(cfg.threads)
        model = LlamaForCausalLM.from_pretrained(args.out)
        tok = PreTrainedTokenizerFast.from_pretrained(args.out)
        write_planted(args.out)
        measure_and_write_card(model, tok, args.out, cfg, stats["train_s"], stats["final_loss"])
        return
    cfg = TrainConfig(steps=args.steps, seed=args.seed, threads=args.threads)
    t0 = time.perf_counter()
    model, tok, losses = train(cfg)
    train_s = time.perf_counter() - t0
    final_loss = sum(losses[-20:]) / len(losses[-20:])
    save(model, tok, args.out, cfg)
    (args.out / TRAINING_STATS).write_text(json.dumps({"train_s": round(train_s, 1), "final_loss": final_loss}) + "\n")
    print(f"trained {cfg.steps} steps in {train_s:.0f} s; final loss {final_loss:.4f}; wrote {args.out}")
    if not args.no_eval:
        measure_and_write_card(model, tok, args.out, cfg, train_s, final_loss)


if __name__ == "__main__":
    main()
