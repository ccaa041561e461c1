"""Variant registry and benchmark runner: every method of the family on the same data, splits,
seeds and metrics."""
