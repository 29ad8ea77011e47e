"""Estimates with intervals, aggregation of tidy rows, claims checked against them."""
