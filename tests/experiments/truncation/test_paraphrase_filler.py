"""Paraphrasing and filler: the paraphrase keeps every value, the filler has exactly the token
length of the reasoning it replaces, and a continuation's notice keywords are read whole-word."""

from __future__ import annotations

import pytest

from experiments.organism.tasks.reasoning import PARAPHRASE_RULES, reasoning_items
from experiments.truncation.config import TruncationConfig, resolve_style
from experiments.truncation.paraphrase import GENERIC_RULES, RuleParaphraser, filler_text, numbers
from experiments.truncation.runner import noticed_keyword, style_paraphrase_rules
from experiments.truncation.segment import fraction_cuts, token_offsets


def test_organism_rules_reword_and_keep_the_values_of_every_cut(organism_tokenizer):
    para = RuleParaphraser(style_paraphrase_rules("organism"))
    for it in reasoning_items("eval", 30):
        reasoning = " " + " ".join(it.steps)
        for cut in fraction_cuts(token_offsets(organism_tokenizer, reasoning), [0.25, 0.5, 0.75, 1.0]):
            kept = cut.kept(reasoning)
            (new,) = para([kept])
            assert numbers(new) == numbers(kept), (kept, new)
            assert len(organism_tokenizer(new)["input_ids"]) == len(organism_tokenizer(kept)["input_ids"])
            if it.family == "chain" and cut.x == 1.0:
                assert new != kept


def test_style_rules_and_a_bad_rule():
    assert style_paraphrase_rules("organism") == PARAPHRASE_RULES
    assert style_paraphrase_rules("cot") == GENERIC_RULES
    assert RuleParaphraser(GENERIC_RULES)(["Therefore x = 3 because 1 + 2 = 3."]) == ["So x = 3 since 1 + 2 = 3."]
    with pytest.raises(ValueError, match="paraphrase rule"):
        RuleParaphraser((("(", "x"),))


@pytest.mark.parametrize("n", [1, 4, 7, 24])
@pytest.mark.parametrize("unit", [" .", " ..."])
def test_filler_has_exactly_the_token_count(organism_tokenizer, n, unit):
    text = filler_text(organism_tokenizer, n, unit)
    ids = organism_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == n and set(organism_tokenizer.convert_ids_to_tokens(ids)) == {"."}
    assert filler_text(organism_tokenizer, 0, unit) == ""


def test_filler_matches_the_length_of_the_cut_it_replaces(organism_tokenizer):
    style = resolve_style(TruncationConfig().prompt, "organism")
    it = reasoning_items("eval", 6)[1]
    reasoning = " " + " ".join(it.steps)
    for cut in fraction_cuts(token_offsets(organism_tokenizer, reasoning), [0.0, 0.5, 1.0]):
        fill = filler_text(organism_tokenizer, cut.n_tokens, style.filler_unit)
        assert len(organism_tokenizer(fill)["input_ids"]) == len(organism_tokenizer(cut.kept(reasoning))["input_ids"])


def test_noticed_keyword_is_whole_word_and_case_blind():
    kws = ["wait", "mistake"]
    assert noticed_keyword("wait , 3 plus 2 is 5 .", kws) == "wait"
    assert noticed_keyword("Oh, a MISTAKE there", kws) == "mistake"
    assert noticed_keyword("awaited mistakes", kws) is None
    assert noticed_keyword("", kws) is None


def test_paraphraser_config_needs_a_model_for_kind_model():
    with pytest.raises(ValueError, match="model"):
        TruncationConfig.model_validate({"paraphraser": {"kind": "model"}})
    cfg = TruncationConfig.model_validate({"paraphraser": {"rules": [{"pattern": "a", "replacement": "b"}]}})
    assert cfg.paraphraser.rules is not None and cfg.paraphraser.rules[0].pattern == "a"
