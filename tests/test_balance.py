"""The balancing of the survival push in DeSurv's W step (``balance=``, DESIGN §2).

The authors scale the push by ‖∇NMF‖, which vanishes at every stationary point of plain NMF:
a fit started at an NMF solution stays there for every α. ``balance="numerator"`` scales it by
the NMF numerator's norm instead. Both keep F monotone (a trial is accepted only if F does not
increase).
"""

from __future__ import annotations

import numpy as np
import pytest

from desurv import DeSurv, fit_desurv, load_model
from desurv.datasets import SIMULATION_SCENARIOS, simulate_desurv


@pytest.fixture(scope="module")
def data():
    sim = simulate_desurv(
        **{**SIMULATION_SCENARIOS["R0"], "n_genes": 400, "n_markers": 40, "n_background": 100},
        random_state=1,
    )
    return sim.X.to_numpy().T, sim.time, sim.event


@pytest.mark.parametrize("balance", ["gradient", "numerator"])
def test_objective_is_monotone_for_each_balance(data, balance):
    X, t, e = data
    res = fit_desurv(
        X, t, e, 3, alpha=0.5, n_init=2, max_iter=150, tol=0, random_state=0, balance=balance
    )
    loss = np.asarray(res.history["loss"])
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[:-1]))


def test_warm_start_at_an_nmf_solution_moves_only_with_numerator_balance(data):
    X, t, e = data
    nmf = fit_desurv(X, t, e, 3, alpha=0.0, n_init=1, max_iter=3000, tol=1e-10, random_state=0)
    moved = {}
    for balance in ("gradient", "numerator"):
        res = fit_desurv(
            X, t, e, 3, alpha=0.5, W_init=nmf.W, H_init=nmf.H, max_iter=200, tol=0, balance=balance
        )
        moved[balance] = np.linalg.norm(res.W - nmf.W) / np.linalg.norm(nmf.W)
    assert moved["numerator"] > 10 * moved["gradient"], moved
    assert moved["numerator"] > 1e-3


def test_balance_is_validated_and_saved(data, tmp_path):
    X, t, e = data
    with pytest.raises(ValueError, match="balance must be"):
        fit_desurv(X, t, e, 3, balance="norm")
    with pytest.raises(ValueError, match="loss_convention='reference'"):
        fit_desurv(X, t, e, 3, balance="numerator", loss_convention="reference")
    model = DeSurv(n_components=3, balance="numerator", n_init=1, max_iter=30).fit(
        X.T, time=t, event=e
    )
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.balance == "numerator"
    np.testing.assert_array_equal(again.W_, model.W_)


def test_cross_validation_passes_balance_to_every_fit(data):
    from desurv.model_selection import DeSurvCV, cross_validate

    X, t, e = data
    kw = dict(time=t, event=e, n_folds=3, n_seeds=1, max_iter=20, random_state=0)
    grid = {"n_components": [2], "alpha": [0.0, 0.5]}
    a = cross_validate(X.T, param_grid=grid, balance="numerator", **kw)
    b = cross_validate(X.T, param_grid=grid, balance="gradient", **kw)
    assert a.attrs["fit_options"]["balance"] == "numerator"
    # α = 0 has no survival push, so the balancing cannot change those fits
    a0, b0 = a[a["alpha"] == 0], b[b["alpha"] == 0]
    np.testing.assert_array_equal(a0["cindex"].to_numpy(), b0["cindex"].to_numpy())
    assert DeSurvCV(balance="numerator").get_params()["balance"] == "numerator"
