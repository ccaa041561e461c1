"""Fast reading of expression files for the command line.

:func:`read_expression` returns what :func:`desurv.datasets.read_expression` returns (a
samples x genes float64 DataFrame, index ``sample``, columns ``gene``) without its
string-by-string conversion, which takes ~1 s for a 2,000 x 300 file:

- a compiled parser with explicit column types (first column text, every other column
  float64) instead of reading every cell as text and converting afterwards: pyarrow's CSV
  reader when pyarrow >= 14 is installed (``pip install desurv[fast]``; multi-threaded),
  otherwise pandas' C parser;
- only for a file in the plain layout: uncompressed or ``.gz``; a first line holding the
  header (no quotes, no blank line before it); one gene name and one number per sample on
  every row; no missing, infinite or duplicated values where they are not allowed. Anything
  else (a missing value, a non-numeric cell, a duplicated gene, a short row, ``.bz2``, ...)
  is read by :func:`desurv.datasets.read_expression`, so errors and their messages are the
  library's, and a file desurv reads is read the same way with or without pyarrow.

Values are the correctly rounded double of each cell's text (as Python's ``float``) with
both parsers and with the library reader (which re-reads the cells that
``pandas.to_numeric``, exact only up to ~15 significant digits, accepted), so all three
give identical DataFrames, full-precision output such as ``0.000256813042479154``
included.

:func:`load_cohort` is :func:`desurv.datasets.load_cohort` with this reader; errors (e.g.
samples in one file only) come from :func:`desurv.datasets.load_cohort` itself.
"""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

__all__ = ["ENGINES", "available_engine", "load_cohort", "read_expression"]

ENGINES = ("pyarrow", "c")
_MIN_PYARROW = (14, 0)

# cells read as missing values: desurv.datasets.readers._NA_TOKENS (a file holding one is
# handed to that reader, so only the set of tokens matters, not what they become)
_NA_TOKENS = ("", "NA", "na", "NaN", "nan", "N/A", "n/a", "NULL", "null", "None", "missing")
# pandas' C parser turns "true"/"false" in any letter case into 1.0/0.0 in a float column;
# as missing values they send the file to the library reader (which rejects them)
_BOOL_WORDS = tuple(
    "".join(chars)
    for word in ("true", "false")
    for chars in itertools.product(*((c.lower(), c.upper()) for c in word))
)
_BOM = b"\xef\xbb\xbf"


def available_engine():
    """The parser :func:`read_expression` uses: ``"pyarrow"`` if pyarrow >= 14 can be
    imported, else ``"c"`` (pandas' C parser)."""
    return "pyarrow" if _pyarrow_csv() is not None else "c"


def _pyarrow_csv():
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    try:
        version = tuple(int(part) for part in pa.__version__.split(".")[:2])
    except ValueError:
        return None
    return (pa, pacsv) if version >= _MIN_PYARROW else None


def _compression(path):
    """``None`` (plain), ``"gzip"``, or ``False`` for a compression left to the library
    reader; by suffix, as pandas infers it."""
    name = str(path).lower()
    if name.endswith((".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".bz2", ".zip", ".xz", ".zst")):
        return False
    return "gzip" if name.endswith(".gz") else None


def _header(path, compression):
    """Sample names from the first line, or None unless that line is plainly the header
    pandas would read (no blank line before it, no quotes, UTF-8, tab-separated)."""
    opener = gzip.open if compression == "gzip" else open
    with opener(path, "rb") as fh:
        line = fh.readline()
    line = line.removeprefix(_BOM).removesuffix(b"\n").removesuffix(b"\r")
    if not line.strip() or any(c in line for c in (b'"', b"\r", b"\x00")):
        return None
    try:
        fields = [field.strip() for field in line.decode("utf-8").split("\t")]
    except UnicodeDecodeError:
        return None
    # an empty sample name (e.g. a trailing tab) is the library reader's error to report
    return fields if len(fields) >= 2 and all(fields[1:]) else None


def _read_pyarrow(path, compression, n_fields):
    """pyarrow Table of the rows after the header (columns ``f0``: text, others: float64)."""
    pa, pacsv = _pyarrow_csv()
    names = [f"f{i}" for i in range(n_fields)]
    types = dict.fromkeys(names[1:], pa.float64())
    types[names[0]] = pa.string()
    # blocks (parsed in parallel) must hold whole rows: 1 MiB, more for very wide files
    block_size = max(1 << 20, 32 * n_fields)
    with pa.input_stream(str(path), compression=compression) as source:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=names, use_threads=True, block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(
                delimiter="\t", quote_char='"', double_quote=True, escape_char=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=list(_NA_TOKENS), strings_can_be_null=False
            ),
        )


def _from_table(table):
    """(gene names, values of shape (n_samples, n_genes)) of :func:`_read_pyarrow`'s table,
    or None if a value is missing."""
    import numpy as np

    columns = table.columns
    if any(column.null_count for column in columns[1:]):
        return None  # missing values: the library reader
    return columns[0].to_pylist(), np.stack([column.to_numpy() for column in columns[1:]])


def _parse_c(path, compression, n_fields):
    """(gene names, values of shape (n_samples, n_genes)) parsed by pandas' C parser."""
    import numpy as np
    import pandas as pd

    value_columns = range(1, n_fields)
    na = list(_NA_TOKENS + _BOOL_WORDS)
    body = pd.read_csv(
        path,
        sep="\t",
        header=None,
        skiprows=1,
        compression=compression,
        dtype={0: str, **dict.fromkeys(value_columns, np.float64)},
        keep_default_na=False,
        na_values=dict.fromkeys(value_columns, na),
        float_precision="round_trip",  # correctly rounded, as pyarrow
    )
    if body.shape[1] != n_fields:
        return None
    values = body.iloc[:, 1:].to_numpy(dtype=np.float64)
    return body.iloc[:, 0].tolist(), np.ascontiguousarray(values.T)


def _frame(header, parsed):
    """The expression DataFrame from the header fields and the parsed rows, or None when
    something is outside the plain layout (the library reader then reads the file)."""
    import numpy as np
    import pandas as pd

    genes, values = parsed
    if values.size == 0 or not np.isfinite(values).all():
        return None
    if any(not isinstance(g, str) for g in genes):
        return None
    genes = pd.Series(genes, dtype=object).str.strip()
    samples = pd.Index(header[1:], dtype=object)
    if (genes == "").any() or genes.str.contains('"', regex=False).any():
        return None  # an empty name, or quotes inside a name (parsers may differ there)
    if genes.duplicated().any() or samples.duplicated().any():
        return None
    # the library reader's construction: C-ordered (samples, genes) values
    return pd.DataFrame(
        values,
        index=pd.Index(samples.astype(str), name="sample"),
        columns=pd.Index(genes.to_numpy(), name="gene"),
    )


def _check_engine(engine):
    if engine is None:
        return available_engine()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "pyarrow" and _pyarrow_csv() is None:
        raise ValueError("engine='pyarrow' needs pyarrow >= 14 (pip install desurv[fast])")
    return engine


def _fast(path, engine):
    """The expression DataFrame, or None when the file is not in the plain layout."""
    path = Path(path)
    compression = _compression(path)
    if compression is False or not path.is_file():
        return None
    try:
        header = _header(path, compression)
        if header is None:
            return None
        if engine == "pyarrow":
            parsed = _from_table(_read_pyarrow(path, compression, len(header)))
        else:
            parsed = _parse_c(path, compression, len(header))
    except Exception:  # noqa: BLE001 - any failure: the library reader reports it
        return None
    return None if parsed is None else _frame(header, parsed)


def read_expression(path, engine=None):
    """Read an expression TSV (genes x samples) into a samples x genes DataFrame.

    Same contract as :func:`desurv.datasets.read_expression` (which reads every file
    outside the plain layout, see the module docstring), with correctly rounded values.

    Parameters
    ----------
    path : str or Path
        Tab-separated expression file, optionally compressed.
    engine : {"pyarrow", "c"} or None
        Parser of the plain layout; None: :func:`available_engine`.

    Returns
    -------
    X : DataFrame of shape (n_samples, n_genes), float64
        Index: sample ids (named ``"sample"``); columns: gene names (named ``"gene"``).

    Raises
    ------
    ValueError
        The errors of :func:`desurv.datasets.read_expression`, or an unknown or
        unavailable ``engine``.
    """
    X = _fast(path, _check_engine(engine))
    if X is None:
        from desurv.datasets.readers import read_expression as read_any

        X = read_any(path)
    return X


def load_cohort(
    expression_path, clinical_path, *, require_event=True, engine=None, **clinical_kwargs
):
    """:func:`desurv.datasets.load_cohort` with :func:`read_expression`.

    Parameters
    ----------
    expression_path : str or Path
        Expression TSV (genes x samples).
    clinical_path : str or Path
        Clinical TSV (:func:`desurv.datasets.read_clinical`).
    require_event : bool, default=True
        Reject a cohort without any observed event.
    engine : {"pyarrow", "c"} or None
        See :func:`read_expression`.
    **clinical_kwargs
        ``time_col``, ``event_col``, ``sample_col``.

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
        The errors of :func:`desurv.datasets.load_cohort` (which is called to report them).
    """
    import numpy as np

    from desurv._validation import SURV_DTYPE, check_time_event, make_survival_y
    from desurv.datasets import readers

    X = read_expression(expression_path, engine=engine)
    clinical = readers.read_clinical(clinical_path, **clinical_kwargs)
    if len(clinical) != len(X) or not X.index.isin(clinical.index).all():
        # samples in one file only: the library's message (it reads both files again)
        readers.load_cohort(
            expression_path, clinical_path, require_event=require_event, **clinical_kwargs
        )
        raise AssertionError("desurv.datasets.load_cohort accepted differing samples")
    clinical = clinical.loc[X.index]
    time, event = clinical["time"].to_numpy(), clinical["event"].to_numpy()
    if require_event:
        return X, make_survival_y(time, event), clinical
    time, event = check_time_event(time, event, require_event=False)
    y = np.empty(time.shape[0], dtype=SURV_DTYPE)
    y["event"], y["time"] = event, time
    return X, y, clinical
