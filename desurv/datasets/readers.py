"""Readers for expression and clinical files.

:func:`read_expression`, :func:`read_clinical` and :func:`load_cohort` read the TSV layout
used in ``../shared/data/expression`` (genes x samples expression with a first ``gene``
column, optionally gzipped; one clinical row per sample) and return samples x genes data;
:func:`pool_cohorts` stacks cohorts on their shared genes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from desurv._validation import SURV_DTYPE, check_time_event, make_survival_y

__all__ = ["load_cohort", "pool_cohorts", "read_clinical", "read_expression"]

# cell contents read as missing values (NaN) by the readers
_NA_TOKENS = frozenset(
    {"", "NA", "na", "NaN", "nan", "N/A", "n/a", "NULL", "null", "None", "missing"}
)


def _read_table(path, what):
    """Read a TSV as strings; return (path, header Index, body DataFrame of str).

    The header is read as a plain row so that duplicated column names are kept (and can be
    reported) instead of being renamed by pandas. Missing trailing fields read as "".
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"cannot read {what} file {str(path)!r}: it is a directory, not a file")
    if not path.exists():
        raise ValueError(f"cannot read {what} file {str(path)!r}: no such file")
    if not path.is_file():  # a pipe (e.g. <(zcat f.gz)), device or socket: read more than once
        raise ValueError(
            f"cannot read {what} file {str(path)!r}: not a regular file (a pipe, device or "
            "socket); save it to a file first"
        )
    try:
        raw = pd.read_csv(
            path, sep="\t", header=None, compression="infer", dtype=str, keep_default_na=False
        )
    except pd.errors.EmptyDataError:
        raise ValueError(f"{what} file {str(path)!r} is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, EOFError) as exc:
        raise ValueError(f"cannot read {what} file {str(path)!r}: {exc}") from None
    if raw.shape[1] > 1 and (raw.iloc[:, -1] == "").any():
        _check_field_counts(path, what, raw.shape[1])
    header = pd.Index(raw.iloc[0].fillna("").str.strip().to_numpy())
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    return path, header, body.fillna("")


def _check_field_counts(path, what, n_fields):
    """Reject rows with fewer fields than the widest row (pandas pads them with "").

    Only called when the last column has empty cells, so well-formed files are read once.
    """
    lines = pd.read_csv(
        path,
        sep="\x1f",
        header=None,
        dtype=str,
        quoting=3,
        keep_default_na=False,
        compression="infer",
        skip_blank_lines=False,
    ).iloc[:, 0]
    counts = lines.str.count("\t").to_numpy() + 1
    short = np.flatnonzero(counts < n_fields)
    if short.size:
        line = int(short[0]) + 1
        raise ValueError(
            f"{what} file {str(path)!r} has {short.size} row(s) with too few tab-separated "
            f"fields, first line {line} ({int(counts[short[0]])} fields, expected {n_fields}); "
            "a row must have one value per column (write NA for a missing value)"
        )


def _fmt_columns(columns, limit=10):
    """``['a', 'b', …]`` with an explicit ``… (N in all)`` when the list is cut short."""
    names = [str(c) for c in columns]
    shown = ", ".join(repr(c) for c in names[:limit])
    if len(names) > limit:
        shown += f", … ({len(names)} columns in all)"
    return f"[{shown}]"


def _dup_message(values):
    dup = pd.Index(values)
    dup = pd.unique(dup[dup.duplicated()])
    head = ", ".join(repr(d) for d in dup[:5])
    return f"{len(dup)} duplicated name(s) (first few: {head}{', ...' if len(dup) > 5 else ''})"


def _exact_values(body, values):
    """float64 values of the cells of ``body`` (text) that ``values`` (pandas.to_numeric)
    parsed, each the correctly rounded double of its text (as Python's ``float``).

    pandas' fast parser is exact only up to ~15 significant digits; full-precision output
    (e.g. ``0.000256813042479154``) would otherwise differ by up to thousands of ulp from the
    same file read by ``desurv fit`` (pyarrow or pandas' C parser, both exact).
    """
    out = values.to_numpy(dtype=np.float64)
    ok = ~np.isnan(out)
    try:
        out[ok] = body.to_numpy(dtype=object)[ok].astype(np.float64)
    except (TypeError, ValueError):  # a spelling to_numeric accepts and float() does not
        pass
    return out


def read_expression(path):
    """Read an expression TSV (genes x samples) into a samples x genes DataFrame.

    Parameters
    ----------
    path : str or Path
        Tab-separated file, optionally compressed (``.gz``, ``.bz2``, ``.zip``, ``.xz``,
        inferred from the suffix). First row: a header whose first field names the gene
        column (e.g. ``gene``) followed by sample ids; each further row: a gene symbol and
        one numeric value per sample (``NA``, ``na``, ``NaN``, ``N/A``, ``NULL``, ``missing``,
        ``None`` and empty cells are read as NaN).

    Returns
    -------
    X : DataFrame of shape (n_samples, n_genes), float64
        Index: sample ids (named ``"sample"``); columns: gene names (named ``"gene"``).

    Raises
    ------
    ValueError
        Missing or unreadable file, empty file or no samples/genes, non-numeric values,
        duplicated gene or sample names. The message names the file.
    """
    path, header, df = _read_table(path, "expression")
    where = f"expression file {str(path)!r}"
    if header.size < 2:
        raise ValueError(f"{where} has no sample columns (need: gene, sample1, sample2, ...)")
    if df.shape[0] == 0:
        raise ValueError(f"{where} has no gene rows")
    genes = df.iloc[:, 0].str.strip()
    if (genes == "").any():
        raise ValueError(f"{where} has {int((genes == '').sum())} row(s) with an empty gene name")
    if genes.duplicated().any():
        raise ValueError(f"{where} has {_dup_message(genes)} in its first column (genes)")
    samples = header[1:]
    if (samples == "").any():
        col = int(np.flatnonzero(samples == "")[0]) + 2
        raise ValueError(
            f"{where} has an empty sample name in its header (column {col}); a tab at the end "
            "of the lines? Remove it or name the column"
        )
    if samples.duplicated().any():
        raise ValueError(f"{where} has {_dup_message(samples)} in its header (samples)")
    body = df.iloc[:, 1:]
    values = body.apply(pd.to_numeric, errors="coerce")
    is_na_token = body.apply(lambda c: c.str.strip()).isin(_NA_TOKENS).to_numpy()
    bad = values.isna().to_numpy() & ~is_na_token
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(
            f"{where} has {int(bad.sum())} non-numeric value(s), first {body.iat[r, c]!r} "
            f"(gene {genes.iat[r]!r}, sample {samples[c]!r})"
        )
    X = pd.DataFrame(
        _exact_values(body, values).T,
        index=pd.Index(samples.astype(str), name="sample"),
        columns=pd.Index(genes.to_numpy(), name="gene"),
    )
    return X


def read_clinical(path, time_col="time", event_col="event", sample_col="sample"):
    """Read a clinical TSV with one row per sample.

    Parameters
    ----------
    path : str or Path
        Tab-separated file (optionally compressed) with a header row.
    time_col, event_col, sample_col : str
        Columns holding the observed time, the event indicator (0/1) and the sample id.

    Returns
    -------
    clinical : DataFrame
        Indexed by sample id (index named ``"sample"``), with ``time`` (float64) and
        ``event`` (bool) first, then the other columns: numeric ones as numbers, others as
        strings; ``NA``, ``na``, ``NaN``, ``N/A``, ``NULL``, ``None``, ``missing`` and empty
        cells are missing (NaN/None).

    Raises
    ------
    ValueError
        Missing/unreadable/empty file, missing columns, duplicated sample ids, missing,
        negative or non-numeric times, event values other than 0/1. The message names the
        file.
    """
    path, header, df = _read_table(path, "clinical")
    where = f"clinical file {str(path)!r}"
    if header.duplicated().any():
        raise ValueError(f"{where} has {_dup_message(header)} in its header (columns)")
    df.columns = header
    missing = [c for c in (sample_col, time_col, event_col) if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where} lacks column(s) {missing}; found {_fmt_columns(df.columns)} (set "
            "time_col=/event_col=/sample_col= to the right names)"
        )
    if df.shape[0] == 0:
        raise ValueError(f"{where} has no sample rows")
    ids = df[sample_col].str.strip()
    if (ids == "").any():
        raise ValueError(f"{where} has rows with an empty {sample_col!r}")
    if ids.duplicated().any():
        raise ValueError(f"{where} has {_dup_message(ids)} in column {sample_col!r}")
    time = pd.to_numeric(df[time_col], errors="coerce")
    bad_t = time.isna() | ~np.isfinite(time.to_numpy(dtype=np.float64))
    if bad_t.any():
        raise ValueError(
            f"{where}: {int(bad_t.sum())} missing or non-numeric {time_col!r} value(s) "
            f"(first for sample {ids[bad_t].iloc[0]!r}: {df[time_col][bad_t].iloc[0]!r})"
        )
    if (time < 0).any():
        raise ValueError(
            f"{where}: {int((time < 0).sum())} negative {time_col!r} value(s) (first for "
            f"sample {ids[time < 0].iloc[0]!r}); survival times must be >= 0"
        )
    ev = pd.to_numeric(df[event_col], errors="coerce")
    bad_e = ~ev.isin([0, 1])
    if bad_e.any():
        raise ValueError(
            f"{where}: {event_col!r} must be 0/1; {int(bad_e.sum())} other value(s) (first "
            f"for sample {ids[bad_e].iloc[0]!r}: {df[event_col][bad_e].iloc[0]!r})"
        )
    out = pd.DataFrame(
        {"time": time.to_numpy(dtype=np.float64), "event": ev.to_numpy() == 1},
        index=pd.Index(ids.to_numpy(), name="sample"),
    )
    for col in df.columns:
        if col in (sample_col, time_col, event_col):
            continue
        raw = df[col].where(~df[col].str.strip().isin(_NA_TOKENS), None)
        num = pd.to_numeric(raw, errors="coerce")
        # keep numeric columns as numbers, others as strings (missing -> NaN/None)
        values = num if num.notna().sum() == raw.notna().sum() else raw
        out[col] = values.to_numpy()
    return out


def load_cohort(expression_path, clinical_path, *, require_event=True, **clinical_kwargs):
    """Read an expression file and its clinical file, aligned by sample id.

    Parameters
    ----------
    expression_path : str or Path
        Expression TSV (genes x samples), see :func:`read_expression`.
    clinical_path : str or Path
        Clinical TSV, see :func:`read_clinical`.
    require_event : bool, default=True
        Reject a cohort without any observed event (set False to read one, e.g. to score
        it without a C-index).
    **clinical_kwargs
        ``time_col``, ``event_col``, ``sample_col`` passed to :func:`read_clinical`.

    Returns
    -------
    X : DataFrame of shape (n_samples, n_genes)
        Samples x genes, rows in the expression file's sample order.
    y : ndarray of shape (n_samples,)
        Structured array (``event``, ``time``) in the same order.
    clinical : DataFrame
        Clinical table reordered to the same samples.

    Raises
    ------
    ValueError
        Any reader error, or samples present in one file but not in the other (listed;
        nothing is dropped silently).
    """
    X = read_expression(expression_path)
    clinical = read_clinical(clinical_path, **clinical_kwargs)
    only_x = X.index.difference(clinical.index, sort=False)
    only_c = clinical.index.difference(X.index, sort=False)
    if len(only_x) or len(only_c):
        parts = []
        if len(only_x):
            parts.append(
                f"{len(only_x)} sample(s) only in {str(expression_path)!r}: "
                f"{', '.join(map(repr, only_x[:10]))}{', ...' if len(only_x) > 10 else ''}"
            )
        if len(only_c):
            parts.append(
                f"{len(only_c)} sample(s) only in {str(clinical_path)!r}: "
                f"{', '.join(map(repr, only_c[:10]))}{', ...' if len(only_c) > 10 else ''}"
            )
        raise ValueError(
            "expression and clinical samples differ; "
            + "; ".join(parts)
            + " (subset both files to the shared samples explicitly)"
        )
    clinical = clinical.loc[X.index]
    if require_event:
        y = make_survival_y(clinical["time"].to_numpy(), clinical["event"].to_numpy())
    else:
        time, event = check_time_event(
            clinical["time"].to_numpy(), clinical["event"].to_numpy(), require_event=False
        )
        y = np.empty(time.shape[0], dtype=SURV_DTYPE)
        y["event"], y["time"] = event, time
    return X, y, clinical


def pool_cohorts(cohorts):
    """Stack several cohorts on their shared genes, with a cohort label per sample.

    Parameters
    ----------
    cohorts : dict of str -> (DataFrame, ndarray)
        Cohort name -> (X samples × genes, y structured survival array), e.g. from
        :func:`load_cohort`.

    Returns
    -------
    X : DataFrame of shape (n_samples_total, n_shared_genes)
        Rows of all cohorts in the given order, columns = genes present in every cohort (in
        the first cohort's order). Sample ids are prefixed ``"<cohort>:"`` only if they collide.
    y : ndarray of shape (n_samples_total,)
        Structured survival array.
    groups : ndarray of str of shape (n_samples_total,)
        Cohort name of each sample.
    dropped : dict of str -> int
        Number of genes of each cohort that are not shared (not used).

    Raises
    ------
    ValueError
        Fewer than one cohort, no shared gene, or a malformed entry.
    """
    if not isinstance(cohorts, dict) or not cohorts:
        raise ValueError("cohorts must be a non-empty dict of name -> (X, y)")
    shared = None
    for name, entry in cohorts.items():
        if not isinstance(entry, tuple) or len(entry) < 2 or not isinstance(entry[0], pd.DataFrame):
            raise ValueError(
                f"cohort {name!r} must be a tuple (X DataFrame, y), as load_cohort gives"
            )
        cols = entry[0].columns
        shared = cols if shared is None else shared.intersection(cols, sort=False)
    if len(shared) == 0:
        raise ValueError(f"the cohorts {list(cohorts)} share no gene names")
    frames, ys, groups = [], [], []
    for name, (X, y, *_rest) in cohorts.items():
        frames.append(X.loc[:, shared])
        ys.append(np.asarray(y))
        groups.append(np.full(X.shape[0], name, dtype=object))
    X = pd.concat(frames, axis=0)
    if X.index.has_duplicates:
        X.index = [f"{g}:{s}" for g, s in zip(np.concatenate(groups), X.index, strict=True)]
    dropped = {name: int(entry[0].shape[1] - len(shared)) for name, entry in cohorts.items()}
    return X, np.concatenate(ys), np.concatenate(groups), dropped
