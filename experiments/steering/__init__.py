"""Steering: the refusal direction (Arditi et al. 2024) found, ablated, added and baked in.

Entry point :func:`experiments.steering.runner.run_steering` (CLI: ``reportgen run steering``).
"""
