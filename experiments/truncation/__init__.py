"""Truncation runner: is the chain of thought used? (Lanham et al. 2023).

Early answering (forced and continued) and adding mistakes, written to the tidy
results schema. Pure parts — cut positions, answer parsing, area over the curve,
step corruption — live in their own modules so they are tested without a model.
"""
