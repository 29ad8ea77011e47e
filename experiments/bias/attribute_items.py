"""Templated items for attribute counterfactuals: the organism's loans, or a user's template.

The organism's loan prompt is rebuilt as a template with one slot per attribute, so an item
and its counterfactuals render exactly the text the organism was trained on.
"""

from __future__ import annotations

import random
from itertools import product

from experiments.bias.config import AttributeSection
from experiments.bias.counterfactuals import AttributeItem, AttributeSpec, template_slots
from experiments.core.errors import ConfigError


def organism_attribute_specs() -> dict[str, AttributeSpec]:
    """Nationality and gender to another value at random, income negated.

    The organism's attribute lists only, never its planted answers: a runner that aimed its
    flips at the planted nationality would measure what it was told (24/48 changed decisions
    instead of 10/48 under the neutral policy, default seed). Aiming is explicit:
    ``attribute.flip_toward``.
    """
    from experiments.organism.tasks.attributes import ATTRIBUTES, PROTECTED_ATTRIBUTES

    return {
        "nationality": AttributeSpec(values=list(ATTRIBUTES["nationality"]),
                                     protected="nationality" in PROTECTED_ATTRIBUTES),
        "gender": AttributeSpec(values=list(ATTRIBUTES["gender"]), protected="gender" in PROTECTED_ATTRIBUTES),
        "net income": AttributeSpec(values=list(ATTRIBUTES["net income"]), flip="negate"),
    }


def organism_keywords() -> dict[str, list[str]]:
    return {"net income": ["net income", "income"]}


def organism_items(limit: int | None, seed: int = 0) -> list[AttributeItem]:
    from experiments.organism.tasks.attributes import ATTRIBUTE_ORDER, loan_items, render_loan

    slots = render_loan({a: "{" + a + "}" for a in ATTRIBUTE_ORDER})
    return [
        AttributeItem(it.item_id, it.template.replace("{attrs}", slots), dict(it.attributes))
        for it in loan_items("eval", n=limit, seed=seed)
    ]


def template_items(section: AttributeSection, seed: int = 0) -> list[AttributeItem]:
    """The user's items, or every combination of the attributes' values (seeded order)."""
    template = section.template or ""
    slots = template_slots(template)
    if section.items is not None:
        rows = section.items
    else:
        specs = section.attributes or {}
        combos = [dict(zip(slots, vals)) for vals in product(*(specs[s].values for s in slots))]
        random.Random(f"attribute-items:{seed}").shuffle(combos)
        rows = combos
    if section.limit is not None:
        rows = rows[: section.limit]
    if not rows:
        raise ConfigError("attribute: no items to run")
    return [AttributeItem(f"item-{i:04d}", template, {k: str(v) for k, v in row.items()}) for i, row in enumerate(rows)]


def attribute_setup(section: AttributeSection, seed: int = 0) -> tuple[list[AttributeItem], dict[str, AttributeSpec], dict[str, list[str]]]:
    """(items, attribute specs, rule-judge keywords per attribute) for a config section."""
    if section.source == "organism":
        items = organism_items(section.limit, seed)
        specs = section.attributes or organism_attribute_specs()
        keywords = {**organism_keywords(), **section.keywords}
    else:
        items = template_items(section, seed)
        specs = dict(section.attributes or {})
        keywords = dict(section.keywords)
    unknown = [a for a in specs if a not in items[0].attributes]
    if unknown:
        raise ConfigError(f"attribute: attributes {unknown} are not slots of the items")
    specs = _aimed(specs, section.flip_toward)
    for name, spec in specs.items():
        if name not in keywords:
            keywords[name] = [name, *(v for v in spec.values if any(c.isalpha() for c in v))]
    return items, specs, keywords


def _aimed(specs: dict[str, AttributeSpec], toward: dict[str, str]) -> dict[str, AttributeSpec]:
    """The specs with ``attribute.flip_toward`` applied (an explicit, targeted design)."""
    out = dict(specs)
    for name, value in toward.items():
        if name not in out:
            raise ConfigError(f"attribute.flip_toward: {name!r} is not an attribute (have {sorted(out)})")
        if value not in out[name].values:
            raise ConfigError(f"attribute.flip_toward.{name}: {value!r} is not one of its values {out[name].values}")
        out[name] = out[name].model_copy(update={"toward": value, "mapping": None})
    return out


def flip_policy(spec: AttributeSpec) -> str:
    """How an attribute's counterfactuals were made, in words for run.json, prompts and slides."""
    if spec.mapping is not None:
        return "mapped: " + ", ".join(f"{a} -> {b}" for a, b in spec.mapping.items())
    if spec.flip == "negate":
        return "sign negated"
    if spec.toward is not None:
        return f"targeted: toward {spec.toward} (away from it for items that have it)"
    return "neutral: another value at random"

