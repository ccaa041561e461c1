"""Print desurv's agreement with the authors' R implementation (../shared/data/reference).

    python benchmarks/compare_r_reference.py

For both published runs (alpha = 0 and 0.5) and both loss conventions: max |difference| in
W, H, beta and the loss trace, the cosines of matched W columns and the correlation of η.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from desurv import fit_desurv

REF = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "reference" / "desurv_r"
RUNS = {
    "core_alpha0": dict(alpha=0.0, penalty=0.05, l1_ratio=0.5, penalty_w=0.0, penalty_h=0.0),
    "core_alpha0.5": dict(alpha=0.5, penalty=0.05, l1_ratio=0.5, penalty_w=0.1, penalty_h=0.1),
}


def main():
    X = pd.read_csv(REF / "X.csv", index_col=0).to_numpy()
    surv = pd.read_csv(REF / "surv.csv")
    W0 = pd.read_csv(REF / "init" / "W0.csv", index_col=0).to_numpy()
    H0 = pd.read_csv(REF / "init" / "H0.csv", index_col=0).to_numpy()
    for name, hyper in RUNS.items():
        d = REF / name
        Wr = pd.read_csv(d / "W.csv", index_col=0).to_numpy()
        Hr = pd.read_csv(d / "H.csv", index_col=0).to_numpy()
        br = pd.read_csv(d / "beta.csv")["beta"].to_numpy()
        trace = pd.read_csv(d / "loss_trace.csv")["loss"].to_numpy()
        for conv in ("reference", "consistent"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = fit_desurv(
                    X,
                    surv["time"],
                    surv["event"],
                    3,
                    W_init=W0,
                    H_init=H0,
                    tol=1e-8,
                    max_iter=300,
                    loss_convention=conv,
                    **hyper,
                )
            cos = np.diag((r.W / np.linalg.norm(r.W, axis=0)).T @ (Wr / np.linalg.norm(Wr, axis=0)))
            corr = np.corrcoef(X.T @ r.W @ r.beta, X.T @ Wr @ br)[0, 1]
            line = (
                f"{name:14s} {conv:10s} iters {r.n_iter:3d}  max|dW| {np.abs(r.W - Wr).max():.1e}"
                f"  max|dH| {np.abs(r.H - Hr).max():.1e}  max|dbeta| "
                f"{np.abs(r.beta - br).max():.1e}  cos {np.round(cos, 4)}  corr(eta) {corr:.4f}"
            )
            if conv == "reference":
                line += f"  max|dloss| {np.abs(r.history['loss'] - trace).max():.1e}"
            print(line)


if __name__ == "__main__":
    main()
