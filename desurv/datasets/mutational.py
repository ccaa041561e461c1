"""Mutational catalogues: readers for SBS96 tables and a catalogue simulator.

Conventions
-----------
* Files (SigProfiler/COSMIC style) are **channels × samples** (catalogues) or
  **channels × signatures** (reference signatures), tab-separated, first column the channel
  label (its header may be ``channel``, ``Type``, ``Mutation Types``, ... and is ignored).
* Returned catalogues follow scikit-learn's convention: **samples × channels**.
  Signatures stay **channels × signatures**; exposures are **samples × signatures**.
* Rows of different files are aligned **by label**, never by position: single-base
  substitution labels (``A[C>A]A``) are validated and put in the canonical COSMIC order
  (:data:`SBS96_CHANNELS`) whenever a file holds all 96 of them.

The package ships no data; pass your own paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "SBS96_CHANNELS",
    "MutationalSimulation",
    "SynSigData",
    "load_synsig",
    "random_signatures",
    "read_catalogue",
    "read_signatures",
    "simulate_catalogues",
]

_BASES = "ACGT"
_SUBS = ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G")
#: The 96 single-base-substitution channels in COSMIC's order (substitution, 5' base, 3' base).
SBS96_CHANNELS = tuple(f"{a}[{s}]{b}" for s in _SUBS for a in _BASES for b in _BASES)
_SBS_RE = re.compile(r"^[ACGT]\[[CT]>[ACGT]\][ACGT]$")


# ----------------------------------------------------------------------------- readers
def _check_channels(labels, path) -> list[str]:
    labels = [str(x).strip() for x in labels]
    if any(lab in ("", "nan") for lab in labels):
        raise ValueError(f"{path}: empty channel label in the first column")
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise ValueError(f"{path}: duplicated channel labels {dup[:5]}; each row must be unique")
    looks_sbs = [("[" in lab and ">" in lab) for lab in labels]
    if any(looks_sbs):
        bad = [lab for lab in labels if not _SBS_RE.match(lab)]
        if bad:
            raise ValueError(
                f"{path}: invalid single-base-substitution channel label(s) {bad[:5]} "
                "(expected e.g. 'A[C>A]A': 5' base, [reference>alternative] with a C or T "
                "reference, 3' base)"
            )
    return labels


def _read_table(path, what) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} file not found: {path}")
    df = pd.read_csv(path, sep="\t", index_col=0)
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise ValueError(f"{path}: expected a tab-separated table with a label column and data")
    df.index = _check_channels(df.index, path)
    try:
        df = df.apply(pd.to_numeric, errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: non-numeric value in the {what} ({exc})") from None
    values = df.to_numpy()
    if not np.isfinite(values).all():
        raise ValueError(f"{path}: missing or infinite values in the {what}")
    if (values < 0).any():
        raise ValueError(f"{path}: negative values in the {what}; counts/weights must be >= 0")
    df.columns = [str(c) for c in df.columns]
    if set(df.index) == set(SBS96_CHANNELS):
        df = df.loc[list(SBS96_CHANNELS)]
    df.index.name = "channel"
    return df


def read_catalogue(path) -> pd.DataFrame:
    """Read a mutational catalogue (channels × samples TSV of counts).

    Parameters
    ----------
    path : str or Path
        Tab-separated file: first column the channel labels (e.g. ``A[C>A]A``), one column
        per sample holding mutation counts.

    Returns
    -------
    catalogue : DataFrame of shape (n_samples, n_channels), float64
        Samples × channels (transposed from the file). SBS96 channels are put in the
        canonical order :data:`SBS96_CHANNELS` when all 96 are present.

    Raises
    ------
    ValueError
        Missing file, empty or duplicated channel labels, malformed substitution labels,
        non-numeric, missing, infinite or negative values.
    """
    return _read_table(path, "catalogue").T.rename_axis(index="sample", columns="channel")


def read_signatures(path) -> pd.DataFrame:
    """Read reference signatures (COSMIC or SynSig style, channels × signatures TSV).

    Parameters
    ----------
    path : str or Path
        Tab-separated file: first column the channel labels, one column per signature
        (weights; usually each column sums to 1).

    Returns
    -------
    signatures : DataFrame of shape (n_channels, n_signatures), float64
        Channels × signatures, SBS96 rows in canonical order when all 96 are present.

    Raises
    ------
    ValueError
        As :func:`read_catalogue`.
    """
    return _read_table(path, "signatures")


@dataclass
class SynSigData:
    """A SigProfiler SynSig scenario with its ground truth, aligned by label.

    Attributes
    ----------
    name : str
        Scenario (folder) name.
    catalogue : DataFrame of shape (n_samples, n_channels)
        Mutation counts, samples × channels.
    signatures : DataFrame of shape (n_channels, n_signatures)
        True signatures (columns sum to 1), rows in the catalogue's channel order.
    exposures : DataFrame of shape (n_samples, n_signatures)
        Mutations contributed by each signature to each sample, rows in the catalogue's
        sample order, columns in the signatures' order.
    """

    name: str
    catalogue: pd.DataFrame
    signatures: pd.DataFrame
    exposures: pd.DataFrame


def load_synsig(folder) -> SynSigData:
    """Load a SynSig scenario folder (``catalog.tsv``, ``signatures.tsv``, ``exposures.tsv``).

    Parameters
    ----------
    folder : str or Path
        Folder holding ``catalog.tsv`` (channels × samples counts), ``signatures.tsv``
        (channels × K) and ``exposures.tsv`` (K × samples, mutations contributed).

    Returns
    -------
    SynSigData
        Catalogue, signatures and exposures aligned by channel, sample and signature label.

    Raises
    ------
    ValueError
        A missing file, or labels that do not match between the files (listed).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SynSig scenario folder not found: {folder}")
    catalogue = read_catalogue(folder / "catalog.tsv")
    signatures = read_signatures(folder / "signatures.tsv")
    exp_path = folder / "exposures.tsv"
    if not exp_path.is_file():
        raise ValueError(f"exposures file not found: {exp_path}")
    exposures = pd.read_csv(exp_path, sep="\t", index_col=0).astype(float).T
    exposures.columns = [str(c) for c in exposures.columns]
    exposures.index = [str(i) for i in exposures.index]

    def _mismatch(a, b, what):
        only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
        if only_a or only_b:
            raise ValueError(
                f"{folder}: {what} differ between files: {only_a[:5]} / {only_b[:5]} "
                f"({len(only_a)} and {len(only_b)} unmatched)"
            )

    _mismatch(signatures.index, catalogue.columns, "channels of signatures.tsv and catalog.tsv")
    _mismatch(exposures.index, catalogue.index, "samples of exposures.tsv and catalog.tsv")
    _mismatch(
        exposures.columns, signatures.columns, "signatures of exposures.tsv and signatures.tsv"
    )
    signatures = signatures.loc[catalogue.columns]
    exposures = exposures.loc[catalogue.index, signatures.columns]
    exposures.index.name = "sample"
    return SynSigData(folder.name, catalogue, signatures, exposures)


# ----------------------------------------------------------------------------- simulator
def random_signatures(n_signatures, *, concentration=0.2, random_state=None) -> pd.DataFrame:
    """Random SBS96 signatures, each a Dirichlet draw over the 96 channels.

    Parameters
    ----------
    n_signatures : int
        Number of signatures K (>= 1).
    concentration : float, default=0.2
        Dirichlet concentration per channel; small values give peaked, distinct signatures.
    random_state : int, Generator or None

    Returns
    -------
    signatures : DataFrame of shape (96, n_signatures)
        Columns ``Sig1..SigK`` summing to 1, rows :data:`SBS96_CHANNELS`.
    """
    rng = np.random.default_rng(random_state)
    n_signatures = int(n_signatures)
    if n_signatures < 1:
        raise ValueError(f"n_signatures must be >= 1, got {n_signatures}")
    W = rng.dirichlet(np.full(96, float(concentration)), size=n_signatures).T
    return pd.DataFrame(
        W,
        index=pd.Index(SBS96_CHANNELS, name="channel"),
        columns=[f"Sig{k + 1}" for k in range(n_signatures)],
    )


@dataclass
class MutationalSimulation:
    """Output of :func:`simulate_catalogues`.

    Attributes
    ----------
    catalogue : DataFrame of shape (n_samples, n_channels), int64
        Simulated mutation counts (samples ``S1..SN`` × channels).
    signatures : DataFrame of shape (n_channels, n_signatures)
        The generating signatures (columns sum to 1).
    exposures : DataFrame of shape (n_samples, n_signatures)
        Expected mutations contributed by each signature (row sums = ``burden``).
    burden : ndarray of shape (n_samples,)
        Expected total mutations per sample (lognormal draw).
    labels : ndarray of int of shape (n_samples,) or None
        Class of each sample (``0..n_classes-1``), None when ``n_classes=0``.
    domain : ndarray of str of shape (n_samples,) or None
        ``"source"`` or ``"target"``; None unless ``domain_shift > 0`` or
        ``background_overlap < 1``.
    params : dict
        Every setting used, plus ``background_overlap`` and ``source_signatures`` /
        ``target_signatures``: lists of the signature (column) names available to each
        domain, markers included (both are all names when there are no domains).
    """

    catalogue: pd.DataFrame
    signatures: pd.DataFrame
    exposures: pd.DataFrame
    burden: np.ndarray
    labels: np.ndarray | None = None
    domain: np.ndarray | None = None
    params: dict = field(default_factory=dict)


def simulate_catalogues(
    signatures,
    n_samples=200,
    *,
    n_active=3,
    concentration=1.0,
    mean_burden=2000.0,
    burden_sd=0.5,
    dispersion=None,
    n_classes=0,
    domain_shift=0.0,
    target_fraction=0.5,
    background_overlap=1.0,
    random_state=None,
) -> MutationalSimulation:
    """Simulate mutational catalogues from known signatures.

    Generative model, for each sample i:

    0. **Domains** (only when ``domain_shift > 0`` or ``background_overlap < 1``): a
       ``target_fraction`` of the samples, chosen at random, forms the unlabelled-style
       "target" population, the rest the "source" population.
    1. **Active signatures.** ``n_active`` signatures drawn uniformly without replacement
       from the sample's domain's *background* pool (see below; all K signatures when there
       are no classes and ``background_overlap = 1``). With ``n_classes = C > 0``
       signatures ``0..C-1`` are class markers: a sample of class c (classes balanced, in
       random order) always has signature c active, never another marker, and
       ``n_active - 1`` further signatures drawn from its domain's background pool (a
       subset of the non-markers ``C..K-1``).
    2. **Proportions** over the active signatures: Dirichlet(``concentration`` · 1); inactive
       signatures get 0.
    3. **Burden** (expected total mutations) ``b_i`` ~ lognormal with mean ``mean_burden``
       and log-scale sd ``burden_sd``: ``log b_i ~ N(log(mean_burden) - burden_sd²/2,
       burden_sd²)``.
    4. **Exposures** ``E_i = b_i · proportions_i`` (mutations), expected counts
       ``mu_i = W E_i`` over channels.
    5. **Counts** Poisson(``mu``) when ``dispersion`` is None, else negative binomial with
       mean ``mu`` and size ``dispersion`` (variance ``mu + mu²/dispersion``), drawn as a
       gamma–Poisson mixture.

    With ``domain_shift = s > 0``, a ``target_fraction`` of samples forms a "target"
    population (the rest "source") that differs in exposure profile and burden: its
    Dirichlet parameters are ``concentration · exp(s · d_k)`` for the active signatures
    (``d`` a fixed standard-normal vector over signatures, centred, drawn once per call) and
    its mean burden is ``mean_burden · exp(s)``.

    With ``background_overlap < 1`` the two populations also differ in their *background*
    signatures while sharing the class markers, as cell lines and tumours do (METHODS.md
    §A, "domain shift" scenario: labelled cell lines with one set of background signatures,
    unlabelled tumours with another). The backgrounds are the non-markers ``C..K-1`` (all
    K signatures when ``n_classes = 0``); with ``nb`` of them, the **first**
    ``round(background_overlap · nb)`` in column order are shared by both domains and the
    remaining ones alternate, in column order, source-only, target-only, source-only, ...
    (so the source gets the extra one when their number is odd). Order the columns of
    ``signatures`` to choose which signatures are shared or domain-specific. A source
    sample draws its background signatures uniformly from shared + source-only, a target
    sample from shared + target-only. With ``background_overlap = 1`` (default) the random
    stream, hence the output for a given seed, is exactly that of the generator before this
    option existed.

    Parameters
    ----------
    signatures : DataFrame (n_channels, K), ndarray (n_channels, K) or int
        Generating signatures (each column is normalised to sum 1); an int K draws
        :func:`random_signatures` over the SBS96 channels.
    n_samples : int, default=200
        Number of samples N.
    n_active : int, default=3
        Active signatures per sample (1 <= n_active <= K; with classes <= K - C + 1).
    concentration : float, default=1.0
        Dirichlet concentration (unitless, > 0) of the proportions among active signatures.
    mean_burden : float, default=2000.0
        Mean expected number of mutations per sample (mutations, > 0).
    burden_sd : float, default=0.5
        Standard deviation of the log burden (natural-log units, >= 0; 0 = fixed burden).
    dispersion : float or None, default=None
        Negative-binomial size r (> 0, unitless; smaller = more over-dispersed); None for
        Poisson counts.
    n_classes : int, default=0
        Number of classes C with class-specific signature activity (0 = no classes;
        otherwise 2 <= C <= K - 1).
    domain_shift : float, default=0.0
        Shift s >= 0 between source and target populations (log-scale, unitless).
    target_fraction : float, default=0.5
        Fraction of samples in the target population (0 < f < 1; only used when domains
        exist, i.e. ``domain_shift > 0`` or ``background_overlap < 1``). The number of
        target samples is ``round(target_fraction · n_samples)``.
    background_overlap : float, default=1.0
        Fraction in [0, 1] of the background signatures shared by source and target
        (1 = same backgrounds in both; 0 = disjoint backgrounds). Shared ones are the first
        ``round(background_overlap · nb)`` background columns; the others alternate
        source-only / target-only in column order. Each domain must keep at least
        ``n_active - 1`` (with classes) or ``n_active`` (without) backgrounds.
    random_state : int, Generator or None
        Seed for reproducibility.

    Returns
    -------
    MutationalSimulation

    Raises
    ------
    ValueError
        Any parameter outside the ranges above, or a domain left with too few background
        signatures for ``n_active``.
    """
    rng = np.random.default_rng(random_state)
    if isinstance(signatures, (int, np.integer)):
        signatures = random_signatures(int(signatures), random_state=rng)
    if isinstance(signatures, pd.DataFrame):
        W_df = signatures.astype(float)
    else:
        arr = np.asarray(signatures, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"signatures must be 2-D (channels × K), got shape {arr.shape}")
        index = SBS96_CHANNELS if arr.shape[0] == 96 else [f"c{i + 1}" for i in range(len(arr))]
        W_df = pd.DataFrame(arr, index=index, columns=[f"Sig{k + 1}" for k in range(arr.shape[1])])
    W = W_df.to_numpy()
    if not np.isfinite(W).all() or (W < 0).any() or (W.sum(axis=0) <= 0).any():
        raise ValueError("signatures must be finite, nonnegative, with positive column sums")
    W = W / W.sum(axis=0)
    W_df = pd.DataFrame(W, index=W_df.index, columns=[str(c) for c in W_df.columns])
    n_channels, K = W.shape
    n_samples, n_active, n_classes = int(n_samples), int(n_active), int(n_classes)
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    if concentration <= 0 or mean_burden <= 0 or burden_sd < 0:
        raise ValueError("need concentration > 0, mean_burden > 0 and burden_sd >= 0")
    if dispersion is not None and not dispersion > 0:
        raise ValueError(f"dispersion must be > 0 or None (Poisson), got {dispersion}")
    if domain_shift < 0 or not 0 < target_fraction < 1:
        raise ValueError("need domain_shift >= 0 and 0 < target_fraction < 1")
    background_overlap = float(background_overlap)
    if not 0.0 <= background_overlap <= 1.0:
        raise ValueError(f"background_overlap must be in [0, 1], got {background_overlap}")
    if n_classes:
        if not 2 <= n_classes <= K - 1:
            raise ValueError(f"n_classes must be 0 or in [2, K-1={K - 1}], got {n_classes}")
        if not 1 <= n_active <= K - n_classes + 1:
            raise ValueError(
                f"with {n_classes} classes n_active must be in [1, {K - n_classes + 1}] "
                f"(K={K} signatures), got {n_active}"
            )
    elif not 1 <= n_active <= K:
        raise ValueError(f"n_active must be in [1, K={K}], got {n_active}")

    # background pools: first n_shared backgrounds shared, the rest alternate source/target
    backgrounds = np.arange(n_classes, K)
    nb = len(backgrounds)
    n_shared = int(round(background_overlap * nb))
    rest = backgrounds[n_shared:]
    pool_source = np.concatenate([backgrounds[:n_shared], rest[0::2]])
    pool_target = np.concatenate([backgrounds[:n_shared], rest[1::2]])
    split_backgrounds = background_overlap < 1.0
    n_drawn = n_active - 1 if n_classes else n_active
    if split_backgrounds:
        for name, pool in (("source", pool_source), ("target", pool_target)):
            if len(pool) < n_drawn:
                raise ValueError(
                    f"background_overlap={background_overlap} leaves the {name} domain "
                    f"{len(pool)} background signature(s) ({n_shared} shared of {nb}), but "
                    f"n_active={n_active} needs {n_drawn}"
                    + (f" besides the class marker (n_classes={n_classes})" if n_classes else "")
                    + "; raise background_overlap, lower n_active or add signatures"
                )
    markers = np.arange(n_classes)
    names = list(W_df.columns)
    if split_backgrounds:
        source_names = [names[k] for k in np.concatenate([markers, np.sort(pool_source)])]
        target_names = [names[k] for k in np.concatenate([markers, np.sort(pool_target)])]
    else:
        source_names, target_names = list(names), list(names)

    labels = rng.permutation(np.arange(n_samples) % n_classes) if n_classes else None
    d = rng.standard_normal(K)
    d -= d.mean()
    if domain_shift > 0 or split_backgrounds:
        n_target = int(round(target_fraction * n_samples))
        domain = np.array(["source"] * (n_samples - n_target) + ["target"] * n_target)
        domain = rng.permutation(domain)
    else:
        domain = None
    is_target = np.zeros(n_samples, bool) if domain is None else domain == "target"

    props = np.zeros((n_samples, K))
    for i in range(n_samples):
        if split_backgrounds:
            pool = pool_target if is_target[i] else pool_source
            others = rng.choice(pool, size=n_drawn, replace=False)
            active = np.concatenate([[labels[i]], others]) if n_classes else others
            active = active.astype(int)
        elif n_classes:  # unchanged draws: the random stream of background_overlap=1
            others = rng.choice(np.arange(n_classes, K), size=n_active - 1, replace=False)
            active = np.concatenate([[labels[i]], others]).astype(int)
        else:
            active = rng.choice(K, size=n_active, replace=False)
        alpha = np.full(len(active), float(concentration))
        if is_target[i]:
            alpha = alpha * np.exp(domain_shift * d[active])
        props[i, active] = rng.dirichlet(alpha)
    log_mean = np.log(mean_burden) - burden_sd**2 / 2 + np.where(is_target, domain_shift, 0.0)
    burden = np.exp(rng.normal(log_mean, burden_sd))
    exposures = props * burden[:, None]
    mu = exposures @ W.T
    if dispersion is None:
        counts = rng.poisson(mu)
    else:
        counts = rng.poisson(rng.gamma(float(dispersion), mu / float(dispersion)))
    samples = pd.Index([f"S{i + 1}" for i in range(n_samples)], name="sample")
    params = dict(
        n_samples=n_samples,
        n_signatures=K,
        n_active=n_active,
        concentration=float(concentration),
        mean_burden=float(mean_burden),
        burden_sd=float(burden_sd),
        dispersion=dispersion,
        n_classes=n_classes,
        domain_shift=float(domain_shift),
        target_fraction=float(target_fraction),
        background_overlap=background_overlap,
        source_signatures=source_names,
        target_signatures=target_names,
    )
    return MutationalSimulation(
        catalogue=pd.DataFrame(counts.astype(np.int64), index=samples, columns=W_df.index),
        signatures=W_df,
        exposures=pd.DataFrame(exposures, index=samples, columns=W_df.columns),
        burden=burden,
        labels=labels,
        domain=domain,
        params=params,
    )
