"""Bad X is rejected up front with a clear ValueError by every estimator (issue 9 §2).

One parametrised battery over DeSurv, NMFCox, CoxNet, DeSurvCV (tiny grid) and the
Preprocessor: sparse, complex, boolean, object/string X, duplicated gene names (DataFrame and
AnnData), and X on which a fit is meaningless (all zero, every gene constant, values that
overflow or underflow float64 products).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from desurv import ConvergenceWarning, CoxNet, DeSurv, DeSurvCV, NMFCox, make_survival_y
from desurv.preprocessing import Preprocessor

RNG = np.random.default_rng(0)
N, P = 40, 15
X0 = RNG.uniform(0.5, 2.0, size=(N, P))
Y = make_survival_y(RNG.exponential(size=N), RNG.uniform(size=N) < 0.7)
GENES = [f"g{j}" for j in range(P)]


def _estimators():
    return {
        "DeSurv": lambda: DeSurv(n_components=2, n_init=1, max_iter=5, random_state=0),
        "NMFCox": lambda: NMFCox(n_components=2, n_init=1, max_iter=5, random_state=0),
        "CoxNet": lambda: CoxNet(n_alphas=3, cv=2, random_state=0),
        "DeSurvCV": lambda: DeSurvCV(
            {"n_components": [2], "alpha": [0.5]},
            n_folds=2,
            n_seeds=1,
            max_iter=5,
            refit_n_init=1,
            random_state=0,
        ),
        "Preprocessor": lambda: Preprocessor(transform="rank"),
    }


ESTIMATORS = _estimators()


def _fit(name, X):
    est = ESTIMATORS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if name == "Preprocessor":
            return est.fit(X)
        return est.fit(X, Y)


def _anndata(X, genes=GENES):
    ad = pytest.importorskip("anndata")
    return ad.AnnData(
        X=X, obs=pd.DataFrame(index=[f"s{i}" for i in range(X.shape[0])]),
        var=pd.DataFrame(index=genes),
    )  # fmt: skip


# (case id, X factory, regex of the message): rejected by every estimator
TYPE_CASES = [
    ("scipy_sparse", lambda: sp.csr_matrix(X0), "sparse input is not supported.*toarray"),
    ("scipy_sparse_array", lambda: sp.csr_array(X0), "sparse input is not supported"),
    ("anndata_sparse", lambda: _anndata(sp.csr_matrix(X0)), "sparse input is not supported"),
    ("complex", lambda: X0 + 1j, "Complex data not supported"),
    ("complex_frame", lambda: pd.DataFrame(X0 + 0j, columns=GENES), "Complex data"),
    ("bool", lambda: X0 > 1.0, "boolean dtype"),
    ("bool_frame", lambda: pd.DataFrame(X0 > 1.0, columns=GENES), "boolean dtype"),
    ("strings", lambda: X0.astype(str), "non-numeric dtype"),
    ("object_strings", lambda: X0.astype(str).astype(object), "non-numeric|str"),
    ("string_column", lambda: pd.DataFrame(X0, columns=GENES).assign(g0="a"), "non-numeric"),
    (
        "duplicated_frame_genes",
        lambda: pd.DataFrame(X0, columns=GENES[:-1] + ["g0"]),
        "duplicated gene name",
    ),
    (
        "duplicated_anndata_genes",
        lambda: _anndata(X0, GENES[:-1] + ["g0"]),
        "duplicated gene name.*var_names_make_unique",
    ),
]

# X on which a fit is meaningless (the Preprocessor's rank transform makes them harmless
# or leaves them to the estimator, so it is not in this battery)
SCALE_CASES = [
    ("all_zero", lambda: np.zeros((N, P)), "all zero"),
    ("all_constant", lambda: np.full((N, P), 3.0), "every (gene|feature) of X is constant"),
    ("genes_constant", lambda: np.tile(X0[0], (N, 1)), "constant across samples"),
    ("one_cell_huge", lambda: np.where(np.eye(N, P, dtype=bool), 1e300, X0), "1e\\+300.*rescale"),
    ("one_gene_huge", lambda: np.column_stack([X0[:, :-1], X0[:, -1] * 1e300]), "overflows"),
    ("tiny", lambda: X0 * 1e-300, "underflow.*rescale"),
]


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("case, make, match", TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_bad_x_type_rejected_at_fit(name, case, make, match):
    with pytest.raises(ValueError, match=match):
        _fit(name, make())


@pytest.mark.parametrize("name", ["DeSurv", "NMFCox", "CoxNet", "DeSurvCV"])
@pytest.mark.parametrize("case, make, match", SCALE_CASES, ids=[c[0] for c in SCALE_CASES])
def test_meaningless_x_rejected_at_fit(name, case, make, match):
    with pytest.raises(ValueError, match=match):
        _fit(name, make())


def test_object_array_of_numbers_is_accepted_as_numbers():
    a = _fit("DeSurv", X0)
    b = _fit("DeSurv", X0.astype(object))
    assert np.array_equal(a.W_, b.W_)


@pytest.fixture(scope="module")
def fitted_named():
    X = pd.DataFrame(X0, columns=GENES)
    return {name: _fit(name, X) for name in ESTIMATORS}


def _apply(est, X):
    return est.transform(X) if isinstance(est, Preprocessor) else est.predict(X)


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize(
    "case, make, match",
    [c for c in TYPE_CASES if not c[0].startswith("duplicated")]
    + [
        (
            "duplicated_frame_genes",
            lambda: pd.DataFrame(X0, columns=GENES[:-1] + ["g0"]),
            "duplicated gene name",
        ),
    ],  # fmt: skip
    ids=lambda c: c if isinstance(c, str) else None,
)
def test_bad_x_type_rejected_in_predict_and_transform(fitted_named, name, case, make, match):
    est = fitted_named[name]
    X = make()
    if isinstance(X, np.ndarray) or sp.issparse(X):
        X = X  # positional input (a warning about names may come first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=match):
            _apply(est, X)


def test_huge_values_message_names_the_problem():
    X = X0.copy()
    X[3, 4] = 1e300
    with pytest.raises(ValueError) as info:
        _fit("DeSurv", X)
    msg = str(info.value)
    assert "1e+300" in msg and "overflows float64" in msg and "rank" in msg


# ----------------------------------------------------------------------- user-trial fixes
@pytest.mark.parametrize("name", [n for n in ESTIMATORS if n != "Preprocessor"])
def test_one_event_is_rejected_at_fit(name):
    event = np.zeros(N, dtype=bool)
    event[4] = True
    y1 = make_survival_y(RNG.exponential(size=N), event)
    with pytest.raises(ValueError, match="only 1 event: the Cox partial likelihood needs at least"):
        ESTIMATORS[name]().fit(X0, y1)


def test_score_with_one_or_zero_events_still_works_or_says_why():
    est = _fit("DeSurv", X0)
    event = np.zeros(N, dtype=bool)
    event[4] = True
    c = est.score(X0, make_survival_y(RNG.exponential(size=N), event))
    assert 0.0 <= c <= 1.0
    with pytest.raises(ValueError):  # no comparable pairs: the existing clear error
        est.score(X0, time=np.ones(N), event=np.zeros(N, dtype=bool))


@pytest.mark.parametrize(
    "param, value",
    [
        ("alpha", "0.5"),
        ("penalty", "0.1"),
        ("l1_ratio", None),
        ("penalty_w", [0.1]),
        ("tol", "1e-6"),
        ("init_tol", "x"),
        ("n_components", 2.0),
        ("n_init", "1"),
        ("max_iter", 5.5),
        ("init_max_iter", True),
        ("n_threads", "1"),
    ],
)
def test_hyperparameter_types_are_checked_with_a_named_error(param, value):
    est = DeSurv(n_components=2, n_init=1, max_iter=5, random_state=0).set_params(**{param: value})
    with pytest.raises(ValueError, match=rf"^{param} must be"):
        est.fit(X0, Y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", ["DeSurv", "CoxNet", "Preprocessor"])
def test_nonfinite_message_names_sample_and_gene(name, bad):
    X = X0.copy()
    X[5, 3] = bad
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(N)], columns=GENES)
    kind = "NaN" if np.isnan(bad) else "infinite"
    with pytest.raises(ValueError, match=rf"{kind} value.*sample 's5'.*gene 'g3'"):
        _fit(name, df)
    with pytest.raises(ValueError, match=rf"{kind} value.*row 5.*column 3"):
        _fit(name, X)
    fitted = _fit(name, X0 if name == "Preprocessor" else pd.DataFrame(X0, columns=GENES))
    with pytest.raises(ValueError, match=rf"{kind} value.*sample 's5'.*'g3'"):
        fitted.transform(df) if name == "Preprocessor" else fitted.predict(df)
