"""Benchmark data sets: one small spec type and the built-ins addressed by strings.

Strings accepted by :func:`resolve_dataset` (paths are the user's; nothing is shipped):

``"desurv-sim"``
    :func:`desurv.datasets.simulate_desurv` with its defaults (random_state 0): expression,
    survival, true gene programs W (genes × 3) and exposures.
``"synsig:<folder>"``
    A SigProfiler SynSig scenario folder (``catalog.tsv``, ``signatures.tsv``,
    ``exposures.tsv``) with its ground truth.
``"catalogue:<file>"``
    A channels × samples counts TSV, no ground truth.
``"cohort:<expression.tsv.gz>,<clinical.tsv>"``
    An expression cohort with survival, via :func:`desurv.datasets.load_cohort`, ranked
    within each sample (:func:`desurv.preprocessing.rank_transform`, the CLI default).
``"mutsim"`` or ``"mutsim:<signatures.tsv>"``
    :func:`desurv.datasets.mutational.simulate_catalogues`: 200 samples, 2 classes,
    5 random SBS96 signatures (or the given ones), random_state 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["BenchmarkDataset", "resolve_dataset"]


@dataclass
class BenchmarkDataset:
    """A data set for the benchmark.

    Attributes
    ----------
    name : str
        Label in the results.
    X : DataFrame of shape (n_samples, n_features)
        Nonnegative data, samples × features.
    y : ndarray of shape (n_samples,) or None
        Survival structured array (bool event, float time) when ``target="survival"``,
        class labels when ``target="classification"``, else None.
    target : {"survival", "classification"} or None
    signatures : DataFrame of shape (n_features, K) or None
        True signatures, rows in ``X``'s column order.
    exposures : DataFrame of shape (n_samples, K) or None
        True exposures, rows in ``X``'s row order, columns as ``signatures``.
    rank : int or None
        True rank K (defaults to the number of true signatures).
    X_unlabeled : DataFrame of shape (n_unlabeled, n_features) or None
        Extra samples without labels (e.g. the expression of another cohort without
        follow-up), the same features as ``X`` (matched by column name when it is a
        DataFrame, stored in ``X``'s column order; an array must have ``X``'s columns in
        order). :func:`~desurv.benchmark.run_benchmark` passes them to semi-supervised
        methods only (registered with ``unlabeled=True``), in every training split, as
        ``fit(..., X_unlabeled=...)``; they are never scored.

    Raises
    ------
    ValueError
        Bad target, y or truth of another length than ``X``, true signatures or
        ``X_unlabeled`` without some features of ``X``, ``X_unlabeled`` with other
        features or NaN/infinite values.
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray | None = None
    target: str | None = None
    signatures: pd.DataFrame | None = None
    exposures: pd.DataFrame | None = None
    rank: int | None = None
    X_unlabeled: pd.DataFrame | None = None

    def __post_init__(self):
        if not isinstance(self.X, pd.DataFrame):
            self.X = pd.DataFrame(np.asarray(self.X, dtype=float))
        self.X = self.X.astype(float)
        n, p = self.X.shape
        if self.target not in (None, "survival", "classification"):
            raise ValueError(
                f"data set {self.name!r}: target must be 'survival', "
                f"'classification' or None, got {self.target!r}"
            )
        if (self.y is None) != (self.target is None):
            raise ValueError(f"data set {self.name!r}: give both y and target, or neither")
        if self.y is not None and len(self.y) != n:
            raise ValueError(f"data set {self.name!r}: y has {len(self.y)} rows, X has {n}")
        if self.signatures is not None:
            W = self.signatures
            if not isinstance(W, pd.DataFrame):
                W = pd.DataFrame(np.asarray(W, float), index=self.X.columns)
            missing = self.X.columns.difference(W.index)
            if len(missing):
                raise ValueError(
                    f"data set {self.name!r}: true signatures lack features {list(missing[:5])}"
                )
            self.signatures = W.loc[self.X.columns].astype(float)
            if self.rank is None:
                self.rank = self.signatures.shape[1]
        if self.exposures is not None:
            H = self.exposures
            if not isinstance(H, pd.DataFrame):
                H = pd.DataFrame(np.asarray(H, float), index=self.X.index)
            if H.shape[0] != n:
                raise ValueError(
                    f"data set {self.name!r}: exposures have {H.shape[0]} rows, X has {n}"
                )
            self.exposures = H.astype(float)
        if self.X_unlabeled is not None:
            self.X_unlabeled = self._unlabeled_frame(self.X_unlabeled)

    def _unlabeled_frame(self, U):
        p = self.X.shape[1]
        if not isinstance(U, pd.DataFrame):
            U = np.asarray(U, dtype=float)
            if U.ndim != 2 or U.shape[1] != p:
                raise ValueError(
                    f"data set {self.name!r}: X_unlabeled has shape {U.shape}, needs "
                    f"(n_unlabeled, {p}) (X's features in X's order, or a DataFrame with "
                    "X's column names)"
                )
            U = pd.DataFrame(U, columns=self.X.columns)
        else:
            missing = self.X.columns.difference(U.columns)
            extra = U.columns.difference(self.X.columns)
            if len(missing) or len(extra) or U.shape[1] != p:
                raise ValueError(
                    f"data set {self.name!r}: X_unlabeled needs the features of X "
                    f"(missing {list(missing[:5])}, extra {list(extra[:5])}); select "
                    "the shared features in both, e.g. X_unlabeled[X.columns]"
                )
            U = U.loc[:, self.X.columns]
        U = U.astype(float)
        if not np.isfinite(U.to_numpy()).all():
            raise ValueError(
                f"data set {self.name!r}: X_unlabeled has NaN or infinite values; drop or "
                "impute them"
            )
        return U

    def identity(self) -> str:
        """Content hash (SHA-256, hex) of name, data, target, truth and unlabelled samples:
        the cache key part (unchanged for a data set without ``X_unlabeled``)."""
        h = hashlib.sha256(self.name.encode())
        for part in (self.X, self.signatures, self.exposures):
            if part is not None:
                h.update(np.ascontiguousarray(part.to_numpy(dtype=float)).tobytes())
                h.update(repr((list(map(str, part.index)), list(map(str, part.columns)))).encode())
        if self.y is not None:
            h.update(repr(np.asarray(self.y).tolist()).encode())
        h.update(repr((self.target, self.rank)).encode())
        if self.X_unlabeled is not None:
            U = self.X_unlabeled
            h.update(b"X_unlabeled")
            h.update(np.ascontiguousarray(U.to_numpy(dtype=float)).tobytes())
            h.update(repr(list(map(str, U.index))).encode())
        return h.hexdigest()


def _desurv_sim():
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(random_state=0)
    W = pd.DataFrame(
        sim.W, index=sim.X.columns, columns=[f"P{k + 1}" for k in range(sim.W.shape[1])]
    )
    H = pd.DataFrame(sim.H.T, index=sim.X.index, columns=W.columns)
    return BenchmarkDataset("desurv-sim", sim.X, sim.y, "survival", W, H)


def _synsig(folder):
    from desurv.datasets.mutational import load_synsig

    if Path(folder).is_file():
        raise ValueError(
            f"synsig:{folder} is a file; synsig: takes a SynSig scenario folder (catalog.tsv, "
            "signatures.tsv, exposures.tsv); for a counts table use catalogue:FILE.tsv"
        )
    d = load_synsig(folder)
    return BenchmarkDataset(f"synsig:{d.name}", d.catalogue, None, None, d.signatures, d.exposures)


def _catalogue(path):
    from desurv.datasets.mutational import read_catalogue

    return BenchmarkDataset(f"catalogue:{Path(path).name}", read_catalogue(path))


def _cohort(arg):
    from desurv.datasets import load_cohort

    parts = [p.strip() for p in arg.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"cohort data set needs 'cohort:<expression>,<clinical>', got 'cohort:{arg}'"
        )
    from desurv.preprocessing import rank_transform

    X, y, _ = load_cohort(parts[0], parts[1])
    name = Path(parts[0]).name.split(".")[0]
    # within-sample ranks, as `desurv fit` / `desurv cv` do by default (--transform rank):
    # nonnegative for the NMF-based methods, and no information crosses samples or folds
    return BenchmarkDataset(f"cohort:{name}", rank_transform(X), y, "survival")


def _mutsim(arg):
    from desurv.datasets.mutational import (
        random_signatures,
        read_signatures,
        simulate_catalogues,
    )

    sigs = read_signatures(arg) if arg else random_signatures(5, random_state=0)
    sim = simulate_catalogues(sigs, 200, n_classes=2, random_state=0)
    name = "mutsim" if not arg else f"mutsim:{Path(arg).name}"
    return BenchmarkDataset(
        name, sim.catalogue, sim.labels, "classification", sim.signatures, sim.exposures
    )


_BUILTINS = {
    "desurv-sim": (False, lambda arg: _desurv_sim()),
    "synsig": (True, _synsig),
    "catalogue": (True, _catalogue),
    "cohort": (True, _cohort),
    "mutsim": (None, _mutsim),
}


def resolve_dataset(spec) -> BenchmarkDataset:
    """A :class:`BenchmarkDataset` from a data set object or a string (see module doc).

    Parameters
    ----------
    spec : BenchmarkDataset or str

    Returns
    -------
    BenchmarkDataset

    Raises
    ------
    ValueError
        Unknown kind, missing or unexpected argument, or any reader error (with the path).
    """
    if isinstance(spec, BenchmarkDataset):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"data sets are BenchmarkDataset objects or strings, got {spec!r}")
    kind, _, arg = spec.partition(":")
    if kind not in _BUILTINS:
        raise ValueError(
            f"unknown data set {spec!r}; use one of 'desurv-sim', 'mutsim', "
            "'mutsim:<signatures.tsv>', 'synsig:<folder>', 'catalogue:<file.tsv>', "
            "'cohort:<expression>,<clinical>', or a desurv.benchmark.BenchmarkDataset"
        )
    needs_arg, build = _BUILTINS[kind]
    if needs_arg is True and not arg:
        raise ValueError(f"data set {spec!r} needs a path: '{kind}:<path>'")
    if needs_arg is False and arg:
        raise ValueError(f"data set {kind!r} takes no argument, got {spec!r}")
    return build(arg)
