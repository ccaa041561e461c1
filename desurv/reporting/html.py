"""A self-contained HTML report of a desurv run directory.

:func:`write_report` collects the tables, JSON files and PNG figures a run wrote (model
selection, fitted model, validation, method comparison, benchmark), draws the standard
figures from the tables (:mod:`desurv.reporting.plots`) and writes one HTML file: figures
are embedded as base64 PNG, tables are escaped HTML, the style is inline CSS, and nothing is
loaded from elsewhere (no scripts, fonts or links), so the file can be mailed or archived on
its own.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shlex
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from desurv._output import MANIFEST, write_text_atomic
from desurv.exceptions import DataWarning

__all__ = ["write_report"]

REPORTABLE = (".csv", ".tsv", ".json", ".png")
_PARAMS = ("n_components", "alpha", "penalty", "l1_ratio", "penalty_w", "penalty_h")
# Sections in page order: (anchor, heading).
SECTIONS = (
    ("run", "Run"),
    ("bench", "Benchmark"),
    ("signatures", "Mutational signatures"),
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
    "km_summary": ("validation", "Kaplan–Meier summary"),
    "logrank": ("validation", "Log-rank tests"),
    "km_curves": ("validation", "Kaplan–Meier curves"),
    "risk_scores": ("validation", "Risk scores"),
    "comparison": ("comparison", "Method comparison"),
    # a signature extraction (desurv signatures, SignatureResult.save): recognised only in a
    # folder holding signature_run.json (see _classify)
    "signature_run.json": ("signatures", "Signature extraction"),
    "signatures": ("signatures", "Signature profiles"),
    "cosmic_matches": ("signatures", "COSMIC matches"),
    "stability": ("signatures", "Signature stability"),
    "exposures": ("signatures", "Exposures"),
    "reconstruction": ("signatures", "Reconstruction per sample"),
    "rank_table": ("signatures", "Rank selection"),
    "rank_errors": ("signatures", "Bootstrap errors of the rank selection"),
    "restarts": ("signatures", "Restarts"),
}
_SIGNATURE_RUN = "signature_run.json"
_SIGNATURE_FILES = (
    "signatures",
    "cosmic_matches",
    "stability",
    "exposures",
    "reconstruction",
    "rank_table",
    "rank_errors",
    "restarts",
)
# Display order of known files within a section.
_ORDER = {name: i for i, name in enumerate(KNOWN)}

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
h3 { margin-bottom: .3em; } h3 code { font-size: .8em; color: #666; font-weight: normal; }
div.tblwrap { overflow-x: auto; max-width: 100%; margin: .5em 0 1em; }
table.tbl { border-collapse: collapse; font-size: .85em; margin: 0; }
table.tbl th, table.tbl td { border: 1px solid #ccc; padding: .2em .5em; text-align: right; }
table.tbl th { background: #f0f0f0; } table.tbl tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; }
.note { font-size: .85em; color: #666; font-style: italic; }
.error { color: #a00; }
div.warnbox { border: 2px solid #c77700; background: #fff4e0; padding: .5em 1em; margin: 1em 0;
              border-radius: 4px; } div.warnbox strong { color: #8a4b00; }
div.warnbox ul { margin: .3em 0; padding-left: 1.3em; }
table.tbl.meta td:first-child { white-space: nowrap; }
table.tbl.meta td:last-child { overflow-wrap: anywhere; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
nav ul { columns: 2; } table.tbl.meta td, table.tbl.meta th { text-align: left; }
"""


@dataclass
class _Entry:
    path: Path
    rel: str  # path relative to run_dir, with "/" separators
    key: str  # KNOWN key, "<KNOWN key>:settings" (a JSON sidecar), "png" or "other"
    root: Path | None = None  # the run folder


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
    # A wide table scrolls inside its own box instead of widening the page.
    parts.append(
        '<div class="tblwrap" style="overflow-x:auto">'
        + shown.to_html(
            index=index, escape=True, border=0, classes="tbl", float_format=_fmt, na_rep=""
        )
        + "</div>"
    )
    return "\n".join(parts)


def _flatten(obj, prefix=""):
    """Nested JSON -> list of (dotted key, value); lists of scalars stay one value."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        if (
            isinstance(obj, list)
            and len(obj) <= MAX_LIST_ITEMS
            and any(isinstance(v, dict | list) for v in obj)
        ):
            obj = json.dumps(obj)
        out.append((prefix or "value", obj))
    return out


MAX_VALUE_CHARS = 300
MAX_LIST_ITEMS = 12  # longer lists (fold ids per sample, ...) are summarised, not dumped


def _list_summary(v) -> str:
    """A long list of scalars in one line: its length and its values' distribution."""
    try:
        counts = pd.Series(v).value_counts(sort=False).sort_index()
    except TypeError:
        counts = pd.Series(v).astype(str).value_counts(sort=False).sort_index()
    if len(counts) <= 10:
        dist = ", ".join(f"{k} ×{n}" for k, n in counts.items())
        return f"{len(v)} values: {dist} (list not shown)"
    try:
        arr = np.asarray(v, dtype=float)
        return (
            f"{len(v)} values, {len(counts)} distinct, from {_fmt(np.nanmin(arr))} to "
            f"{_fmt(np.nanmax(arr))} (list not shown)"
        )
    except (TypeError, ValueError):
        return f"{len(v)} values, {len(counts)} distinct (list not shown)"


def _value_text(v) -> str:
    if isinstance(v, list) and len(v) > MAX_LIST_ITEMS:
        if not any(isinstance(x, dict | list) for x in v):
            return _list_summary(v)
        return f"list of {len(v)} items (not shown)"
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
    from desurv.reporting import plots as plotting

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
    table, notes = _drop_constant(df, keep=("mean_cindex", "se_cindex", "selected"))
    if "mean_cindex" in df.columns:
        table = table.sort_values("mean_cindex", ascending=False, kind="stable")
        notes.insert(0, "configurations sorted by decreasing mean C-index")
    parts.append(_table(table, max_rows=min(max_rows, 25), note="; ".join(notes) or None))
    return "\n".join(parts)


def _drop_constant(df, keep=()):
    """Columns with one value in every row move to a note, so that wide tables fit the page."""
    if len(df) < 2:
        return df, []
    const = [c for c in df.columns if c not in keep and df[c].nunique(dropna=False) == 1]
    if not const:
        return df, []
    vals = []
    for c in const:
        v = df[c].iloc[0]
        vals.append(f"{c} = {_fmt(v) if isinstance(v, float | np.floating) else v}")
    return df.drop(columns=const), ["the same in every row: " + ", ".join(vals)]


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
    from desurv.reporting import plots as plotting

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
    from desurv.reporting import plots as plotting

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
    from desurv.reporting import plots as plotting

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
_GREEK_ETA = {"eta": "η", "eta_std": "standardised η", "linear_predictor": "η"}


def _siblings(entry):
    """Lower-case stem -> path of the files beside ``entry`` (CSV/TSV/JSON)."""
    out = {}
    for p in sorted(entry.path.parent.iterdir()):
        if p.is_file() and p.suffix.lower() in (".csv", ".tsv", ".json"):
            out.setdefault(p.stem.lower(), p)
    return out


def _read_path(path):
    try:
        if path.suffix.lower() == ".json":
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None


def _metadata_for(entry):
    """metadata.json beside the file, else in the run folder (a dict, possibly empty)."""
    for folder in (entry.path.parent, entry.root):
        if folder is not None and (folder / "metadata.json").is_file():
            meta = _read_path(folder / "metadata.json")
            if isinstance(meta, dict):
                return meta
    return {}


def _cuts(value):
    """Cut points from a ``cutpoints`` cell (a number or "; "-joined text) or a list."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return []
    if isinstance(value, list | tuple):
        return [float(v) for v in value]
    try:
        return [float(v) for v in str(value).split(";") if v.strip()]
    except ValueError:
        return []


def _cut_text(cuts):
    return ", ".join(f"{c:.4g}" for c in cuts)


def _group_ranges(names, cuts, var):
    """Legend names "low risk: η ≤ c" ... when there is one cut point fewer than groups."""
    if len(cuts) != len(names) - 1:
        return {n: n for n in names}
    out = {}
    for j, n in enumerate(names):
        lo = f"{cuts[j - 1]:.4g} < " if j > 0 else ""
        hi = f" ≤ {cuts[j]:.4g}" if j < len(cuts) else ""
        rng = f"{var} > {cuts[j - 1]:.4g}" if j == len(cuts) else f"{lo}{var}{hi}"
        out[n] = f"{n}: {rng}"
    return out


def _describe_split(risk_groups, row, var):
    """Words for how the risk groups of one cohort were formed, with the cut points."""
    cuts = _cuts(row.get("cutpoints")) if row is not None else []
    method = risk_groups.get("method") if isinstance(risk_groups, dict) else None
    if not cuts and method is not None and "cutpoint" in risk_groups:
        cuts = _cuts([risk_groups["cutpoint"]])
    cut = f" (cut{'s' if len(cuts) > 1 else ''} = {_cut_text(cuts)})" if cuts else ""
    grouping = str(row.get("grouping", "")) if row is not None else ""
    if method == "median":
        return f"risk groups at the training median of {var}{cut}", cuts
    if method == "maxstat":
        return (
            f"risk groups at the training maximally selected log-rank cut point of {var}{cut}",
            cuts,
        )
    q = risk_groups.get("quantiles") if isinstance(risk_groups, dict) else None
    if q is None and grouping.startswith("quantiles "):
        q = grouping.removeprefix("quantiles ").removesuffix(" of the cohort")
    if q is not None:
        qs = _cuts(q) if not isinstance(q, str) else _cuts(q.replace(",", ";"))
        if qs == [0.5]:
            return f"risk groups at the median of this cohort's {var}{cut}", cuts
        return f"risk groups at quantiles {_cut_text(qs)} of this cohort's {var}{cut}", cuts
    if grouping == "fixed cut points" or cuts:
        return f"risk groups at fixed cut point(s) of {var}{cut}", cuts
    return "risk groups of logrank.csv", cuts


def _samples_from_curves(curves):
    """(time, event, group) of every sample, rebuilt from a Kaplan–Meier table.

    Each row holds the events and censorings at one time of one group, so the samples are
    recovered exactly and the curves and log-rank test drawn from them are the tables' own.
    """
    rows = curves.loc[(curves["n_events"] > 0) | (curves["n_censored"] > 0)]
    reps_e = rows["n_events"].to_numpy(int)
    reps_c = rows["n_censored"].to_numpy(int)
    time = np.r_[np.repeat(rows["time"].to_numpy(float), reps_e),
                 np.repeat(rows["time"].to_numpy(float), reps_c)]  # fmt: skip
    event = np.r_[np.ones(reps_e.sum(), int), np.zeros(reps_c.sum(), int)]
    order = list(pd.unique(curves["group"]))
    group = pd.Categorical(
        np.r_[
            np.repeat(rows["group"].to_numpy(object), reps_e),
            np.repeat(rows["group"].to_numpy(object), reps_c),
        ],  # fmt: skip
        categories=order,
        ordered=True,
    )
    return time, event, group


def _lookup(table, cohort):
    """The row of ``table`` for ``cohort`` (the only row when it has no cohort column)."""
    if table is None or not isinstance(table, pd.DataFrame) or len(table) == 0:
        return None
    if "cohort" in table.columns and cohort is not None:
        sub = table[table["cohort"].astype(str) == str(cohort)]
        return None if sub.empty else sub.iloc[0].to_dict()
    return table.iloc[0].to_dict() if len(table) == 1 or cohort is None else None


def _r_km_curves(entry, df, figs, max_rows):
    """Kaplan–Meier figure per cohort from the curves of the log-rank table's groups."""
    from desurv.reporting import plots as plotting

    need = {"group", "time", "n_events", "n_censored"}
    if not need <= set(df.columns):
        return _table(df, max_rows=max_rows)
    sib = _siblings(entry)
    lr = _read_path(sib["logrank"]) if "logrank" in sib else None
    km_sum = _read_path(sib["km_summary"]) if "km_summary" in sib else None
    meta = _metadata_for(entry)
    cohorts = list(pd.unique(df["cohort"])) if "cohort" in df.columns else [None]
    parts = []
    if len(cohorts) > MAX_KM_COHORTS:
        parts.append(_note(f"Kaplan–Meier curves of the first {MAX_KM_COHORTS} cohorts only"))
    for cohort in cohorts[:MAX_KM_COHORTS]:
        sub = df if cohort is None else df[df["cohort"] == cohort]
        time, event, group = _samples_from_curves(sub)
        row = _lookup(lr, cohort)
        var = _GREEK_ETA.get(str((row or {}).get("variable", "eta")), "η")
        desc, cuts = _describe_split(meta.get("risk_groups"), row, var)
        names = [str(g) for g in group.categories]
        labels = _group_ranges(names, cuts, var)
        p = (row or {}).get("p")
        p_ok = p is not None and np.isfinite(float(p))
        # the p-value exactly as the log-rank table above shows it
        p_text = _fmt(float(p)) if p_ok else None
        checks = []
        if km_sum is not None and {"group", "n"} <= set(km_sum.columns):
            ks = (
                km_sum
                if cohort is None or "cohort" not in km_sum.columns
                else km_sum[km_sum["cohort"].astype(str) == str(cohort)]
            )
            n_tab = dict(zip(ks["group"].astype(str), ks["n"].astype(int), strict=False))
            n_fig = pd.Series(group).astype(str).value_counts().to_dict()
            if n_tab != n_fig:
                checks.append(f"group sizes {n_fig} differ from km_summary ({n_tab})")
        where = entry.rel if cohort is None else f"{entry.rel}, cohort {cohort}"
        head = f"{cohort}: {desc}" if cohort is not None else desc
        n_text = ", ".join(
            f"{g}: n = {int((group == g).sum())}" for g in names if (group == g).any()
        )
        caption = (
            f"Kaplan–Meier curves, {head} ({n_text}; log-rank p = {p_text}, the same groups "
            f"and p-value as the log-rank table above) ({where})"
            if p_ok
            else f"Kaplan–Meier curves, {head} ({n_text}) ({where})"
        )
        png = figs.pngs.get((entry.path.parent, f"km_{str(cohort).lower()}"))
        if png is not None:  # the run's own figure of the same curves: not repeated
            figs.used.add(png.path)
            caption += f"; redrawn from the same curves as {png.rel}, with the cut point"
        parts.append(
            figs.render(
                lambda ax, t=time, e=event, g=group, lab=labels, h=head, pt=p_text: (
                    plotting.plot_kaplan_meier(
                        t, e, g, labels=lab, ax=ax, title=h, time_unit=None,
                        logrank_p=pt if pt is not None else False,
                    )
                ),
                caption,
                figsize=(7.5, 5.5),
            )
        )  # fmt: skip
        parts += [f'<p class="note error">{_esc(c)}</p>' for c in checks]
    parts.append(
        _note(f"{len(df)} rows of Kaplan–Meier estimates (the curves drawn above; table not shown)")
    )
    return "\n".join(parts)


def _r_risk_scores(entry, df, figs, max_rows):
    from desurv.reporting import plots as plotting

    parts = []
    lp_col = next((c for c in ("linear_predictor", "eta") if c in df.columns), None)
    sib = _siblings(entry)
    training = _beside_fit(entry.path)
    if "km_curves" in sib or ("logrank" in sib and "group" not in df.columns):
        # Validation output: the figure of the groups the log-rank tests used is drawn from
        # km_curves; a split of these scores drawn here could contradict it.
        parts.append(
            _note(
                "Kaplan–Meier curves of these samples: see the figure under Kaplan–Meier "
                "curves, drawn with the risk groups of the log-rank table"
                if "km_curves" in sib
                else "no Kaplan–Meier figure: the risk groups of logrank.csv are not in this "
                "table (no 'group' column)"
            )
        )
    elif {"time", "event"} <= set(df.columns) and ("group" in df.columns or lp_col):
        cohorts = list(pd.unique(df["cohort"])) if "cohort" in df.columns else [None]
        if len(cohorts) > MAX_KM_COHORTS:
            parts.append(_note(f"Kaplan–Meier curves of the first {MAX_KM_COHORTS} cohorts only"))
        # Training scores are split at the median of all training samples: the cut point
        # that 'desurv validate --cutpoint median' applies to new cohorts.
        train_cut = float(np.median(df[lp_col].to_numpy(float))) if training and lp_col else None
        for cohort in cohorts[:MAX_KM_COHORTS]:
            sub = df if cohort is None else df[df["cohort"] == cohort]
            where = entry.rel if cohort is None else f"{entry.rel}, cohort {cohort}"
            labels = None
            if "group" in sub.columns:
                groups, how = sub["group"], "by the column 'group'"
            else:
                lp = sub[lp_col].to_numpy(float)
                cut = train_cut if train_cut is not None else float(np.median(lp))
                groups = pd.Series(
                    pd.Categorical(
                        np.where(lp > cut, "high risk", "low risk"),
                        categories=["low risk", "high risk"],
                        ordered=True,
                    )
                )
                labels = _group_ranges(["low risk", "high risk"], [cut], "η")
                how = (
                    f"split at the training median of η (cut = {cut:.4g})"
                    if training
                    else f"split at the median {lp_col} of these samples ({cut:.4g})"
                )
            if training:
                name = "training cohort" + (f" {cohort}" if cohort is not None else "")
                title = f"{name} (in-sample, optimistic)"
                caption = (
                    f"{title[0].upper() + title[1:]}: Kaplan–Meier curves of the training risk "
                    f"groups, {how}; the model was fitted on these samples, so the separation "
                    f"overstates what new samples would show ({where})"
                )
            else:
                title = where
                caption = f"Kaplan–Meier curves {how} ({where})"
            parts.append(
                figs.render(
                    lambda ax, sub=sub, groups=groups, title=title, labels=labels: (
                        plotting.plot_kaplan_meier(
                            sub["time"], sub["event"], groups, labels=labels, ax=ax,
                            title=title, time_unit=None,
                        )
                    ),
                    caption,
                    figsize=(7.5, 5.5),
                )
            )  # fmt: skip
    parts.append(_table(df, max_rows=min(max_rows, 10), note=f"{len(df)} samples"))
    return "\n".join(parts)


def _r_table(entry, df, figs, max_rows):
    return _table(df, max_rows=max_rows)


# --------------------------------------------------------------------------------------------
# Signature extraction folders (desurv signatures, SignatureResult.save)
# --------------------------------------------------------------------------------------------
def _indexed(df):
    """A table written with its index (first column) back as the index."""
    out = df.set_index(df.columns[0])
    out.index = out.index.astype(str)
    return out


def _sibling_table(entry, stem):
    path = entry.path.parent / f"{stem}.tsv"
    data = _read_path(path) if path.is_file() else None
    return data if isinstance(data, pd.DataFrame) else None


def _r_signature_run(entry, data, figs, max_rows):
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    facts = {
        "method": data.get("method"),
        "estimator": params.get("estimator"),
        "signatures k": data.get("n_components"),
        "k chosen by": params.get("rank_rule") or "given (n_components)",
        "ranks tried": params.get("ks"),
        "restarts": params.get("n_restarts"),
        "restarts converged (selected k)": summary.get("n_converged"),
        "consensus": params.get("consensus"),
        "mean stability (silhouette)": summary.get("mean_stability"),
        "minimum signature stability": summary.get("min_stability"),
        "consistency (mean ACS between restarts)": summary.get("consistency_acs"),
        "COSMIC ACS (mean matched cosine)": summary.get("cosmic_acs"),
        "relative error ‖X − E Sᵀ‖/‖X‖": summary.get("relative_error"),
        "mean cosine of samples to their reconstruction": summary.get("mean_sample_cosine"),
        "samples × channels": f"{params.get('n_samples')} × {params.get('n_channels')}",
    }
    facts = {k: (_fmt(v) if isinstance(v, float) else v) for k, v in facts.items() if v is not None}
    parts = [_kv_table(facts)]
    parts.append("<details><summary>all settings</summary>")
    parts.append(_kv_table(params, max_rows=max_rows))
    parts.append("</details>")
    return "\n".join(parts)


def _r_signatures(entry, df, figs, max_rows):
    from desurv.reporting import signature_plots

    sig = _indexed(df)
    matches = _sibling_table(entry, "cosmic_matches")
    k = sig.shape[1]

    def draw(ax):
        fig = ax.figure
        fig.delaxes(ax)
        axes = fig.subplots(k, 1, sharex=True, squeeze=False)[:, 0]
        signature_plots.plot_signature_profile(sig, matches, axes=axes)

    caption = f"SBS96 profiles of the {k} signatures ({entry.rel})" + (
        "; the title gives the matched COSMIC signature and its cosine"
        if matches is not None
        else ""
    )
    return "\n".join(
        [
            figs.render(draw, caption, figsize=(11, 1.9 * k + 0.6), entry=entry,
                        stems=("signature_profiles",)),
            _note(f"{sig.shape[0]} channels × {k} signatures, each column summing to 1 (the "
                  f"table itself is in {entry.rel})"),
        ]
    )  # fmt: skip


def _r_cosmic_matches(entry, df, figs, max_rows):
    note = None
    if "cosine" in df.columns and len(df):
        note = (
            f"each signature matched to a distinct COSMIC signature (Hungarian method on "
            f"1 − cosine); ACS (mean matched cosine) = {_fmt(float(df['cosine'].mean()))}"
        )
    return _table(df, max_rows=max_rows, note=note)


def _r_exposures(entry, df, figs, max_rows):
    from desurv.reporting import signature_plots

    E = _indexed(df)
    n = E.shape[0]
    fig = figs.render(
        lambda ax: signature_plots.plot_exposures(E, ax=ax),
        f"Mutations attributed to each signature per sample (NNLS refit; {entry.rel})",
        figsize=(min(max(6.0, 0.22 * n + 2.5), 16.0), 4.2),
        entry=entry,
        stems=("exposures",),
    )
    totals = E.sum(axis=0)
    share = pd.DataFrame(
        {
            "signature": totals.index,
            "mutations": totals.to_numpy(),
            "share": totals.to_numpy() / max(float(totals.sum()), 1e-300),
            "samples with > 5 %": (E.div(E.sum(axis=1).where(lambda x: x > 0, 1), axis=0) > 0.05)
            .sum(axis=0)
            .to_numpy(),
        }
    )
    return "\n".join(
        [fig, _table(share, note=f"{n} samples"), _table(df, max_rows=min(max_rows, 20))]
    )


def _r_reconstruction(entry, df, figs, max_rows):
    parts = []
    if "cosine" in df.columns and len(df):
        cos = pd.to_numeric(df["cosine"], errors="coerce")
        parts.append(
            _note(
                f"cosine similarity of each sample to its reconstruction: median "
                f"{_fmt(float(cos.median()))}, minimum {_fmt(float(cos.min()))}; "
                f"{int((cos < 0.9).sum())} of {len(df)} samples below 0.9 (worst first)"
            )
        )
        df = df.sort_values("cosine", kind="stable")
    parts.append(_table(df, max_rows=min(max_rows, 20)))
    return "\n".join(parts)


def _r_rank_table(entry, df, figs, max_rows):
    from desurv.reporting import rank_plots

    parts = []
    if {"k", "stability", "reconstruction_error"} <= set(df.columns):
        parts.append(
            figs.render(
                lambda ax: rank_plots.plot_stability_vs_error(df, ax=ax),
                f"Stability and reconstruction error per k ({entry.rel})",
                figsize=(7.0, 4.2),
                entry=entry,
                stems=("rank_selection",),
            )
        )
    else:
        png = figs.pngs.get((entry.path.parent, "rank_selection"))
        if png is not None and png.path not in figs.used:
            figs.used.add(png.path)
            parts.append(_png_entry(png, f"Rank selection ({png.rel})"))
    sel = df.loc[df["selected"].astype(str).str.lower() == "true", "k"] if "selected" in df else []
    note = f"selected k = {sel.iloc[0]}" if len(sel) else None
    parts.append(_table(df, max_rows=max_rows, note=note))
    return "\n".join(parts)


def _r_rank_errors(entry, df, figs, max_rows):
    return _note(
        f"{len(df)} rows, one per rank k and bootstrap replicate (test errors of the NNLS "
        f"refit on out-of-bag samples); summarised in the rank selection table and figure"
    )


def _r_restarts(entry, df, figs, max_rows):
    if "k" not in df.columns:
        return _table(df, max_rows=max_rows)
    g = df.groupby("k", sort=True)
    agg = pd.DataFrame({"restarts": g.size()})
    if "converged" in df.columns:
        conv = df["converged"].astype(str).str.lower().isin(("true", "1", "1.0"))
        agg["converged"] = conv.groupby(df["k"]).sum()
    for col in ("relative_error", "cosine_to_consensus"):
        if col in df.columns:
            agg[f"min {col}"] = g[col].min()
            agg[f"mean {col}"] = g[col].mean()
    return _table(agg.reset_index(), max_rows=max_rows, note=f"{len(df)} restart fits, per k")


def _signature_problems(entries) -> list[str]:
    """Restart fits of a signature extraction that stopped at max_iter (selected k)."""
    out = []
    for e in entries:
        if e.key != "restarts":
            continue
        df = _read_path(e.path)
        meta = _read_path(e.path.parent / _SIGNATURE_RUN)
        if not isinstance(df, pd.DataFrame) or not {"k", "converged"} <= set(df.columns):
            continue
        k = meta.get("n_components") if isinstance(meta, dict) else None
        sub = df[df["k"] == k] if k is not None else df
        bad = int((~sub["converged"].astype(str).str.lower().isin(("true", "1", "1.0"))).sum())
        if bad:
            out.append(
                f"{bad} of {len(sub)} restart fits of the signature extraction ({e.rel}"
                + (f", k = {k}" if k is not None else "")
                + ") stopped at max_iter before reaching tol; rerun with a larger --max-iter."
            )
    return out


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
    "km_curves": _r_km_curves,
    "top_genes": lambda e, d, f, m: _table(d, max_rows=max(m, 100)),
    "signature_run.json": _r_signature_run,
    "signatures": _r_signatures,
    "cosmic_matches": _r_cosmic_matches,
    "exposures": _r_exposures,
    "reconstruction": _r_reconstruction,
    "rank_table": _r_rank_table,
    "rank_errors": _r_rank_errors,
    "restarts": _r_restarts,
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
        if name == _SIGNATURE_RUN:
            return name
        return name if name in ("metadata", "selected", "summary.json") else "other"
    if stem in _SIGNATURE_FILES:  # generic names: only beside a signature result
        return stem if (path.parent / _SIGNATURE_RUN).is_file() else "other"
    return stem if stem in KNOWN and stem not in ("metadata", "selected") else "other"


_FIT_FILES = ("loss_history", "gene_programs", "model")


def _beside_fit(path: Path) -> bool:
    """True when ``path`` sits beside a fitted model's files (its scores are training ones)."""
    stems = {p.stem.lower() for p in path.parent.iterdir() if p.is_file()}
    return bool(stems.intersection(_FIT_FILES))


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


def _convergence_problems(entries) -> list[str]:
    """Sentences on fits that did not converge (summary.json, model.npz, cv_results/summary)."""
    out = []
    for e in entries:
        base = e.key.split(":")[0]
        if e.key == "summary.json":
            data = _read_path(e.path)
            if isinstance(data, dict) and data.get("converged") is False:
                params = data.get("params", {}) if isinstance(data.get("params"), dict) else {}
                it, mx, tol = data.get("n_iter"), params.get("max_iter"), params.get("tol")
                detail = ", ".join(
                    f"{k} = {v}" for k, v in (("n_iter", it), ("max_iter", mx), ("tol", tol))
                    if v is not None
                )  # fmt: skip
                out.append(
                    f"The fit did not converge ({e.rel} says converged: false"
                    + (f"; {detail}" if detail else "")
                    + "): it stopped at the iteration cap before the relative change of the "
                    "objective fell below tol. Its coefficients, risk scores and figures may "
                    "change with more iterations; refit with a larger --max-iter."
                )
        elif e.key == "cv_results":
            df = _read_path(e.path)
            if not isinstance(df, pd.DataFrame) or "converged" not in df.columns:
                continue
            conv = df["converged"].astype(str).str.lower().isin(("true", "1", "1.0"))
            bad = int((~conv).sum())
            if bad:
                text = (
                    f"{bad} of {len(df)} cross-validation fits did not converge (column "
                    f"'converged' of {e.rel}): they stopped at max_iter before reaching tol"
                )
                sel = _read_path(e.path.parent / "selected.json")
                best = sel.get("best_params") if isinstance(sel, dict) else None
                if isinstance(best, dict) and set(best) <= set(df.columns):
                    m = np.ones(len(df), bool)
                    for k, v in best.items():
                        m &= np.isclose(df[k].to_numpy(float), float(v))
                    if m.any():
                        cfg = ", ".join(f"{k} = {v}" for k, v in best.items())
                        text += (
                            f"; of the selected configuration ({cfg}): "
                            f"{int((~conv[m]).sum())} of {int(m.sum())}"
                        )
                text += (
                    ". The C-index comparison between configurations may reflect the "
                    "iteration cap; rerun with a larger --max-iter."
                )
                out.append(text)
        elif e.path.name.lower() == "model.npz" and not (e.path.parent / "summary.json").exists():
            meta = _npz_meta(e.path)
            if meta.get("converged") is False:
                mx = (meta.get("params") or {}).get("max_iter")
                out.append(
                    f"The fitted model {e.rel} did not converge (n_iter = {meta.get('n_iter')}"
                    + (f", max_iter = {mx}" if mx is not None else "")
                    + "): its risk scores and gene programs may change with more iterations."
                )
        elif base == "cv_summary" and e.key == base:
            if any(x.key == "cv_results" and x.path.parent == e.path.parent for x in entries):
                continue  # counted from the individual fits
            df = _read_path(e.path)
            if isinstance(df, pd.DataFrame) and "converged_fraction" in df.columns:
                frac = pd.to_numeric(df["converged_fraction"], errors="coerce")
                bad = int((frac < 1).sum())
                if bad:
                    out.append(
                        f"{bad} of {len(df)} configurations in {e.rel} have fits that did not "
                        "converge (converged_fraction < 1)."
                    )
    return out


def _validated_model_problems(run_dir) -> list[str]:
    """A validation run (metadata.json names the model file): did that model converge?"""
    meta = _read_path(run_dir / "metadata.json") if (run_dir / "metadata.json").is_file() else None
    model = meta.get("model") if isinstance(meta, dict) else None
    if not isinstance(model, str) or not model.endswith(".npz") or not Path(model).is_file():
        return []
    info = _npz_meta(Path(model))
    if info.get("converged") is not False:
        return []
    mx = (info.get("params") or {}).get("max_iter")
    return [
        f"The validated model {model} did not converge (n_iter = {info.get('n_iter')}"
        + (f", max_iter = {mx}" if mx is not None else "")
        + "): refit it with a larger --max-iter before relying on these results."
    ]


def _npz_meta(path) -> dict:
    """The JSON ``meta`` record of a saved model (``desurv.deconvolution.model_file``), or {}."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _warning_box(problems) -> str:
    if not problems:
        return ""
    items = "".join(f"<li>{_esc(p)}</li>" for p in problems)
    return (
        '<div class="warnbox" role="alert"><strong>Warning: not converged.</strong>'
        f"<ul>{items}</ul></div>"
    )


# --------------------------------------------------------------------------------------------
# Benchmark folders (desurv bench)
# --------------------------------------------------------------------------------------------
_BENCH_RESULTS_COLS = {"method", "dataset", "metric", "subset", "value", "error"}
_BENCH_SUMMARY_COLS = {"method", "dataset", "metric", "subset", "median", "q25", "q75"}
# File name (lower case) in a benchmark folder -> entry key.
_BENCH_FILES = {
    "results.csv": "bench_results",
    "summary.csv": "bench_summary",
    MANIFEST: "bench_manifest",
}


def _csv_columns(path: Path) -> set:
    try:
        return set(pd.read_csv(path, nrows=0).columns)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return set()


def _manifest_command(folder: Path):
    """The command line a run manifest records (text), or None."""
    data = _read_path(folder / MANIFEST) if (folder / MANIFEST).is_file() else None
    cmd = data.get("command") if isinstance(data, dict) else None
    if isinstance(cmd, list):
        cmd = shlex.join(map(str, cmd))
    return cmd if isinstance(cmd, str) and cmd.strip() else None


def _subcommand(cmd: str):
    """``bench`` of "desurv bench ...", "python -m desurv bench ..." or "bench ..."."""
    try:
        tokens = shlex.split(cmd)
    except ValueError:
        tokens = cmd.split()
    for tok in tokens:
        name = Path(tok).name.lower()
        if tok == "-m" or name.startswith(("desurv", "python")):
            continue
        return tok
    return None


def _is_bench_folder(folder: Path, names: set) -> bool:
    """The manifest records a ``bench`` command, or results.csv + summary.csv have the
    benchmark columns (the tidy results and their median/IQR summary)."""
    if not names.intersection(("results.csv", "summary.csv")):
        return False
    cmd = _manifest_command(folder) if MANIFEST in names else None
    if cmd is not None and _subcommand(cmd) == "bench":
        return True
    return (
        {"results.csv", "summary.csv"} <= names
        and _BENCH_RESULTS_COLS <= _csv_columns(folder / "results.csv")
        and _BENCH_SUMMARY_COLS <= _csv_columns(folder / "summary.csv")
    )


def _bench_folders(run_dir: Path, all_files) -> list[Path]:
    """Folders (run_dir and its immediate subfolders) that hold a benchmark result."""
    names = {}
    for p in all_files:
        names.setdefault(p.parent, set()).add(p.name.lower())
    return [
        f
        for f in sorted(names, key=lambda f: (f != run_dir, str(f)))
        if _is_bench_folder(f, names[f])
    ]


def _bench_key(path: Path, bench_dirs) -> str | None:
    return _BENCH_FILES.get(path.name.lower()) if path.parent in bench_dirs else None


def _bench_label(metric, subset) -> str:
    """Column label: the metric, with " (test)" (or another subset) unless it is train."""
    s = "" if subset is None or subset != subset else str(subset)
    return str(metric) if s in ("", "train") else f"{metric} ({s})"


def _bench_summary_from(results):
    """summary.csv computed from results.csv (same as ``desurv.benchmark.summarize``)."""
    ok = results[pd.to_numeric(results["value"], errors="coerce").notna()].copy()
    ok["value"] = ok["value"].astype(float)
    g = ok.groupby(["method", "dataset", "metric", "subset"], sort=False, dropna=False)["value"]
    return pd.DataFrame(
        {"median": g.median(), "q25": g.quantile(0.25), "q75": g.quantile(0.75), "n": g.count()}
    ).reset_index()


def _bench_tables(summary, results, max_rows) -> list[str]:
    """One table per data set: median (q25–q75) per method (rows) × metric (columns)."""
    across_seeds = set()  # metrics comparing the seeds (their rows have no seed)
    if isinstance(results, pd.DataFrame) and "seed" in results.columns:
        no_seed = results["seed"].isna().groupby(results["metric"]).all()
        across_seeds = set(no_seed[no_seed].index)
    summary = summary.copy()
    summary["subset"] = summary["subset"].where(summary["subset"].notna(), "")
    metrics = list(dict.fromkeys(summary["metric"]))
    order = {"train": 0, "": 0, "test": 1}
    cols = []  # (metric, subset) in order of the metrics, train before test
    for m in metrics:
        subsets = list(dict.fromkeys(summary.loc[summary["metric"] == m, "subset"]))
        cols += [(m, s) for s in sorted(subsets, key=lambda s: order.get(s, 2))]
    parts = []
    for dname in dict.fromkeys(summary["dataset"]):
        d = summary[summary["dataset"] == dname]
        methods = list(dict.fromkeys(d["method"]))
        table = {"method": methods}
        for m, s in cols:
            sel = d[(d["metric"] == m) & (d["subset"] == s)]
            if sel.empty:
                continue
            cells = {}
            for _, r in sel.iterrows():
                med, lo, hi = (
                    pd.to_numeric(r.get(k), errors="coerce") for k in ("median", "q25", "q75")
                )
                text = "" if pd.isna(med) else _fmt(float(med))
                if text and not (pd.isna(lo) or pd.isna(hi)):
                    text += f" ({_fmt(float(lo))}–{_fmt(float(hi))})"
                cells[r["method"]] = text
            table[_bench_label(m, s)] = [cells.get(meth, "") for meth in methods]
        notes = ["median (q25–q75) over the values of every split and seed"]
        if (d["subset"] == "test").any():
            notes.append(
                "a column 'metric (test)' is measured on the held-out samples of each split, "
                "the others on the samples the method was fitted on"
            )
        across = [m for m in dict.fromkeys(d["metric"]) if m in across_seeds]
        if across:
            notes.append(f"{', '.join(across)}: one value per split (computed across the seeds)")
        notes.append("an empty cell has no value")
        if "n" in d.columns:
            n = pd.to_numeric(d["n"], errors="coerce").dropna().astype(int)
            if len(n):
                lo, hi = n.min(), n.max()
                notes.append(
                    f"n = {lo} values per cell" if lo == hi else f"n = {lo} to {hi} values per cell"
                )
        parts.append(
            f"<h3>Data set <code>{_esc(dname)}</code>: median (q25–q75) per method and metric</h3>"
        )
        parts.append(_table(pd.DataFrame(table), max_rows=max_rows, note="; ".join(notes)))
    return parts


def _bench_failures(results, rel, max_rows) -> list[str]:
    """Failed fits (metric "fit" with an error) and metrics that could not be computed."""
    err = results["error"].notna() & (results["error"].astype(str).str.strip() != "")
    fit = results["metric"].astype(str) == "fit"
    failed = results.loc[err & fit]
    parts = ["<h3>Failed cells</h3>"]
    if failed.empty:
        parts.append(_note(f"no failed fit: no row of {rel} has metric 'fit' with an error"))
    else:
        cols = [c for c in ("method", "dataset", "split", "seed", "error") if c in failed.columns]
        parts.append(
            _table(
                failed[cols],
                max_rows=max_rows,
                note=f"{len(failed)} fit(s) failed (rows of {rel} with metric 'fit' and an "
                "error); they have no value in the tables above",
            )
        )
    missing = results.loc[err & ~fit]
    if not missing.empty:
        counts = (
            missing.assign(subset=missing["subset"].fillna(""))
            .groupby(["method", "dataset", "metric", "subset", "error"], sort=False)
            .size()
            .rename("cells")
            .reset_index()
        )
        parts.append("<h3>Metrics not computed</h3>")
        parts.append(
            _table(counts, max_rows=max_rows, note=f"rows of {rel} with an error and no value")
        )
    return parts


def _bench_settings(folder, rel_of, results) -> list[str]:
    parts = []
    manifest = _read_path(folder / MANIFEST) if (folder / MANIFEST).is_file() else None
    title = "Run settings"
    if isinstance(manifest, dict):
        title += f" <code>{_esc(rel_of(folder / MANIFEST))}</code>"
    parts.append(f"<h3>{title}</h3>")
    cmd = _manifest_command(folder)
    if cmd is not None:
        parts.append(f"<p>Command line:</p><pre>{_esc(cmd)}</pre>")
    facts = {}
    if isinstance(manifest, dict):
        for k in ("desurv_version", "created"):
            if manifest.get(k) is not None:
                facts[k.replace("_", " ")] = manifest[k]
    if isinstance(results, pd.DataFrame):
        for col, label in (("method", "methods"), ("dataset", "data sets"), ("metric", "metrics")):
            if col in results.columns:
                vals = [v for v in dict.fromkeys(results[col].dropna().astype(str)) if v != "fit"]
                facts[label] = ", ".join(vals)
        for col, label in (("split", "splits"), ("seed", "seeds")):
            if col in results.columns:
                facts[label] = int(results[col].dropna().nunique())
        facts["rows of results.csv"] = len(results)
    if facts:
        parts.append(_kv_table(facts))
    if isinstance(results, pd.DataFrame) and {"method", "params"} <= set(results.columns):
        keys = [c for c in ("method", "dataset", "params_hash", "params") if c in results.columns]
        params = results[keys].dropna(subset=["params"]).drop_duplicates()
        if (
            "dataset" in params.columns
            and params.drop(columns="dataset").drop_duplicates().shape[0]
            == params["method"].nunique()
        ):
            params = params.drop(columns="dataset").drop_duplicates()
        if len(params):
            parts.append(_table(params, max_rows=100, note="parameters of each method"))
    if not parts[1:]:
        parts.append(_note("no run manifest (desurv_run.json) beside the results"))
    return parts


def _bench_plots(folder, rel_of, summary, figs) -> list[str]:
    """The run's metric_<name>.png and time_vs_<metric>.png, in the order of the metrics."""

    def safe(name):  # the file-name form of desurv.reporting.benchmark
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).lower()

    tested = set()
    metrics = []
    if isinstance(summary, pd.DataFrame) and {"metric", "subset"} <= set(summary.columns):
        metrics = [str(m) for m in dict.fromkeys(summary["metric"])]
        tested = set(summary.loc[summary["subset"] == "test", "metric"].astype(str))
    by_safe = {safe(m): m for m in metrics}
    pngs = sorted(
        (e for (parent, stem), e in figs.pngs.items() if parent == folder),
        key=lambda e: e.path.name,
    )
    metric_pngs = [e for e in pngs if e.path.stem.lower().startswith("metric_")]
    time_pngs = [e for e in pngs if e.path.stem.lower().startswith("time_vs_")]
    rank = {safe(m): i for i, m in enumerate(metrics)}
    metric_pngs.sort(key=lambda e: rank.get(e.path.stem.lower()[7:], len(rank)))
    parts = []
    for e in metric_pngs + time_pngs:
        stem = e.path.stem.lower()
        if stem.startswith("metric_"):
            m = by_safe.get(stem[7:], e.path.stem[7:])
            what = f"{m} (test: held-out samples)" if m in tested else m
            cap = (
                f"{what} per method: box plot with the individual values of every split and "
                f"seed, one panel per data set ({rel_of(e.path)})"
            )
        else:
            m = by_safe.get(stem[8:], e.path.stem[8:])
            test = " (test)" if m in tested else ""
            cap = (
                f"Median wall time (s, log scale) against median {m}{test}, one point per "
                f"method and data set ({rel_of(e.path)})"
            )
        figs.used.add(e.path)
        parts.append(_png_entry(e, cap))
    if parts:
        parts.insert(0, "<h3>Metric plots</h3>")
    return parts


def _render_bench(folder, run_dir, figs, max_rows) -> str:
    """The "Benchmark" section of one bench folder."""

    def rel_of(p):
        return p.relative_to(run_dir).as_posix()

    parts = []
    if folder != run_dir:
        parts.append(f"<p>Benchmark in <code>{_esc(rel_of(folder))}</code>:</p>")
    results = summary = None
    for name in ("results.csv", "summary.csv"):
        path = folder / name
        if not path.is_file():
            continue
        data = _read_path(path)
        need = _BENCH_RESULTS_COLS if name == "results.csv" else _BENCH_SUMMARY_COLS
        if not isinstance(data, pd.DataFrame) or not need <= set(data.columns):
            warnings.warn(
                f"report: {path} is not a benchmark {name}: expected the columns "
                f"{', '.join(sorted(need))}",
                DataWarning,
                stacklevel=3,
            )
            parts.append(
                f'<p class="note error">{_esc(rel_of(path))} could not be read as a benchmark '
                f"table (columns {_esc(', '.join(sorted(need)))} expected)</p>"
            )
            continue
        if name == "results.csv":
            results = data
        else:
            summary = data
    if summary is None and results is not None:
        summary = _bench_summary_from(results)
        parts.append(_note("summary computed from results.csv (no summary.csv)"))
    if summary is not None:
        parts += _bench_tables(summary, results, max_rows)
    if results is not None:
        parts += _bench_failures(results, rel_of(folder / "results.csv"), max_rows)
        parts.append(
            _note(
                f"{rel_of(folder / 'results.csv')}: {len(results)} rows, one per method, data "
                "set, split, seed, metric and subset (summarised here; see Files)"
            )
        )
    parts += _bench_plots(folder, rel_of, summary, figs)
    parts += _bench_settings(folder, rel_of, results)
    return "\n".join(parts)


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
      ``model`` column), ``km_summary``, ``logrank``, ``km_curves`` (one Kaplan–Meier figure
      per cohort, drawn from these curves, i.e. from exactly the groups the log-rank tests
      compared: the title names the cut point (``risk_groups`` of ``metadata.json``, the
      ``cutpoints`` column of ``logrank``), the legend gives each group's range of η and n,
      the annotation the table's p-value; the run's own ``km_<cohort>.png`` is then not
      repeated), ``risk_scores`` (beside ``km_curves`` no figure of its own; else curves per
      ``cohort`` by its ``group`` column, else split at the median ``linear_predictor`` or
      ``eta``). Risk scores beside a model's files are training scores: placed under "Fitted
      model", split at the median of all training scores and titled "training cohort
      (in-sample, optimistic)".
    * A warning box on top of the page when a fit did not converge: ``summary.json`` with
      ``converged: false``, a ``model.npz`` whose record says so (also the model a validation
      run names in ``metadata.json``), and the count of ``cv_results`` fits with
      ``converged`` false (overall and for the selected configuration).
    * Benchmark (a ``desurv bench`` folder: its ``desurv_run.json`` records a ``bench``
      command, or it holds ``results.csv`` and ``summary.csv`` with the benchmark columns;
      ``run_dir`` or a folder one deep): per data set a table of the median (q25–q75) per
      method (rows) and metric (columns; a held-out value is "metric (test)"), the failed
      fits (``results.csv`` rows with metric ``fit`` and an ``error``) and metrics not
      computed, the run's ``metric_<name>.png`` and ``time_vs_<metric>.png`` with captions,
      and the run settings (command line, methods, data sets, parameters). ``summary.csv``
      there is not a model's coefficients, and ``results.csv`` is summarised, not shown.
    * Mutational signatures (a folder holding ``signature_run.json``: ``desurv signatures``
      or :meth:`desurv.signatures.SignatureResult.save`): the run's summary (method, k and
      how it was chosen, restarts, stability, COSMIC ACS, error), the SBS96 profiles
      (``signature_profiles.png`` or drawn from ``signatures.tsv`` with the COSMIC match in
      each title), ``cosmic_matches``, ``stability``, ``exposures`` (stacked bars and each
      signature's share), ``reconstruction`` (worst samples first), ``rank_table`` (with the
      rank-selection figure), ``restarts`` (aggregated per k; restarts of the chosen k that
      stopped at max_iter go to the warning box) and ``rank_errors`` (summarised).
    * Method comparison: ``comparison``.
    * Figures: every ``*.png``, captioned from its file name. A PNG of a figure the report
      would draw (``cv_heatmap``, ``cv_cindex_vs_alpha``, ``gene_programs``, ``loss_history``,
      ``forest``) found beside its table is embedded there instead of a redrawn copy.
    * Other tables: any other CSV, TSV or JSON file. Then a list of all files.

    Tables may be CSV or TSV; each scrolls inside its own box (``overflow-x:auto``) so the
    page keeps its width, and columns of the CV summary that are the same in every row move
    to a note. Long lists in JSON files (e.g. the fold of every sample) are summarised, not
    dumped. Long tables are truncated with a note; an unreadable file is
    reported on the page (and with a :class:`~desurv.exceptions.DataWarning`) and a figure
    that cannot be drawn from a table says why, instead of stopping the report.

    Figures are drawn with :mod:`desurv.reporting.plots` (matplotlib, optional: without it the page
    says so and shows the tables) and embedded as base64 PNG; tables are escaped by pandas
    ``to_html`` and every name by :func:`html.escape`; the page uses inline CSS only and loads
    no external resource or script. It records its generation time and the desurv version.

    Parameters
    ----------
    run_dir : str or path-like
        Output folder of a desurv run.
    out : str or path-like, optional
        Output file (or existing folder, which then receives ``report.html``). Default
        ``run_dir/report.html``. The file is written atomically (temporary file, then rename)
        with the mode a newly created file gets under the process umask (0644 with umask 022).
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
    from desurv import __version__

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
    bench_dirs = _bench_folders(run_dir, all_files)
    entries = [
        _Entry(
            p, p.relative_to(run_dir).as_posix(), _bench_key(p, bench_dirs) or _classify(p), run_dir
        )
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

    # A benchmark folder: its own section (tables, failures, plots, settings), drawn first so
    # that its plots are embedded there and not repeated under "Figures".
    body["bench"] = [_render_bench(f, run_dir, figs, max_rows) for f in bench_dirs]
    for e in sorted(entries, key=sort_key):
        if e.key == "png" or e.key.startswith("bench_"):
            continue  # PNGs after the tables, which may embed some in place
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
            "in report": [
                "summarised"
                if _bench_key(p, bench_dirs) == "bench_results"
                else "yes"
                if p in shown
                else "no"
                for p in all_files
            ],  # fmt: skip
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
    models = [
        _Entry(p, p.relative_to(run_dir).as_posix(), "model", run_dir)
        for p in all_files
        if p.suffix.lower() == ".npz"
    ]
    problems = _convergence_problems(entries + models)
    problems += _validated_model_problems(run_dir)
    problems += _signature_problems(entries)
    header += _warning_box(problems)
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
    write_text_atomic(out, page, ".report-", ".html")
    return out
