"""Variant registry and benchmark runner: every method of the family on the same data, splits,
seeds and metrics.

- :func:`run_benchmark` / :func:`summarize`: the runner (:mod:`desurv.benchmark.runner`).
- :func:`register_method`, :func:`get_method`, :func:`available_methods`: the registry
  (:mod:`desurv.benchmark.registry`).
- :class:`BenchmarkDataset`, :func:`resolve_dataset`: data sets
  (:mod:`desurv.benchmark.datasets`).
- :mod:`desurv.benchmark.metrics`: the metric functions.

Semi-supervised comparisons: methods registered with ``unlabeled=True`` (``ss-desurv``,
``ss-nmf-cox``, ``cox-mt``) are fitted with ``X_unlabeled``: the training samples whose
labels ``run_benchmark(hide_labels=...)`` hides, and a data set's ``X_unlabeled``; all
other methods see the labelled training samples only.
"""

from .datasets import BenchmarkDataset, resolve_dataset
from .registry import (
    METRICS,
    MethodSpec,
    available_methods,
    available_metrics,
    get_method,
    register_method,
    unregister_method,
)
from .runner import BenchmarkWarning, run_benchmark, summarize

__all__ = [
    "METRICS",
    "BenchmarkDataset",
    "BenchmarkWarning",
    "MethodSpec",
    "available_methods",
    "available_metrics",
    "get_method",
    "register_method",
    "resolve_dataset",
    "run_benchmark",
    "summarize",
    "unregister_method",
]
