"""Which chart, which two categories, and what the takeaway says — no rendering needed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reportgen.chart.spec import build_chart_specs, select_prompt
from reportgen.inputs.deck_yaml import DeckSpec, SpecError
from reportgen.rundir.reader import Run, load_run
from reportgen.rundir.schema import PromptRecord, validate_results

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def rate_rows(experiment, condition, p, n=40, metric="refusal", x=None, group=None, task="steering"):
    k = int(round(p * n))
    return [
        {"experiment": experiment, "task": task, "model": "m", "condition": condition, "item_id": f"i{i:03d}",
         "metric": metric, "value": float(i < k), "x": x, "group": group}
        for i in range(n)
    ]


def make_run(*parts, prompts=(), name="r") -> Run:
    df = validate_results(pd.DataFrame([r for p in parts for r in p]))
    return Run(path=Path(name), results=df, prompts=list(prompts))


def main_of(charts, experiment):
    (chart,) = [c for c in charts if c.experiment == experiment and not c.backup]
    return chart


def steering_run(**kw):
    return make_run(
        rate_rows("harmful", "baseline", 0.975),
        rate_rows("harmful", "random_ablation", 0.95),
        rate_rows("harmful", "ablation", 0.025),
        **kw,
    )


def test_automatic_choice_is_baseline_vs_strongest_effect_with_full_breakdown_in_backup():
    charts = build_chart_specs([steering_run()])
    main = main_of(charts, "harmful")
    assert main.kind == "bars" and [b.category for b in main.bars] == ["baseline", "ablation"]
    assert main.title == "Ablation drops refusal from 98% to 3%"
    assert main.highlight.category == "ablation" and main.highlight.text == "refusal drops 95 points"
    assert main.footnote == "n = 40 per bar. Error bars: 95% Wilson interval."
    assert main.n_total == 80
    (backup,) = [c for c in charts if c.backup]
    assert backup.backup and {b.category for b in backup.bars} == {"baseline", "random_ablation", "ablation"}
    assert backup.highlight is None


def test_spec_picks_the_categories_and_overrides_the_words():
    spec = DeckSpec(project="p", experiments=[{
        "experiment": "harmful", "categories": ["baseline", "random_ablation"], "callout": "the control does nothing",
    }])
    main = main_of(build_chart_specs([steering_run()], spec), "harmful")
    assert [b.category for b in main.bars] == ["baseline", "random_ablation"]
    # 98% vs 95% of 40: the intervals overlap, so no effect is claimed.
    assert main.title == "Random-direction ablation does not clearly change refusal (98% vs 95%)"
    assert main.highlight.text == "the control does nothing"
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "takeaway": "Refusal lives in one direction"}])
    assert main_of(build_chart_specs([steering_run()], spec), "harmful").title == "Refusal lives in one direction"


def test_rise_and_mean_sentences():
    run = make_run(
        rate_rows("harmless", "baseline", 0.025),
        rate_rows("harmless", "addition", 0.95),
        [{"experiment": "cost", "task": "steering", "model": "m", "condition": c, "item_id": f"i{i}",
          "metric": "kl", "value": v + 0.001 * i} for c, v in (("baseline", 0.0), ("ablation", 0.05)) for i in range(10)],
    )
    charts = build_chart_specs([run])
    assert main_of(charts, "harmless").title == "Addition raises refusal from 3% to 95%"
    cost = main_of(charts, "cost")
    assert cost.value_kind == "mean" and cost.title.startswith("Ablation raises KL divergence from 0.0045 to 0.0545")
    assert "95% t interval" in cost.footnote


def test_without_a_baseline_the_first_condition_is_the_reference():
    run = make_run(rate_rows("e", "greedy", 0.8), rate_rows("e", "sampled", 0.2), rate_rows("e", "beam", 0.75))
    main = main_of(build_chart_specs([run]), "e")
    assert [b.category for b in main.bars] == ["greedy", "sampled"]
    assert main.title == "Refusal is lower under sampled than greedy: 20% vs 80%"


def bias_run():
    parts = []
    for cue, switch, articulate in (("professor", 0.5, 0.1), ("few_shot_a", 0.6, 0.55), ("are_you_sure", 0.2, 0.1)):
        parts.append(rate_rows("cue", "cued", switch, n=80, metric="switched", group=cue, task="bias"))
        parts.append(rate_rows("cue", "cued", articulate, n=int(80 * switch), metric="articulated", group=cue,
                               task="bias"))
    return make_run(*parts)


def test_bias_compares_switch_and_articulation_for_the_most_unfaithful_cue():
    charts = build_chart_specs([bias_run()])
    main = main_of(charts, "cue")
    # few_shot_a switches most, but professor has the widest switch-minus-articulation gap.
    assert main.group == "professor" and main.category_field == "metric"
    assert [b.category for b in main.bars] == ["switched", "articulated"]
    assert [(b.estimate.k, b.estimate.n) for b in main.bars] == [(40, 80), (4, 40)]
    assert main.title == ("With the professor cue, the model follows the cue in 50% of items "
                          "but admits it in only 10% of switches")
    assert main.highlight.category == "articulated"
    (backup,) = [c for c in charts if c.backup]
    assert {b.group for b in backup.bars} == {"professor", "few_shot_a", "are_you_sure"} and len(backup.bars) == 6


def test_spec_group_all_pools_the_cues():
    spec = DeckSpec(project="p", experiments=[{"experiment": "cue", "group": "all"}])
    main = main_of(build_chart_specs([bias_run()], spec), "cue")
    assert main.group is None and main.bars[0].estimate.n == 240


def truncation_run():
    parts = []
    for x, forced, continued in ((0.0, 0.25, 0.6), (0.5, 0.45, 0.9), (1.0, 1.0, 1.0)):
        parts.append(rate_rows("early_answering", "forced", forced, metric="matches_full", x=x, task="truncation"))
        parts.append(rate_rows("early_answering", "continued", continued, metric="matches_full", x=x,
                               task="truncation"))
    return make_run(*parts)


def test_curve_compares_the_series_inside_the_range():
    charts = build_chart_specs([truncation_run()])
    main = main_of(charts, "early_answering")
    assert main.kind == "curve" and main.x_format == "percent" and main.x_label == "Reasoning kept"
    assert [s.category for s in main.series] == ["forced", "continued"]
    assert [p.x for p in main.series[0].points] == [0.0, 0.5, 1.0]
    # The gap is largest at 0% (35 points) but the ends are degenerate; 50% (45 points) is inside.
    assert main.highlight.x == 0.5 and main.highlight.category == "continued"
    assert main.title == ("Continued reasoning keeps agreement with the full answer higher than forced answer: "
                          "90% vs 45% with 50% of the reasoning kept")
    backups = [c for c in charts if c.backup]
    assert [c.chart_id for c in backups] == ["r-early_answering-backup-matches_full-by-x"]
    assert {b.group for b in backups[0].bars} == {"0%", "50%", "100%"}


def test_sweep_finds_the_layer_that_matters_against_the_baseline():
    parts = [rate_rows("layer_sweep", "baseline", 0.95)]
    for layer in range(12):
        parts.append(rate_rows("layer_sweep", "ablation", 0.1 if layer == 7 else 0.9, x=layer))
    main = main_of(build_chart_specs([make_run(*parts)]), "layer_sweep")
    assert main.kind == "sweep" and main.x_format == "integer"
    assert [r.category for r in main.references] == ["baseline"]
    assert main.highlight.x == 7
    assert main.title == "Ablation at layer 7 alone drops refusal from 95% to 10%"


def test_spec_naming_something_absent_is_a_spec_error_listing_what_exists():
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "categories": ["baseline", "ablaton"]}])
    with pytest.raises(SpecError, match=r"categories \['ablaton'\] are neither conditions \(baseline, "):
        build_chart_specs([steering_run()], spec)
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "metric": "refusal_score"}])
    with pytest.raises(SpecError, match="metric 'refusal_score' not in results"):
        build_chart_specs([steering_run()], spec)


def test_bias_prompt_is_from_the_cue_the_chart_shows():
    """The same items are asked under every cue; the prompt slide must show the charted cue's
    record (professor here), not the first cue's record of a switched item id."""
    order = ("are_you_sure", "few_shot_a", "professor")
    prompts = [PromptRecord(experiment="cue", condition="cued", item_id=f"i{i:03d}", group=cue,
                            prompt=f"{cue} {i}", prompt_format="chat") for cue in order for i in range(3)]
    run = bias_run()
    run = Run(path=run.path, results=run.results, prompts=prompts)
    main = main_of(build_chart_specs([run]), "cue")
    assert main.group == "professor"
    assert select_prompt(run, main).prompt == "professor 0"


def test_curve_prompt_is_an_item_where_the_two_curves_disagree():
    """At the highlighted cut, continued matches for every item and forced for the first half:
    the prompt shown is an item of the second half, where forcing changed the answer."""
    parts = []
    for x, forced_p in ((0.0, 0.2), (0.5, 0.5), (1.0, 1.0)):
        parts.append(rate_rows("early_answering", "forced", forced_p, metric="matches_full", x=x, task="truncation"))
        parts.append(rate_rows("early_answering", "continued", 1.0, metric="matches_full", x=x, task="truncation"))
    prompts = [PromptRecord(experiment="early_answering", condition=c, item_id=f"i{i:03d}", x=x,
                            prompt=f"{c} {i} {x}", prompt_format="chat")
               for c in ("forced", "continued") for x in (0.0, 0.5, 1.0) for i in range(40)]
    main = main_of(build_chart_specs([make_run(*parts, prompts=prompts)]), "early_answering")
    assert main.kind == "curve" and main.prompt.x == main.highlight.x
    shown = rate_rows("early_answering", "forced", {0.0: 0.2, 0.5: 0.5}[main.prompt.x], x=main.prompt.x)
    assert shown[int(main.prompt.item_id[1:])]["value"] == 0.0, main.prompt


def test_spec_orders_skips_and_limits_experiments():
    run = make_run(rate_rows("a", "baseline", 0.5), rate_rows("b", "baseline", 0.5), rate_rows("c", "baseline", 0.5))
    spec = DeckSpec(project="p", experiments=[{"experiment": "c"}, {"experiment": "a", "skip": True}])
    assert [c.experiment for c in build_chart_specs([run], spec)] == ["c", "b"]
    spec = DeckSpec(project="p", only_listed=True, experiments=[{"experiment": "b"}])
    assert [c.experiment for c in build_chart_specs([run], spec)] == ["b"]


def test_default_prompt_shows_an_item_where_the_effect_happened():
    prompts = [
        PromptRecord(experiment="harmful", condition=c, item_id=f"i{i:03d}", prompt=f"{c} {i}", prompt_format="chat")
        for c in ("baseline", "ablation") for i in range(3)
    ]
    run = steering_run(prompts=prompts)
    main = main_of(build_chart_specs([run]), "harmful")
    # i000 is the one ablated item still refused (1 of 40); the slide should show one that is not.
    assert main.prompt.condition == "ablation" and main.prompt.item_id == "i001"
    assert select_prompt(run, main).prompt == "ablation 1"


def test_a_spec_prompt_without_an_item_still_shows_the_effect():
    prompts = [
        PromptRecord(experiment="harmful", condition=c, item_id=f"i{i:03d}", prompt=f"{c} {i}", prompt_format="chat")
        for c in ("baseline", "ablation") for i in range(3)
    ]
    run = steering_run(prompts=prompts)
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "prompt": {"condition": "ablation"}}])
    main = main_of(build_chart_specs([run], spec), "harmful")
    assert (main.prompt.condition, main.prompt.item_id) == ("ablation", "i001")
    pinned = DeckSpec(project="p", experiments=[
        {"experiment": "harmful", "prompt": {"condition": "baseline", "item_id": "i002"}}])
    main = main_of(build_chart_specs([run], pinned), "harmful")
    assert select_prompt(run, main).prompt == "baseline 2"


def test_example_runs_give_one_main_chart_per_experiment_with_at_most_two_categories():
    runs = [load_run(EXAMPLES / d) for d in ("steering", "truncation", "bias", "aggregated")]
    charts = build_chart_specs(runs)
    mains = [c for c in charts if not c.backup]
    assert len(mains) == sum(r.results["experiment"].nunique() for r in runs)
    for c in mains:
        assert len(c.bars) <= 2 and len(c.series) <= 2, c.chart_id
        assert c.highlight is not None, c.chart_id
        assert "_" not in c.title and c.title[0].isupper(), c.title
    assert len({c.chart_id for c in charts}) == len(charts)


def test_sweep_draws_one_line_per_window_width_and_borrows_the_harmful_baseline():
    parts = [rate_rows("harmful", "baseline", 0.95)]
    for width, window in ((1, "single layer"), (3, "3-layer window")):
        for layer in range(10):
            hit = 0.1 if (width == 3 and layer == 4) else 0.6 if layer == 4 else 0.9
            parts.append(rate_rows("layer_sweep", "ablation", hit, x=layer, group=window))
    charts = build_chart_specs([make_run(*parts)])
    main = main_of(charts, "layer_sweep")
    assert [(s.category, s.group) for s in main.series] == [("ablation", "single layer"), ("ablation", "3-layer window")]
    assert [r.category for r in main.references] == ["baseline"] and main.references[0].estimate.n == 40
    assert main.title == "Ablation at layers 4–6 alone drops refusal from 95% to 10%"
    assert (main.highlight.x, main.highlight.group) == (4, "3-layer window")
    assert "baseline measured in 'harmful'" in main.caption
    assert main.footnote.startswith("n = 40 per point; baseline n = 40.")


def test_parse_failures_are_reported_and_bookkeeping_metrics_get_no_chart():
    run = make_run(
        rate_rows("adding_mistakes", "continued", 0.95, metric="matches_full", task="truncation"),
        rate_rows("adding_mistakes", "mistake", 0.4, metric="matches_full", task="truncation"),
        rate_rows("adding_mistakes", "mistake", 0.05, metric="parse_failure", task="truncation"),
        rate_rows("adding_mistakes", "continued", 0.0, metric="parse_failure", task="truncation"),
    )
    charts = build_chart_specs([run])
    assert [c.metric for c in charts] == ["matches_full"]
    (main,) = charts
    assert main.title == "Added mistake drops agreement with the full answer from 95% to 40%"
    assert main.footnote.endswith("Parse failures: 2 of 80 (counted as outcomes, not dropped).")


def test_attribute_experiments_compare_decision_changes_with_articulation():
    run = make_run(
        rate_rows("attribute", "flipped", 0.4, n=80, metric="changed", group="nationality", task="bias"),
        rate_rows("attribute", "flipped", 0.0625, n=32, metric="articulated", group="nationality", task="bias"),
        rate_rows("attribute", "flipped", 0.7, metric="changed", group="net_income", task="bias"),
        rate_rows("attribute", "flipped", 0.9, n=28, metric="articulated", group="net_income", task="bias"),
    )
    main = main_of(build_chart_specs([run]), "attribute")
    assert main.group == "nationality"
    assert main.title == ("Flipping nationality changes the decision in 40% of items "
                          "but the reasoning admits it in only 6% of changes")
    assert "other attributes in backup" in main.caption
    # With 16/40 vs 1/16 the intervals overlap, and the sentence must not say "only".
    run_small = make_run(
        rate_rows("attribute", "flipped", 0.4, metric="changed", group="nationality", task="bias"),
        rate_rows("attribute", "flipped", 0.0625, n=16, metric="articulated", group="nationality", task="bias"),
    )
    assert "and the reasoning admits it in 6% of changes" in main_of(build_chart_specs([run_small]), "attribute").title


def test_aggregated_tables_drive_every_chart_form():
    from reportgen.chart.render import draw_chart

    rows = []
    for cue, k_sw, n_sw, k_ar in (("professor", 46, 96, 4), ("few_shot_a", 31, 96, 2)):
        rows += [{"experiment": "cue", "task": "bias", "model": "m", "condition": "cued", "metric": "switched",
                  "group": cue, "k": k_sw, "n": n_sw},
                 {"experiment": "cue", "task": "bias", "model": "m", "condition": "cued", "metric": "articulated",
                  "group": cue, "k": k_ar, "n": k_sw}]
    for cond, ks in (("forced", (10, 20, 39)), ("continued", (25, 33, 38))):
        rows += [{"experiment": "early_answering", "task": "truncation", "model": "m", "condition": cond,
                  "metric": "matches_full", "x": x, "k": k, "n": 40} for x, k in zip((0.0, 0.5, 1.0), ks)]
    run = Run(path=Path("agg"), results=validate_results(pd.DataFrame(rows)))
    charts = build_chart_specs([run])
    cue = main_of(charts, "cue")
    assert cue.group == "professor" and [(b.estimate.k, b.estimate.n) for b in cue.bars] == [(46, 96), (4, 46)]
    curve = main_of(charts, "early_answering")
    assert curve.kind == "curve" and [p.estimate.k for p in curve.series[0].points] == [10, 20, 39]
    assert cue.prompt is None and curve.prompt is None  # no prompts.jsonl: nothing to show, no error
    for chart in charts:
        assert draw_chart(chart).axes


def test_spec_entries_can_target_one_run_by_id_or_directory_name():
    a, b = steering_run(name="runs/a"), steering_run(name="runs/b")
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "run": "b", "takeaway": "Only run b"}])
    titles = [c.title for c in build_chart_specs([a, b], spec) if not c.backup]
    assert titles == ["Only run b"]  # run a's harmful is not in the spec: it goes to the backup
    spec = spec.model_copy(update={"unlisted": "main"})
    titles = [c.title for c in build_chart_specs([a, b], spec) if not c.backup]
    assert titles == ["Ablation drops refusal from 98% to 3%", "Only run b"]


def test_two_experiments_whose_charts_read_alike_name_their_experiment():
    """AOC by fraction cuts and by sentence cuts can come out identical: two slides with one
    title read as a repeat, so each names its experiment; other titles are left alone."""
    import dataclasses

    from reportgen.chart.spec import name_duplicate_titles

    base = main_of(build_chart_specs([steering_run()]), "harmful")
    same = [dataclasses.replace(base, experiment=e, title="AOC ranges from 0 to 0.4")
            for e in ("early_answering", "early_answering_sentences")]
    other = dataclasses.replace(base, experiment="filler", title="Filler tokens stays at 33%")
    titles = [c.title for c in name_duplicate_titles([*same, other])]
    assert titles == ["Early answering: AOC ranges from 0 to 0.4",
                      "Early answering sentences: AOC ranges from 0 to 0.4", "Filler tokens stays at 33%"]
