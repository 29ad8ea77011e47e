"""Synthetic tasks of the organism: item types, generators, renderers and format constants.

Pure Python (no torch): the training script builds its corpus from these generators and the
runners build their prompts from the same ones, so train and eval can only differ where a split is
meant to hold something out. Every generator is deterministic given `split` and `seed`, and returns
items in round-robin order over its strata (family, difficulty, kind) so that *any prefix* of the
list is balanced: `n=40` gives the same planted rates as the full list.

Held out for `split="eval"`: refusal templates and (verb, object) pairs, reasoning question
templates and start/operand combinations, multiple-choice and loan prompt wrappers. Every word of
an eval prompt still occurs in training (the tokenizer is word level; an unseen word is `<|unk|>`).

Text conventions. The tokenizer lowercases and splits punctuation into single tokens, so texts are
written as natural English with spaces around punctuation ("( B )", "7 ."), which tokenizes the
same with or without the spaces. Digits are single tokens, so numbers like 4000 are four tokens.

Submodules (import from them directly; this package re-exports nothing, so importing one task
does not load the others): `format` (constants, split RNG, answer parser), `refusal`,
`reasoning`, `mc` (multiple choice), `cues` (biasing cues on MC items), `attributes` (loans).
"""
