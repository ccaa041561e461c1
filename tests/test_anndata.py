"""AnnData and pandas inputs (issue 9 §4): genes aligned by name, obs columns as survival
data, layers, results written back, names kept in outputs."""

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import desurv
from desurv import ConvergenceWarning, CoxNet, DeSurv, DeSurvCV, NMFCox
from desurv.preprocessing import Preprocessor

ad = pytest.importorskip("anndata")

N, P = 40, 15
GENES = [f"g{j}" for j in range(P)]


@pytest.fixture(scope="module")
def adata():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.1, 2.0, size=(N, P))
    obs = pd.DataFrame(
        {"os_time": rng.exponential(size=N), "os_event": rng.uniform(size=N) < 0.7},
        index=[f"s{i}" for i in range(N)],
    )
    a = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=GENES))
    a.layers["counts"] = X * 10.0
    return a


def _frame(a, layer=None):
    M = a.X if layer is None else a.layers[layer]
    return pd.DataFrame(np.asarray(M), index=a.obs_names, columns=a.var_names)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


SMALL = dict(n_components=2, n_init=1, max_iter=10, random_state=0)


@pytest.fixture(scope="module")
def model(adata):
    return _quiet(DeSurv(**SMALL).fit, adata, time="os_time", event="os_event")


def test_fit_takes_time_and_event_from_obs(adata, model):
    df = _frame(adata)
    ref = _quiet(DeSurv(**SMALL).fit, df, time=adata.obs["os_time"], event=adata.obs["os_event"])
    assert np.array_equal(model.W_, ref.W_) and np.array_equal(model.coef_, ref.coef_)
    assert list(model.feature_names_in_) == GENES
    assert model.score(adata, time="os_time", event="os_event") == pytest.approx(
        ref.score(df, time=adata.obs["os_time"], event=adata.obs["os_event"])
    )
    with pytest.raises(ValueError, match="not a column of adata.obs"):
        DeSurv(**SMALL).fit(adata, time="nope", event="os_event")
    with pytest.raises(ValueError, match="needs an AnnData"):
        DeSurv(**SMALL).fit(df, time="os_time", event="os_event")


@pytest.mark.parametrize(
    "make",
    [
        lambda: DeSurv(**SMALL),
        lambda: NMFCox(**SMALL),
        lambda: CoxNet(n_alphas=5, cv=2, random_state=0),
    ],
    ids=["DeSurv", "NMFCox", "CoxNet"],
)
def test_predict_aligns_anndata_genes_by_name(adata, make):
    est = _quiet(make().fit, adata, time="os_time", event="os_event")
    eta = est.predict(adata)
    # another gene order: the same answer (it used to be scored position by position)
    shuffled = adata[:, GENES[::-1]].copy()
    np.testing.assert_allclose(est.predict(shuffled), eta)
    np.testing.assert_allclose(est.predict(_frame(adata)[GENES[::-1]]), eta)
    # extra genes are ignored
    extra = ad.AnnData(
        X=np.hstack([np.asarray(adata.X), np.ones((N, 3))]),
        obs=adata.obs,
        var=pd.DataFrame(index=GENES + ["x1", "x2", "x3"]),
    )
    np.testing.assert_allclose(est.predict(extra), eta)
    # a cohort sharing only some genes (padded to the same width) is an error, as for a
    # DataFrame
    partial = ad.AnnData(
        X=np.asarray(adata.X), obs=adata.obs,
        var=pd.DataFrame(index=GENES[:5] + [f"other{j}" for j in range(P - 5)]),
    )  # fmt: skip
    with pytest.raises(ValueError, match=f"lacks {P - 5} of the model's {P}"):
        est.predict(partial)
    with pytest.raises(ValueError, match="lacks"):
        est.score(partial, time="os_time", event="os_event")


def test_transform_aligns_anndata_and_keeps_sample_names(adata, model):
    Z = model.transform(adata)
    np.testing.assert_allclose(Z, np.asarray(adata.X) @ model.W_)
    np.testing.assert_allclose(model.transform(adata[:, GENES[::-1]].copy()), Z)
    model.set_output(transform="pandas")
    try:
        Zp = model.transform(adata)
        assert list(Zp.index) == list(adata.obs_names)
        assert list(Zp.columns) == ["factor_1", "factor_2"]
        Zd = model.transform(_frame(adata))
        assert list(Zd.index) == list(adata.obs_names)
    finally:
        model.set_output(transform="default")


def test_layer_is_used_in_fit_predict_transform(adata):
    m = _quiet(DeSurv(**SMALL).fit, adata, time="os_time", event="os_event", layer="counts")
    ref = _quiet(
        DeSurv(**SMALL).fit,
        _frame(adata, "counts"),
        time=adata.obs["os_time"],
        event=adata.obs["os_event"],
    )
    assert np.array_equal(m.W_, ref.W_)
    np.testing.assert_allclose(
        m.transform(adata, layer="counts"), ref.transform(_frame(adata, "counts"))
    )
    assert m.score(adata, time="os_time", event="os_event", layer="counts") == pytest.approx(
        ref.score(_frame(adata, "counts"), time=adata.obs["os_time"], event=adata.obs["os_event"])
    )
    with pytest.raises(ValueError, match="not in adata.layers"):
        m.transform(adata, layer="nope")
    with pytest.raises(ValueError, match="only meaningful for AnnData"):
        m.transform(_frame(adata), layer="counts")
    c = _quiet(CoxNet(n_alphas=5, cv=2, random_state=0).fit, adata, time="os_time",
               event="os_event", layer="counts")  # fmt: skip
    assert np.isfinite(c.predict(adata, layer="counts")).all()


def test_write_to_anndata(adata, model):
    from desurv._anndata import write_to_anndata

    out = write_to_anndata(model, adata[:, GENES[::-1]].copy())
    np.testing.assert_allclose(out.obsm["X_desurv"], model.transform(adata))
    np.testing.assert_allclose(out.obs["desurv_risk"].to_numpy(), model.predict(adata))
    W = pd.DataFrame(out.varm["desurv_W"], index=out.var_names)
    np.testing.assert_allclose(W.loc[GENES].to_numpy(), model.W_)
    # genes the model does not know get NaN; copy=True leaves the input alone
    extra = ad.AnnData(
        X=np.hstack([np.asarray(adata.X), np.ones((N, 1))]), obs=adata.obs.copy(),
        var=pd.DataFrame(index=GENES + ["new"]),
    )  # fmt: skip
    res = write_to_anndata(model, extra, copy=True)
    assert "X_desurv" not in extra.obsm and np.isnan(res.varm["desurv_W"][-1]).all()
    with pytest.raises(ValueError, match="AnnData"):
        write_to_anndata(model, _frame(adata))


def test_preprocessor_and_desurvcv_take_anndata(adata):
    pre = Preprocessor(transform="rank", n_genes=10).fit(adata)
    out = pre.transform(adata[:, GENES[::-1]].copy())
    assert isinstance(out, ad.AnnData) and list(out.var_names) == list(pre.genes_)
    ref = pre.transform(_frame(adata))
    np.testing.assert_array_equal(np.asarray(out.X), ref.to_numpy())
    assert list(out.obs_names) == list(adata.obs_names) and "os_time" in out.obs
    cv = DeSurvCV({"n_components": [2], "alpha": [0.5]}, n_folds=2, n_seeds=1, max_iter=5,
                  refit_n_init=1, random_state=0, preprocessor=Preprocessor())  # fmt: skip
    _quiet(cv.fit, adata, time="os_time", event="os_event")
    assert list(cv.feature_names_in_) == GENES
    np.testing.assert_allclose(cv.predict(adata[:, GENES[::-1]].copy()), cv.predict(adata))
    assert 0 <= cv.score(adata, time="os_time", event="os_event") <= 1


def test_anndata_is_not_imported_by_desurv():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, desurv\n"
        "from desurv import DeSurv, make_survival_y\n"
        "import desurv._anndata\n"
        "X = np.random.default_rng(0).uniform(size=(20, 5))\n"
        "y = make_survival_y(np.arange(1.0, 21.0), np.ones(20, bool))\n"
        "DeSurv(n_components=1, n_init=1, max_iter=2).fit(X, y)\n"
        "print('anndata' in sys.modules)"
    )
    # import the desurv of this session (installed in CI), not the uncompiled source tree
    # that the working directory would put first on sys.path
    pkg_parent = str(Path(desurv.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=pkg_parent + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=pkg_parent
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


@pytest.mark.parametrize(
    "make",
    [lambda: DeSurv(**SMALL), lambda: CoxNet(alphas=[0.05, 0.01], cv=2, random_state=0)],
    ids=["DeSurv", "CoxNet"],
)
def test_fit_layer_is_remembered(adata, make):
    """predict/score/write_to_anndata on AnnData use the layer of the fit by default."""
    est = _quiet(make().fit, adata, time="os_time", event="os_event", layer="counts")
    assert est.fit_layer_ == "counts"
    ref = est.predict(_frame(adata, "counts"))
    np.testing.assert_allclose(est.predict(adata), ref, rtol=1e-12)
    np.testing.assert_allclose(est.predict(adata, layer="counts"), ref, rtol=1e-12)
    # .X gives another answer than the fit layer (the old, silent default)
    assert not np.allclose(est.predict(_frame(adata)), ref)
    c = est.score(adata, time="os_time", event="os_event")
    t, e = adata.obs["os_time"].to_numpy(), adata.obs["os_event"].to_numpy()
    assert c == pytest.approx(est.score(_frame(adata, "counts"), time=t, event=e))
    out = desurv.write_to_anndata(est, adata, copy=True)
    np.testing.assert_allclose(out.obs["desurv_risk"].to_numpy(), ref, rtol=1e-12)
    if isinstance(est, DeSurv):
        S = est.predict_survival_function(adata, return_array=True)
        S_ref = est.predict_survival_function(_frame(adata, "counts"), return_array=True)
        np.testing.assert_allclose(S, S_ref)
    # fitting on .X resets it
    est2 = _quiet(make().fit, adata, time="os_time", event="os_event")
    assert est2.fit_layer_ is None
