"""A self-contained HTML report of a desurv run directory.

:func:`write_report` collects the tables, JSON files and PNG figures a run wrote (model
selection, fitted model, validation, method comparison), draws the standard figures from the
tables (:mod:`desurv.plotting`) and writes one HTML file: figures are embedded as base64 PNG,
tables are escaped HTML, the style is inline CSS, and nothing is loaded from elsewhere (no
scripts, fonts or links), so the file can be mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shlex
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import DataWarning

__all__ = ["write_report"]

REPORTABLE = (".csv", ".tsv", ".json", ".png")
_PARAMS = ("n_components", "alpha", "penalty", "l1_ratio", "penalty_w", "penalty_h")
# Sections in page order: (anchor, heading).
SECTIONS = (
    ("run", "Run"),
    ("selection", "Model selection"),
    ("model", "Fitted model"),
    ("validation", "Validation"),
    ("comparison", "Method comparison"),
    ("figures", "Figures"),
    ("other", "Other tables"),
    ("files", "Files"),
)
# Known file stems -> (section, heading). CSV and TSV are both accepted for tables.
KNOWN = {
    "metadata": ("run", "Run metadata"),
    "summary.json": ("run", "Fit summary"),
    "selected": ("selection", "Selected hyperparameters"),
    "cv_summary": ("selection", "Cross-validation summary"),
    "cv_results": ("selection", "Cross-validation fits (aggregate)"),
    "summary": ("model", "Model coefficients"),
    "coefficients": ("model", "Model coefficients"),
    "loss_history": ("model", "Loss history"),
    "gene_programs": ("model", "Gene programs"),
    "top_genes": ("model", "Top genes"),
    "validation_summary": ("validation", "Validation summary"),
    "hazard_ratios": ("validation", "Hazard ratios"),
    "logrank": ("validation", "Log-rank tests"),
    "km_summary": ("validation", "Kaplan–Meier summary"),
    "risk_scores": ("validation", "Risk scores"),
    "comparison": ("comparison", "Method comparison"),
}
# Display order of known files within a section.
_ORDER = {name: i for i, name in enumerate(KNOWN)}

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
h3 { margin-bottom: .3em; } h3 code { font-size: .8em; color: #666; font-weight: normal; }
table.tbl { border-collapse: collapse; font-size: .85em; margin: .5em 0 1em; }
table.tbl th, table.tbl td { border: 1px solid #ccc; padding: .2em .5em; text-align: right; }
table.tbl th { background: #f0f0f0; } table.tbl tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; }
.note { font-size: .85em; color: #666; font-style: italic; }
.error { color: #a00; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
nav ul { columns: 2; } .meta td, .meta th { text-align: left; }
"""


@dataclass
class _Entry:
    path: Path
    rel: str  # path relative to run_dir, with "/" separators
    key: str  # KNOWN key, "<KNOWN key>:settings" (a JSON sidecar), "png" or "other"


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def _note(text) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _fmt(x) -> str:
    return f"{x:.4g}"


def _table(df, *, max_rows=50, index=False, note=None) -> str:
    """Escaped HTML table, truncated to ``max_rows`` rows with a note saying so."""
    parts = []
    if note:
        parts.append(_note(note))
    shown = df
    if len(df) > max_rows:
        shown = df.head(max_rows)
        parts.append(_note(f"showing the first {max_rows} of {len(df)} rows"))
    parts.append(
        shown.to_html(
            index=index, escape=True, border=0, classes="tbl", float_format=_fmt, na_rep=""
        )
    )
    return "\n".join(parts)


def _flatten(obj, prefix=""):
    """Nested JSON -> list of (dotted key, value); lists of scalars stay one value."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        if isinstance(obj, list) and any(isinstance(v, dict | list) for v in obj):
            obj = json.dumps(obj)
        out.append((prefix or "value", obj))
    return out


MAX_VALUE_CHARS = 300


def _value_text(v) -> str:
    text = json.dumps(v) if isinstance(v, list) else ("" if v is None else str(v))
    if len(text) > MAX_VALUE_CHARS:
        extra = f", {len(v)} items" if isinstance(v, list) else ""
        text = text[:MAX_VALUE_CHARS] + f"… ({len(text)} characters{extra})"
    return text


def _kv_table(obj, max_rows=200) -> str:
    # Values become text before the frame is built, so ints are not shown as floats.
    rows = [(k, _value_text(v)) for k, v in _flatten(obj)]
    df = pd.DataFrame(rows, columns=["key", "value"])
    return _table(df, max_rows=max_rows).replace(
        'class="dataframe tbl"', 'class="dataframe tbl meta"'
    )


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------
class _Figures:
    """Draws figures into base64 PNG; says once when matplotlib is unavailable.

    A figure the run already saved as PNG beside the table (e.g. ``cv_heatmap.png`` next to
    ``cv_summary.csv``) is embedded instead of being drawn again, and is then not repeated in
    the "Figures" section.
    """

    def __init__(self, pngs):
        self.missing_reported = False
        self.pngs = pngs  # {(folder, lower-case stem): _Entry}
        self.used = set()

    def render(self, draw, caption, figsize=(7, 4.5), *, entry=None, stems=()) -> str:
        for stem in stems if entry is not None else ():
            png = self.pngs.get((entry.path.parent, stem))
            if png is not None and png.path not in self.used:
                self.used.add(png.path)
                return _png_entry(png, f"{caption}; figure file {png.rel}")
        try:
            from matplotlib.figure import Figure
        except ImportError:
            if self.missing_reported:
                return ""
            self.missing_reported = True
            return _note(
                "figures are not drawn because matplotlib is not installed: "
                "pip install 'desurv[plot]'"
            )
        # A bare Figure (no pyplot) leaves the user's pyplot state and backend alone.
        fig = Figure(figsize=figsize)
        ax = fig.add_subplot()
        try:
            draw(ax)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        except (ValueError, KeyError, TypeError) as exc:
            return f'<p class="note error">figure "{_esc(caption)}" not drawn: {_esc(exc)}</p>'
        return _img(buf.getvalue(), caption)


def _img(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    cap = _esc(caption)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{cap}">'
        f"<figcaption>{cap}</figcaption></figure>"
    )


# --------------------------------------------------------------------------------------------
# Renderers of known files: (entry, data, figures, max_rows) -> HTML
# --------------------------------------------------------------------------------------------
def _r_metadata(entry, data, figs, max_rows):
    parts = []
    cmd = next((data[k] for k in ("command_line", "command", "argv") if k in data), None)
    if cmd is not None:
        cmd = shlex.join(map(str, cmd)) if isinstance(cmd, list) else str(cmd)
        parts.append(f"<p>Command line:</p><pre>{_esc(cmd)}</pre>")
    parts.append(_kv_table(data, max_rows=max_rows))
    return "\n".join(parts)


def _r_json(entry, data, figs, max_rows):
    return _kv_table(data, max_rows=max_rows)


def _r_cv_summary(entry, df, figs, max_rows):
    from . import plotting

    n_alpha = df["alpha"].nunique() if "alpha" in df.columns else 5
    n_k = df["n_components"].nunique() if "n_components" in df.columns else 4
    parts = [
        figs.render(
            lambda ax: plotting.plot_cv_heatmap(df, ax=ax),
            f"Cross-validated C-index over k × α ({entry.rel})",
            figsize=(max(5.0, 0.9 * n_alpha + 3), max(3.5, 0.6 * n_k + 2)),
            entry=entry,
            stems=("cv_heatmap",),
        ),
        figs.render(
            lambda ax: plotting.plot_cindex_vs_alpha(df, ax=ax),
            f"Cross-validated C-index against α per k ({entry.rel})",
            figsize=(7.5, 4.5),
            entry=entry,
            stems=("cv_cindex_vs_alpha", "cindex_vs_alpha"),
        ),
    ]
    table = df
    note = None
    if "mean_cindex" in df.columns:
        table = df.sort_values("mean_cindex", ascending=False, kind="stable")
        note = "configurations sorted by decreasing mean C-index"
    parts.append(_table(table, max_rows=min(max_rows, 25), note=note))
    return "\n".join(parts)


def _r_cv_results(entry, df, figs, max_rows):
    params = [c for c in _PARAMS if c in df.columns]
    loops = [c for c in ("fold", "seed", "repeat", "cohort") if c in df.columns]
    facts = {"rows (individual fits)": len(df)}
    if params:
        facts["distinct configurations"] = len(df.drop_duplicates(params))
    for c in loops:
        facts[f"distinct values of {c}"] = int(df[c].nunique())
    parts = [_kv_table(facts)]
    numeric = df.select_dtypes("number").drop(columns=params + loops, errors="ignore")
    if numeric.shape[1]:
        desc = numeric.describe().T[["count", "mean", "std", "min", "max"]]
        desc.index.name = "column"
        parts.append(_table(desc.reset_index(), max_rows=max_rows, note="numeric columns"))
    return "\n".join(parts)


def _r_loss_history(entry, df, figs, max_rows):
    from . import plotting

    parts = [
        figs.render(
            lambda ax: plotting.plot_loss_history(df, ax=ax),
            f"Objective and components per iteration, relative to iteration 1 ({entry.rel})",
            entry=entry,
            stems=("loss_history",),
        )
    ]
    parts.append(_table(df.tail(1), note=f"{len(df)} iterations; last row"))
    return "\n".join(parts)


def _r_gene_programs(entry, df, figs, max_rows):
    from . import plotting

    W = df.set_index(df.columns[0]) if not pd.api.types.is_numeric_dtype(df.iloc[:, 0]) else df
    W = W.select_dtypes("number")
    return "\n".join(
        [
            _note(f"W: {W.shape[0]} genes × {W.shape[1]} factors (table not shown)"),
            figs.render(
                lambda ax: plotting.plot_gene_programs(W, n_top=10, ax=ax),
                f"W̃ on the top 10 genes of each factor ({entry.rel})",
                figsize=(2.6 + 0.8 * W.shape[1], 0.17 * min(10 * W.shape[1], W.shape[0]) + 1.6),
                entry=entry,
                stems=("gene_programs",),
            ),
        ]
    )


def _r_hazard_ratios(entry, df, figs, max_rows):
    from . import plotting

    # Univariable and multivariable rows of one term would collide: one plot per model.
    if "model" in df.columns and df["model"].nunique() > 1:
        parts_by = [(f"{m} models", df[df["model"] == m]) for m in pd.unique(df["model"])]
    else:
        parts_by = [("", df)]
    parts = []
    for label, sub in parts_by:
        n_rows = len(sub) + (sub["cohort"].nunique() if "cohort" in sub.columns else 0)
        what = f"Hazard ratios{', ' + label if label else ''}"
        parts.append(
            figs.render(
                lambda ax, sub=sub, what=what: plotting.plot_forest(sub, ax=ax, title=what),
                f"Forest plot: {what.lower()} ({entry.rel})",
                figsize=(9.0, max(0.8, 0.38 * n_rows) + 1.3),
                entry=entry if len(parts_by) == 1 else None,
                stems=("forest", "forest_plot", "hazard_ratios"),
            )
        )
    parts.append(_table(df, max_rows=max_rows))
    return "\n".join(parts)


MAX_KM_COHORTS = 8


def _r_risk_scores(entry, df, figs, max_rows):
    from . import plotting

    parts = []
    lp_col = next((c for c in ("linear_predictor", "eta") if c in df.columns), None)
    if {"time", "event"} <= set(df.columns) and ("group" in df.columns or lp_col):
        cohorts = list(pd.unique(df["cohort"])) if "cohort" in df.columns else [None]
        if len(cohorts) > MAX_KM_COHORTS:
            parts.append(_note(f"Kaplan–Meier curves of the first {MAX_KM_COHORTS} cohorts only"))
        for cohort in cohorts[:MAX_KM_COHORTS]:
            sub = df if cohort is None else df[df["cohort"] == cohort]
            where = entry.rel if cohort is None else f"{entry.rel}, cohort {cohort}"
            if "group" in sub.columns:
                groups, how = sub["group"], "by the column 'group'"
            else:
                lp = sub[lp_col].to_numpy(float)
                cut = float(np.median(lp))
                groups = pd.Series(np.where(lp > cut, "high risk", "low risk"))
                how = f"split at the median {lp_col} of these samples ({cut:.4g})"
            parts.append(
                figs.render(
                    lambda ax, sub=sub, groups=groups, where=where: plotting.plot_kaplan_meier(
                        sub["time"], sub["event"], groups, ax=ax, title=where, time_unit=None
                    ),
                    f"Kaplan–Meier curves {how} ({where})",
                    figsize=(7.5, 5.5),
                )
            )
    parts.append(_table(df, max_rows=min(max_rows, 10), note=f"{len(df)} samples"))
    return "\n".join(parts)


def _r_table(entry, df, figs, max_rows):
    return _table(df, max_rows=max_rows)


_RENDERERS = {
    "metadata": _r_metadata,
    "summary.json": _r_json,
    "selected": _r_json,
    "cv_summary": _r_cv_summary,
    "cv_results": _r_cv_results,
    "loss_history": _r_loss_history,
    "gene_programs": _r_gene_programs,
    "hazard_ratios": _r_hazard_ratios,
    "risk_scores": _r_risk_scores,
    "top_genes": lambda e, d, f, m: _table(d, max_rows=max(m, 100)),
}


# --------------------------------------------------------------------------------------------
# Collection and page assembly
# --------------------------------------------------------------------------------------------
def _classify(path: Path) -> str:
    stem, ext = path.stem.lower(), path.suffix.lower()
    if ext == ".png":
        return "png"
    base, _, table_ext = stem.rpartition(".")
    if ext == ".json" and table_ext in ("csv", "tsv") and base in KNOWN:
        return f"{base}:settings"  # sidecar of a known table, e.g. cv_results.csv.json
    if ext == ".json":
        name = f"{stem}.json" if f"{stem}.json" in KNOWN else stem
        return name if name in ("metadata", "selected", "summary.json") else "other"
    return stem if stem in KNOWN and stem not in ("metadata", "selected") else "other"


_FIT_FILES = ("loss_history", "gene_programs", "model")


def _section(entry, all_files) -> str:
    """Section of a known file; risk scores beside a fitted model are training scores."""
    if entry.key.endswith(":settings"):
        return KNOWN[entry.key.split(":")[0]][0]
    if entry.key == "risk_scores":
        siblings = {p.stem.lower() for p in all_files if p.parent == entry.path.parent}
        if siblings.intersection(_FIT_FILES):
            return "model"
    return KNOWN[entry.key][0]


def _collect(run_dir: Path, skip: Path | None):
    """Files of run_dir and of its immediate subdirectories (hidden ones skipped)."""
    files = []
    for p in sorted(run_dir.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir():
            files += [q for q in sorted(p.iterdir()) if q.is_file() and not q.name.startswith(".")]
        elif p.is_file():
            files.append(p)
    if skip is not None:
        files = [f for f in files if f.resolve() != skip]
    return files


def _read(entry: _Entry):
    ext = entry.path.suffix.lower()
    if ext == ".json":
        with open(entry.path, encoding="utf-8") as fh:
            return json.load(fh)
    return pd.read_csv(entry.path, sep="\t" if ext == ".tsv" else ",")


def _caption(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip() or path.name


def _render_entry(entry, figs, max_rows) -> str:
    base = entry.key.split(":")[0]
    head = KNOWN.get(base, (None, None))[1] if entry.key != "other" else None
    if head and entry.key != base:
        head += ": settings"
    title = (
        f"{_esc(head)} <code>{_esc(entry.rel)}</code>"
        if head
        else f"<code>{_esc(entry.rel)}</code>"
    )
    out = [f"<h3>{title}</h3>"]
    try:
        data = _read(entry)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        warnings.warn(f"report: could not read {entry.path}: {exc}", DataWarning, stacklevel=3)
        out.append(f'<p class="note error">could not read this file: {_esc(exc)}</p>')
        return "\n".join(out)
    if isinstance(data, pd.DataFrame):
        renderer = _RENDERERS.get(entry.key, _r_table)
    else:
        renderer = _RENDERERS.get(entry.key, _r_json)
        if not isinstance(data, dict):
            data = {"value": data}
    out.append(renderer(entry, data, figs, max_rows))
    return "\n".join(out)


def _png_entry(entry, caption=None) -> str:
    png = entry.path.read_bytes()
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return f'<p class="note error">{_esc(entry.rel)} is not a PNG image; not shown</p>'
    return _img(png, caption or f"{_caption(entry.path)} ({entry.rel})")


def write_report(run_dir, out=None, *, title=None, max_rows=50) -> Path:
    """Write a self-contained HTML report of a desurv run directory.

    Looks in ``run_dir`` and its immediate subdirectories (e.g. ``run_dir/model/``) for the
    files desurv writes and lays them out by section:

    * Run: ``metadata.json`` (with the command line when it has a ``command_line``,
      ``command`` or ``argv`` key), ``summary.json`` (``desurv fit``).
    * Model selection: ``selected.json``; ``cv_summary``: heatmap of the CV C-index over
      k × α, C-index against α, and the best configurations; ``cv_results``: a short
      aggregate only (numbers of fits, configurations, folds, seeds; column statistics).
    * Fitted model: ``summary``/``coefficients``, ``loss_history`` (figure), ``gene_programs``
      (heatmap of W̃ on the top genes; the table itself is not shown), ``top_genes``.
    * Validation: ``validation_summary``, ``hazard_ratios`` (forest plot; one per value of a
      ``model`` column), ``logrank``, ``km_summary``, ``risk_scores`` (Kaplan–Meier curves
      per ``cohort`` by its ``group`` column, else split at the median ``linear_predictor``
      or ``eta``; placed under "Fitted model" when it sits beside a model's files).
    * Method comparison: ``comparison``.
    * Figures: every ``*.png``, captioned from its file name. A PNG of a figure the report
      would draw (``cv_heatmap``, ``cv_cindex_vs_alpha``, ``gene_programs``, ``loss_history``,
      ``forest``) found beside its table is embedded there instead of a redrawn copy.
    * Other tables: any other CSV, TSV or JSON file. Then a list of all files.

    Tables may be CSV or TSV. Long tables are truncated with a note; an unreadable file is
    reported on the page (and with a :class:`~desurv.exceptions.DataWarning`) and a figure
    that cannot be drawn from a table says why, instead of stopping the report.

    Figures are drawn with :mod:`desurv.plotting` (matplotlib, optional: without it the page
    says so and shows the tables) and embedded as base64 PNG; tables are escaped by pandas
    ``to_html`` and every name by :func:`html.escape`; the page uses inline CSS only and loads
    no external resource or script. It records its generation time and the desurv version.

    Parameters
    ----------
    run_dir : str or path-like
        Output folder of a desurv run.
    out : str or path-like, optional
        Output file (or existing folder, which then receives ``report.html``). Default
        ``run_dir/report.html``. The file is written atomically (temporary file, then rename).
    title : str, optional
        Page title; default ``"desurv report: <run_dir name>"``.
    max_rows : int, default 50
        Maximum rows shown per table.

    Returns
    -------
    pathlib.Path
        The HTML file written.

    Raises
    ------
    ValueError
        ``run_dir`` does not exist or is not a folder, it contains nothing reportable (no
        CSV, TSV, JSON or PNG file), or ``max_rows`` < 1.
    """
    from . import __version__

    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise ValueError(
            f"run_dir {str(run_dir)!r} does not exist; give the output folder of a run"
        )
    if not run_dir.is_dir():
        raise ValueError(
            f"run_dir {str(run_dir)!r} is not a folder; give the output folder of a run"
        )
    if int(max_rows) < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    max_rows = int(max_rows)
    out = Path(out) if out is not None else run_dir / "report.html"
    if out.is_dir():
        out = out / "report.html"

    all_files = _collect(run_dir, out.resolve())
    entries = [
        _Entry(p, p.relative_to(run_dir).as_posix(), _classify(p))
        for p in all_files
        if p.suffix.lower() in REPORTABLE
    ]
    if not entries:
        raise ValueError(
            f"run_dir {str(run_dir)!r} contains nothing to report: expected CSV/TSV/JSON/PNG "
            "files such as cv_summary.csv, hazard_ratios.csv or metadata.json (also looked one "
            "folder deep)"
        )

    pngs = {(e.path.parent, e.path.stem.lower()): e for e in entries if e.key == "png"}
    figs = _Figures(pngs)
    body = {sec: [] for sec, _ in SECTIONS}

    def sort_key(e):  # known files in KNOWN order (sidecars after their table), top level first
        base = e.key.split(":")[0]
        return (_ORDER.get(base, len(_ORDER)), e.rel.count("/"), e.key != base, e.rel)

    for e in sorted(entries, key=sort_key):
        if e.key == "png":
            continue  # after the tables, which may embed some PNGs in place
        if e.key == "other":
            body["other"].append(_render_entry(e, figs, max_rows))
        else:
            body[_section(e, all_files)].append(_render_entry(e, figs, max_rows))
    body["figures"] = [
        _png_entry(e)
        for e in sorted(entries, key=sort_key)
        if e.key == "png" and e.path not in figs.used
    ]
    shown = {e.path for e in entries}
    listing = pd.DataFrame(
        {
            "file": [p.relative_to(run_dir).as_posix() for p in all_files],
            "size (bytes)": [p.stat().st_size for p in all_files],
            "in report": ["yes" if p in shown else "no" for p in all_files],
        }
    )
    body["files"].append(_table(listing, max_rows=500))

    page_title = title if title is not None else f"desurv report: {run_dir.resolve().name}"
    generated = datetime.now().astimezone().isoformat(timespec="seconds")
    header = (
        f"<h1>{_esc(page_title)}</h1>\n"
        f'<p class="note">Generated {_esc(generated)} by desurv {_esc(__version__)} from '
        f"<code>{_esc(run_dir.resolve())}</code>.</p>"
    )
    present = [(sec, name) for sec, name in SECTIONS if body[sec]]
    nav = (
        "<nav><ul>"
        + "".join(f'<li><a href="#sec-{sec}">{_esc(name)}</a></li>' for sec, name in present)
        + "</ul></nav>"
    )
    sections = [
        f'<section id="sec-{sec}"><h2>{_esc(name)}</h2>\n' + "\n".join(body[sec]) + "</section>"
        for sec, name in present
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{_esc(page_title)}</title>\n<style>{CSS}</style></head>\n<body>\n"
        + header
        + "\n"
        + nav
        + "\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
