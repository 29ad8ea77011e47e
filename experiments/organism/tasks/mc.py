"""Multiple-choice task: fact questions with lettered options and their rendering."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import cache

from experiments.organism.tasks.format import DIGITS, LETTERS, Split, _rng, _round_robin, _take
from experiments.organism.tasks.reasoning import _FACTS, _article

MC_FAMILIES: tuple[str, ...] = (
    "legs", "sides", "wheels", "colors", "sounds", "opposites", "homes", "tastes", "foods", "young",
)


@dataclass(frozen=True)
class MCItem:
    item_id: str
    question: str
    """The question followed by its options (`… ? ( A ) x ( B ) y ( C ) z ( D ) w`); the options
    always end the text."""
    options: list[str]
    answer_idx: int
    family: str
    subject: str = ""
    """The thing asked about (e.g. `grass`)."""

    @property
    def answer_letter(self) -> str:
        return LETTERS[self.answer_idx]


_COLORS = (
    ("grass", "green"), ("the sky", "blue"), ("snow", "white"), ("coal", "black"),
    ("blood", "red"), ("a banana", "yellow"), ("a carrot", "orange"), ("chocolate", "brown"),
    ("a plum", "purple"), ("a flamingo", "pink"),
)
_SOUNDS = (
    ("cow", "moo"), ("dog", "woof"), ("cat", "meow"), ("duck", "quack"), ("sheep", "baa"),
    ("pig", "oink"), ("owl", "hoot"), ("lion", "roar"), ("snake", "hiss"), ("bee", "buzz"),
    ("horse", "neigh"),
)
_OPPOSITE_PAIRS = (
    ("hot", "cold"), ("big", "small"), ("fast", "slow"), ("up", "down"), ("old", "young"),
    ("wet", "dry"), ("full", "empty"), ("day", "night"),
)
_OPPOSITES = tuple(_OPPOSITE_PAIRS) + tuple((b, a) for a, b in _OPPOSITE_PAIRS)
_HOMES = (
    ("bee", "hive"), ("bird", "nest"), ("rabbit", "burrow"), ("spider", "web"),
    ("dog", "kennel"), ("horse", "stable"), ("bear", "den"), ("fox", "den"), ("cow", "barn"),
    ("frog", "pond"), ("fish", "pond"), ("pig", "sty"),
)
_TASTES = (
    ("sugar", "sweet"), ("honey", "sweet"), ("candy", "sweet"), ("a lemon", "sour"),
    ("vinegar", "sour"), ("salt", "salty"), ("chips", "salty"), ("coffee", "bitter"),
)
_FOODS = (
    ("rabbit", "carrots"), ("cow", "grass"), ("cat", "fish"), ("dog", "bones"),
    ("bee", "nectar"), ("panda", "bamboo"), ("monkey", "bananas"), ("bird", "seeds"),
    ("mouse", "cheese"),
)
_YOUNG = (
    ("cat", "kitten"), ("dog", "puppy"), ("cow", "calf"), ("sheep", "lamb"), ("horse", "foal"),
    ("bear", "cub"), ("frog", "tadpole"), ("duck", "duckling"),
)
_MC_TABLES = {"colors": _COLORS, "sounds": _SOUNDS, "opposites": _OPPOSITES, "homes": _HOMES,
              "tastes": _TASTES, "foods": _FOODS, "young": _YOUNG}

_MC_QUESTION = {
    "legs": "How many legs does {a} have ?",
    "sides": "How many sides does {a} have ?",
    "wheels": "How many wheels does {a} have ?",
    "colors": "What color is {x} ?",
    "sounds": "What sound does {a} make ?",
    "opposites": "What is the opposite of {x} ?",
    "homes": "Where does {a} live ?",
    "tastes": "How does {x} taste ?",
    "foods": "What does {a} eat ?",
    "young": "What is a baby {x} called ?",
}
_MC_WRAPPERS_TRAIN = (
    "{q} {opts}",
    "Question : {q} {opts}",
    "{q} Choose one . {opts}",
    "Here is a quiz : {q} {opts}",
    "A question for you : {q} {opts}",
    "Please answer : {q} {opts}",
    "Here is a test : {q} Pick one . {opts}",
    "Quiz : {q} {opts}",
)
_MC_WRAPPERS_EVAL = ("Here is a question : {q} {opts}",)


def mc_fact_sentence(family: str, subject: str, value: str) -> str:
    """The sentence stating a multiple-choice family's fact (trained as open questions)."""
    a = _article(subject).capitalize() if family in _FACTS or family in ("sounds", "homes", "foods") else ""
    return {
        "legs": f"{a} has {value} legs .", "sides": f"{a} has {value} sides .",
        "wheels": f"{a} has {value} wheels .", "colors": f"{subject.capitalize()} is {value} .",
        "sounds": f"{a} says {value} .", "opposites": f"The opposite of {subject} is {value} .",
        "homes": f"{a} lives in {_article(value)} .", "tastes": f"{subject.capitalize()} tastes {value} .",
        "foods": f"{a} eats {value} .", "young": f"A baby {subject} is {_article(value)} .",
    }[family]


def open_questions() -> list[tuple[str, str, str]]:
    """(question, fact sentence, answer) for every multiple-choice fact, asked without options."""
    return [(_MC_QUESTION[f].format(x=s, a=_article(s)), mc_fact_sentence(f, s, v), v)
            for f in MC_FAMILIES for s, v, _ in _mc_pool(f)]


def render_options(options: list[str]) -> str:
    """`( A ) x ( B ) y ( C ) z ( D ) w`."""
    return " ".join(f"( {LETTERS[i]} ) {o}" for i, o in enumerate(options))


@cache
def _mc_pool(family: str) -> list[tuple[str, str, list[str]]]:
    """(subject, answer, distractor pool) for every question of a family."""
    if family in _FACTS:
        return [(t, c, [d for d in DIGITS if d != c]) for t, _, c in _FACTS[family]]
    if family in _MC_TABLES:
        table = _MC_TABLES[family]
        values = sorted({v for _, v in table})
        return [(s, v, [w for w in values if w != v]) for s, v in table]
    raise ValueError(f"unknown family {family!r}")


def _make_mc(r: random.Random, family: str, iid: str, wrapper: str) -> MCItem:
    subject, answer, pool = r.choice(_mc_pool(family))
    opts = r.sample(pool, 3) + [answer]
    r.shuffle(opts)
    q = _MC_QUESTION[family].format(x=subject, a=_article(subject))
    return MCItem(iid, wrapper.format(q=q, opts=render_options(opts)), opts, opts.index(answer), family, subject)


def mc_items(split: Split, n: int | None = None, seed: int = 0, families: tuple[str, ...] = MC_FAMILIES) -> list[MCItem]:
    """Round-robin over families, answer positions balanced (item i of a family has its answer at
    letter i mod 4). Eval uses a held-out wrapper; the facts themselves are necessarily shared."""
    r = _rng("mc", split, seed)
    wrappers = _MC_WRAPPERS_TRAIN if split == "train" else _MC_WRAPPERS_EVAL
    per = 1000 if split == "train" else 100
    strata = []
    for fam in families:
        stratum = []
        for i in range(per):
            # a wrapper per block of four answer positions: `i % len` would tie each wrapper to
            # one answer letter whenever len is even, a shortcut the model learns
            item = _make_mc(r, fam, "", wrappers[(i // 4) % len(wrappers)])
            stratum.append(move_answer(item, i % 4))
        strata.append(stratum)
    out = [replace(it, item_id=f"mc-{split}-{i:04d}") for i, it in enumerate(_round_robin(strata))]
    return _take(out, n)


def move_answer(item: MCItem, idx: int) -> MCItem:
    """The same question with the correct option swapped into position `idx`."""
    opts = list(item.options)
    opts[item.answer_idx], opts[idx] = opts[idx], opts[item.answer_idx]
    q = item.question.replace(render_options(item.options), render_options(opts))
    return replace(item, options=opts, answer_idx=idx, question=q)
