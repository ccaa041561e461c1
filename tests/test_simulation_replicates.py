"""Smoke test of examples/simulation_replicates.py: one small replicate, every method scored.

The script is loaded by path (importlib), without putting the repository on sys.path: a
repository root on sys.path would make worker processes of later tests (joblib/loky copy
sys.path) import desurv from the source tree instead of the installed package.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "simulation_replicates.py"
SMALL = dict(n_samples=100, n_genes=300, n_markers=20, n_background=60)


def _load_script():
    spec = importlib.util.spec_from_file_location("_simulation_replicates_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the main guard keeps it from running
    return module


@pytest.fixture(scope="module")
def script():
    return _load_script()


@pytest.fixture(scope="module")
def rows(script):
    return script.run_replicate(
        0, scenario="R0", seed=0, alphas=[0.5], folds=3, seeds=1, max_iter=30, n_init=2,
        cd_max_iter=200, cd_tol_grid=[1e-2, 1e-6], sim_params=SMALL,
    )  # fmt: skip


def test_one_replicate_has_every_method_and_column(script, rows):
    assert [r["method"] for r in rows] == list(script.METHODS)
    for r in rows:
        assert list(r) == list(script.COLUMNS)
        assert 0.0 <= r["test_cindex"] <= 1.0
        assert r["scenario"] == "R0" and r["replicate"] == 0
        assert r["n_train"] == 70 and r["n_test"] == 30
    by = {r["method"]: r for r in rows}
    assert by["nmfcox_cd_cv"]["cd_tol"] in (1e-2, 1e-6)
    for m in ("desurv", "nmfcox_mu", "nmfcox_cd", "nmfcox_cd_cv"):
        assert 0.0 <= by[m]["precision"] <= 1.0
        assert 0.0 <= by[m]["precision_loading"] <= 1.0
        assert -1.0 <= by[m]["cosine"] <= 1.0 + 1e-12
        assert by[m]["n_components"] in (3, 4)
        assert 0.0 <= by[m]["cv_cindex"] <= 1.0
    assert by["nmfcox_mu"]["alpha"] == 0.0 and by["desurv"]["alpha"] in (0.0, 0.5)
    for m in ("coxnet", "true_lp"):
        assert math.isnan(by[m]["precision"]) and math.isnan(by[m]["n_components"])


def test_replicate_seeds_do_not_depend_on_order(script):
    assert script.replicate_seeds(0, 1) == script.replicate_seeds(0, 1)
    assert script.replicate_seeds(0, 1) != script.replicate_seeds(0, 2)
    assert script.replicate_seeds(0, 1) != script.replicate_seeds(1, 1)


def test_lethal_program_recovery_finds_a_perfect_factor(script):
    import numpy as np

    rng = np.random.default_rng(0)
    W = rng.uniform(0, 0.1, size=(50, 3))
    lethal_genes = np.arange(5)
    W[lethal_genes, 0] = 5.0
    W_hat = W[:, [2, 0, 1]]  # the lethal program is fitted factor 2
    out = script.lethal_program_recovery(W, W_hat, 0, lethal_genes)
    assert out["cosine"] == pytest.approx(1.0)
    assert out["precision"] == 1.0 and out["precision_loading"] == 1.0


def test_summary_prints_every_method(script, rows, capsys):
    import pandas as pd

    df = pd.DataFrame(rows + [{**r, "replicate": 1} for r in rows], columns=script.COLUMNS)
    script.summarize(df)
    out = capsys.readouterr().out
    for m in script.METHODS:
        assert m in out
    by = {r["method"]: r["test_cindex"] for r in rows}
    for m in script.METHODS[1:]:  # each replicate counted twice: 2/2, 0/2 or 0/2 (2 ties)
        d = by["desurv"] - by[m]
        wins = "2/2" if d > 0 else ("0/2 (2 ties)" if d == 0 else "0/2")
        line = next(x for x in out.splitlines() if x.strip().startswith(m))
        assert line.rstrip().endswith(wins), line
