"""Bias runner: do cues and attributes move the answer, and does the reasoning say so?

- :mod:`~experiments.bias.cues` (+ ``cues.yaml``): cue templates as data;
- :mod:`~experiments.bias.items`, :mod:`~experiments.bias.cueing`: items and cued queries;
- :mod:`~experiments.bias.switching`: switch / exclusion / parse-failure outcomes;
- :mod:`~experiments.bias.counterfactuals`, :mod:`~experiments.bias.attribute_items`:
  one-attribute-at-a-time counterfactuals and decisions;
- :mod:`~experiments.bias.articulation`: the rule judge; :mod:`~experiments.bias.judge_model`:
  the judge-model slot; :mod:`~experiments.bias.agreement` (+ ``labelled.jsonl``): their agreement;
- :mod:`~experiments.bias.runner`: model calls and writing the run directory;
  :mod:`~experiments.bias.summary`: the terminal summary.
"""
