"""The solver side of issue 16 (targets 1 and 7): threaded compiled products and the fused
α = 0 W step inside fit_desurv.

These need the patch of ``desurv/deconvolution/_loop.py`` and ``solver.py`` described in the
issue-16 report (``_Problem(..., n_threads=...)``, ``_Problem.w_step_nmf``); until it is
applied they are skipped.
"""

import inspect

import numpy as np
import pytest

from desurv import _threads, fit_desurv
from desurv.datasets import simulate_desurv
from desurv.deconvolution import _loop

PATCHED = "n_threads" in inspect.signature(_loop._Problem.__init__).parameters and hasattr(
    _loop._Problem, "w_step_nmf"
)
pytestmark = pytest.mark.skipif(
    not PATCHED, reason="needs the issue-16 patch of deconvolution/_loop.py and solver.py"
)


@pytest.fixture(scope="module")
def data():
    sim = simulate_desurv(n_samples=90, n_genes=1200, n_components=3, random_state=5)
    return np.ascontiguousarray(sim.X.to_numpy().T), sim.time, sim.event


def _fit(data, **kw):
    X, time, event = data
    base = dict(n_init=1, max_iter=25, tol=0, random_state=2, warn=False)
    return fit_desurv(X, time, event, 3, **{**base, **kw})


def test_n_threads_runs_the_compiled_products_on_threads(data, monkeypatch):
    seen = []
    for name in ("x_dot", "xt_dot"):
        real = getattr(_threads, name)

        def spy(*args, _real=real):
            seen.append(args[-1])
            return _real(*args)

        monkeypatch.setattr(_threads, name, spy)
    monkeypatch.setattr(_threads, "MIN_THREADED_WORK", 0)
    two = _fit(data, n_threads=2)
    assert seen and set(seen) == {2}
    monkeypatch.undo()
    one = _fit(data, n_threads=1)
    np.testing.assert_allclose(two.history["loss"], one.history["loss"], rtol=1e-10)
    np.testing.assert_allclose(two.W, one.W, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("penalty_w", [0.0, 0.5])
def test_fused_alpha0_w_step_gives_the_same_fit(data, monkeypatch, dtype, penalty_w):
    """α = 0 with the one-pass W step (forced by a zero size threshold) = the three-kernel
    step, iterate by iterate; F never increases."""
    calls = []
    real = _loop._Problem.w_step_nmf

    def spy(self, *args):
        calls.append(1)
        return real(self, *args)

    kw = dict(alpha=0.0, dtype=dtype, penalty_w=penalty_w)
    # the Python loop (the compiled α = 0 loop calls the kernel itself: test_alpha0_loop.py)
    monkeypatch.setattr(_loop, "COMPILED_ALPHA0", False)
    monkeypatch.setattr(_loop, "FUSED_MIN_BYTES", 1 << 62)
    plain = _fit(data, **kw)
    monkeypatch.setattr(_loop, "FUSED_MIN_BYTES", 0)
    monkeypatch.setattr(_loop._Problem, "w_step_nmf", spy)
    fused = _fit(data, **kw)
    assert len(calls) >= 25  # every iteration of the final run (and of the short start)
    np.testing.assert_allclose(fused.history["loss"], plain.history["loss"], rtol=1e-11)
    np.testing.assert_allclose(fused.W, plain.W, rtol=1e-9, atol=1e-13)
    loss = fused.history["loss"]
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[1:]))


def test_alpha_positive_never_uses_the_fused_step(data, monkeypatch):
    monkeypatch.setattr(_loop, "FUSED_MIN_BYTES", 0)

    def refuse(self, *args):
        raise AssertionError("the α = 0 step ran with a Cox term")

    monkeypatch.setattr(_loop._Problem, "w_step_nmf", refuse)
    _fit(data, alpha=0.3, max_iter=3)
