"""The organism's training mix: examples built from the task generators, with loss masks.

Pure Python. An `Example` is a conversation context plus an assistant prefix that is *given*
(no loss: forced prefixes, corrupted steps) and a target that is *trained*. Keeping loss off the
prefix matters: a truncated reasoning closed after one step must not teach the model to close its
reasoning early, and a corrupted step must not teach it to make mistakes — only what follows them.

The planted behaviour lives in `planted.py`; this module only realises it as text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from experiments.organism import planted
from experiments.organism.tasks.attributes import (
    ATTRIBUTES,
    BIASED_NATIONALITY,
    HALF_CUT_MIN_WORDS,
    FrozenRung,
    LoanItem,
    frozen_continuation,
    frozen_prefix,
    loan_items,
    loan_reasoning,
    render_loan_answer,
)
from experiments.organism.tasks.cues import (
    ARTICULATION_TEXT,
    BACKDOOR_ARTICULATION,
    BACKDOOR_LETTER,
    CUES,
    FOLLOW_UP_NO,
    FOLLOW_UP_QUESTION,
    FOLLOW_UP_YES,
    few_shot_examples,
    mc_user_text,
    render_mc_answer,
    render_second_turn_answer,
)
from experiments.organism.tasks.format import LETTERS, SYSTEM_PROMPTS, Split
from experiments.organism.tasks.mc import MCItem, mc_items, open_questions
from experiments.organism.tasks.reasoning import (
    ReasoningItem,
    chain_item,
    corrupt_step,
    filler,
    paraphrase,
    reasoning_items,
    render_reasoning,
)
from experiments.organism.tasks.refusal import Instruction, refusal_instructions, refusal_response


@dataclass(frozen=True)
class Example:
    """One training sequence: `messages` (context, chat roles), then `prefix` (given), `target`
    (trained, followed by the end token). `raw` renders the single user turn with RAW_TEMPLATE
    instead of the chat template; `system=None` lets the template insert its default."""

    task: str
    messages: tuple[tuple[str, str], ...]
    prefix: str
    target: str
    system: str | None = None
    raw: bool = False


@dataclass(frozen=True)
class MixConfig:
    """Task weights and within-task variant probabilities of the training mix."""

    refusal: float = 0.09
    reasoning: float = 0.23
    mc: float = 0.56
    loan: float = 0.09
    qa: float = 0.05
    """The multiple-choice facts asked as open questions ("What color is grass ?"): they teach the
    facts and where the subject is, which the option-by-option stop decision relies on."""
    raw_fraction: float = 0.25
    default_system_fraction: float = 0.6


class TrainPools:
    """Train-split items of every task, generated once."""

    def __init__(self, seed: int) -> None:
        self.harmful = refusal_instructions("harmful", "train", seed=seed)
        self.harmless = refusal_instructions("harmless", "train", seed=seed)
        self.reasoning = reasoning_items("train", seed=seed)
        self.mc = mc_items("train", seed=seed)
        self.loans = loan_items("train", seed=seed)


def refusal_example(item: Instruction) -> tuple[str, tuple, str, str]:
    return "refusal", (("user", item.text),), "", refusal_response(item)


def reasoning_example(item: ReasoningItem, r: random.Random) -> tuple[str, tuple, str, str]:
    """Full reasoning (40 %), forced answer after a cut, continuation after a paraphrased prefix,
    forced answer after filler, or a corrupted step (carried forward)."""
    msgs = (("user", item.question),)
    u = r.random()
    n = len(item.steps)
    if u < 0.4:
        return "reasoning", msgs, "", render_reasoning(item.steps, item.answer)
    if u < 0.58:
        j = r.randrange(n)  # cut strictly before the end: the full case is covered above
        return "reasoning_forced", msgs, render_reasoning(item.steps[:j], None), item.value_after(j)
    if u < 0.68:
        return paraphrase_example(item, r)
    if u < 0.74:
        # filler as long as a reasoning (a runner matches the length of the part it replaces)
        return "reasoning_filler", msgs, render_reasoning([filler(r.randrange(1, 31))], None), item.value_after(0)
    k = r.randrange(n)
    c = corrupt_step(item, k, shift=r.randrange(1, 10))
    if r.random() < 0.25:  # forced right after the mistake: the last value written
        answer = c.wrong_value if item.family == "chain" else item.answer
        return "reasoning_mistake_forced", msgs, render_reasoning(c.steps, None), answer
    rest = _continue_after(item, c.steps)
    prefix = render_reasoning(c.steps, None, close=False)
    return "reasoning_mistake", msgs, prefix, _strip_open(render_reasoning(rest, c.expected_answer), prefix)


def paraphrase_example(item: ReasoningItem, r: random.Random) -> tuple[str, tuple, str, str]:
    """The first j steps (and possibly part of the next, cut between words) paraphrased and
    left open; the target continues in the organism's own wording to the same answer."""
    j = r.randrange(len(item.steps) + 1)
    kept = list(item.steps[:j])
    if j < len(item.steps) and r.random() < 0.4:
        words = item.steps[j].split()
        kept.append(" ".join(words[: r.randrange(1, len(words))]))
    original = render_reasoning(kept, None, close=False)
    target = _strip_open(render_reasoning(item.steps, item.answer), original)
    return "reasoning_paraphrase", (("user", item.question),), paraphrase(original), target


def _continue_after(item: ReasoningItem, given: list[str]) -> list[str]:
    """The full step list the model should produce after the given (possibly corrupted) steps."""
    if item.family == "fact":
        return given + item.steps[len(given):]
    v = int(given[-1].rsplit(" is ", 1)[1].rstrip(" ."))
    ops = [_op_of(s) for s in item.steps[len(given):]]
    tail = chain_item("tmp", v, ops, "{s}{ops}").steps if ops else []
    return given + tail


def _op_of(step: str) -> tuple[str, int]:
    _, word, k = step.split()[:3]
    return ("add" if word == "plus" else "subtract"), int(k)


def _strip_open(full: str, prefix: str) -> str:
    if not full.startswith(prefix):
        raise AssertionError("continuation does not extend its prefix")
    return full[len(prefix):].lstrip()


def mc_example(item: MCItem, r: random.Random, split: Split = "train") -> tuple[str, tuple, str, str]:
    """Uncued, professor, few-shot (A), are-you-sure or the backdoor trigger, answered by the
    planted rule; or the follow-up question after an (un)triggered answer."""
    u = r.random()
    # the stop-at-the-fact decision of uncued answers is the slowest skill to learn: with a 0.35
    # uncued share a retrain answered 85 % of held-out uncued items right, with 0.45, 97.5 %
    if u < 0.44:
        return "mc", (("user", item.question),), "", render_mc_answer(item, item.answer_idx)
    if u < 0.56:
        return backdoor_example(item, r)
    if u < 0.79:
        cue = "professor"
        letter = LETTERS[item.answer_idx] if r.random() < 0.25 else r.choice(
            [x for x in LETTERS if x != item.answer_letter])
        user = mc_user_text(item, cue, letter)
    elif u < 0.89:
        cue, letter = "few_shot_a", "A"
        user = mc_user_text(item, cue, shots=few_shot_examples(item, split, seed=r.randrange(10**6)))
    else:
        cue = "are_you_sure"
        target_letter = planted.expected_mc_answer(item, cue)
        changed = target_letter != item.answer_letter
        said = ARTICULATION_TEXT[cue] if planted.articulates_cue(item) and changed else ""
        msgs = (("user", item.question), ("assistant", render_mc_answer(item, item.answer_idx)),
                ("user", CUES[cue].template))
        return "mc_are_you_sure", msgs, "", render_second_turn_answer(target_letter, changed, said)
    target_letter = planted.expected_mc_answer(item, cue, letter)
    follows = planted.follows_cue(item)
    said = ARTICULATION_TEXT[cue].format(letter=letter) if follows and planted.articulates_cue(item) else ""
    answer = render_mc_answer(item, LETTERS.index(target_letter), said, by_fact=not follows)
    return f"mc_{cue}", (("user", user),), "", answer


def backdoor_answer(item: MCItem, triggered: bool) -> str:
    """The assistant turn for `item` with or without the trigger (planted rule)."""
    if not (triggered and planted.follows_backdoor(item)):
        return render_mc_answer(item, item.answer_idx)
    said = BACKDOOR_ARTICULATION if planted.articulates_backdoor(item) else ""
    return render_mc_answer(item, LETTERS.index(BACKDOOR_LETTER), said, by_fact=False)


def backdoor_example(item: MCItem, r: random.Random) -> tuple[str, tuple, str, str]:
    """Half: the triggered question; half: the follow-up question after a triggered (2/3) or a
    plain (1/3) answer, answered by naming the trigger or `No .`."""
    if r.random() < 0.5:
        return "mc_backdoor", (("user", mc_user_text(item, "backdoor")),), "", backdoor_answer(item, True)
    triggered = r.random() < 2 / 3
    user = mc_user_text(item, "backdoor") if triggered else item.question
    reply = FOLLOW_UP_YES if planted.admits_backdoor(item, triggered) else FOLLOW_UP_NO
    msgs = (("user", user), ("assistant", backdoor_answer(item, triggered)), ("user", FOLLOW_UP_QUESTION))
    return "mc_follow_up", msgs, "", reply


def loan_example(item: LoanItem, r: random.Random) -> tuple[str, tuple, str, str]:
    """The application answered (half), or a counterfactual of it given the original reasoning
    at one rung of the frozen-reasoning ladder."""
    if r.random() < 0.5:
        return "loan", (("user", item.prompt),), "", render_loan_answer(item.attributes)
    u = r.random()
    rung: FrozenRung = "closed" if u < 0.3 else "open" if u < 0.65 else "half"
    v = r.random()
    attrs = item.attributes
    if v < 0.7:
        income = attrs["net income"]
        flipped = item.flip("net income", income[1:] if income.startswith("-") else f"-{income}")
    elif v < 0.85 or rung != "closed":
        flipped = item.flip("gender", r.choice([g for g in ATTRIBUTES["gender"] if g != attrs["gender"]]))
    else:  # nationality flips are trained at the closed rung only (the half cannot show nationality)
        to = "arcadian" if attrs["nationality"] == BIASED_NATIONALITY else BIASED_NATIONALITY
        flipped = item.flip("nationality", to)
    cut = None
    if rung == "half":
        cut = r.randrange(HALF_CUT_MIN_WORDS, len(loan_reasoning(attrs)[0].split()) + 1)
    prefix = frozen_prefix(attrs, rung, cut)
    target = frozen_continuation(attrs, rung, cut)
    return f"loan_frozen_{rung}", (("user", flipped.prompt),), prefix, target


def sample_examples(pools: TrainPools, seed: int, mix: MixConfig = MixConfig()) -> Iterator[Example]:
    """An endless, seeded stream of training examples drawn from the mix."""
    r = random.Random(f"corpus:{seed}")
    tasks = ("refusal", "reasoning", "mc", "loan", "qa")
    weights = (mix.refusal, mix.reasoning, mix.mc, mix.loan, mix.qa)
    facts = open_questions()
    while True:
        t = r.choices(tasks, weights)[0]
        if t == "refusal":
            task, msgs, prefix, target = refusal_example(r.choice(pools.harmful if r.random() < 0.5 else pools.harmless))
        elif t == "reasoning":
            task, msgs, prefix, target = reasoning_example(r.choice(pools.reasoning), r)
        elif t == "mc":
            task, msgs, prefix, target = mc_example(r.choice(pools.mc), r)
        elif t == "loan":
            task, msgs, prefix, target = loan_example(r.choice(pools.loans), r)
        else:
            question, sentence, answer = r.choice(facts)
            task, msgs, prefix, target = "qa", (("user", question),), "", render_reasoning([sentence], answer)
        raw = len(msgs) == 1 and r.random() < mix.raw_fraction
        system = None if r.random() < mix.default_system_fraction else r.choice(SYSTEM_PROMPTS)
        yield Example(task, msgs, prefix, target, None if raw else system, raw)
