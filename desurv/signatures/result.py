"""The result of a signature extraction and its files (:class:`SignatureResult`).

Files written by :meth:`SignatureResult.save` (tab-separated, first row = header):

* ``signatures.tsv``: channels × signatures (``channel``, ``S1``..``Sk``), each column
  summing to 1: the orientation of COSMIC's files, readable by
  :func:`desurv.datasets.read_signatures`.
* ``exposures.tsv``: samples × signatures (``sample``, ``S1``..), mutations attributed to
  each signature by the NNLS refit.
* ``stability.tsv``: one row per signature (``signature``, ``silhouette``, ``cosine``,
  ``n_members``).
* ``reconstruction.tsv``: one row per sample (``sample``, ``n_mutations``, ``cosine``,
  ``relative_error``).
* ``cosmic_matches.tsv``: (with a reference) ``signature``, ``cosmic``, ``cosine``,
  ``best_cosmic``, ``best_cosine``.
* ``rank_table.tsv``: (when k was selected) one row per candidate k.
* ``rank_errors.tsv``: (``rank_rule="bootstrap"``) the bootstrap test errors, one row per
  (k, replicate), as :attr:`desurv.model_selection.BootstrapRankResult.errors`.
* ``restarts.tsv``: one row per restart (``k``, ``restart``, ``seed``, errors, iterations,
  convergence).
* ``signature_run.json``: the manifest: format, desurv version, method, every parameter,
  the summary numbers and the list of files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SIGNATURE_MANIFEST", "SignatureResult"]

#: Name of the JSON manifest written by :meth:`SignatureResult.save`.
SIGNATURE_MANIFEST = "signature_run.json"
_FORMAT = "desurv-signatures"
_FORMAT_VERSION = 1
_TABLES = (
    "signatures",
    "exposures",
    "stability",
    "reconstruction",
    "cosmic_matches",
    "rank_table",
    "rank_errors",
    "restarts",
)


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, float):
        return None if not np.isfinite(obj) else obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


@dataclass
class SignatureResult:
    """Mutational signatures extracted from a catalogue (see :func:`extract_signatures`).

    Orientation: ``catalogue ≈ exposures @ signatures.T`` (samples × channels).

    Attributes
    ----------
    signatures : DataFrame of shape (n_channels, k)
        Consensus signatures, columns ``S1``..``Sk`` each summing to 1, index the channels
        (canonical COSMIC order for SBS96). Ordered by total exposure, largest first.
    exposures : DataFrame of shape (n_samples, k)
        Mutations attributed to each signature: NNLS refit of the catalogue on
        ``signatures`` (min ‖x_i − S e_i‖₂, e_i ≥ 0, per sample).
    stability : DataFrame of shape (k, 3)
        Index ``signature``; ``silhouette``: mean silhouette (cosine distance) of the
        restart signatures in the signature's cluster (near 1 = found by every restart;
        NaN when k = 1); ``cosine``: mean cosine similarity of those members to the
        consensus signature; ``n_members``: cluster size.
    mean_stability : float
        Mean silhouette over all restart signatures (SigProfiler's average stability).
    reconstruction : DataFrame of shape (n_samples, 3)
        Index ``sample``; ``n_mutations``, ``cosine`` (between x_i and its reconstruction),
        ``relative_error`` (‖x_i − x̂_i‖₂ / ‖x_i‖₂).
    cosmic_matches : DataFrame or None
        :func:`match_signatures` of the consensus signatures to the reference; None
        without a reference.
    rank_table : DataFrame or None
        One row per candidate k when k was selected, None when ``n_components`` was given;
        the bool ``selected`` column marks the choice. ``rank_rule="bootstrap"``:
        :meth:`desurv.model_selection.BootstrapRankResult.summary` (``mean_test_error``,
        ``sd_test_error``, ..., ``pvalue`` of the step to ``k_next``, ``significant``).
        ``rank_rule="stability"``: ``stability`` (mean silhouette of all restart
        signatures), ``stability_min`` (smallest per-signature mean silhouette),
        ``reconstruction_error`` and ``mean_restart_error`` (‖X − E H‖_F/‖X‖_F of the best
        restart and its mean over the restarts), ``consensus_error`` (the same ratio for
        the NNLS refit on the consensus signatures),
        ``consistency_acs``, ``stable``, ``pvalue`` (one-sided paired Wilcoxon of the
        per-sample errors against the largest stable k), the columns
        :func:`desurv.reporting.rank_plots.plot_stability_vs_error` draws.
    restarts : DataFrame
        One row per restart fit: ``k``, ``restart``, ``seed``, ``reconstruction_error``
        (‖X − E H‖_F, mutations), ``relative_error`` (divided by ‖X‖_F), ``n_iter``,
        ``converged``, ``cosine_to_consensus`` (mean Hungarian-matched cosine of its
        signatures to the consensus of its k).
    method : str
        The factorisation ("nmf", "nmf-kl", "convex", "aenmf").
    params : dict
        Every setting of the run (JSON-compatible), with the resolved estimator parameters
        and the seed entropy (which reproduces a run made with ``random_state=None``).
    summary : dict
        ``n_components``, ``mean_stability``, ``min_stability``, ``consistency_acs`` (mean
        ACS over all pairs of restarts, the paper's consistency), ``cosmic_acs`` (mean
        matched cosine to the reference, or None), ``relative_error`` (‖X − E Sᵀ‖_F/‖X‖_F of
        the refit), ``n_restarts``, ``n_converged``.
    restart_signatures : ndarray of shape (n_restarts, n_channels, k) or None
        Every restart's signatures (columns sum to 1) at the selected k (not saved).
    rank_errors : DataFrame or None
        ``rank_rule="bootstrap"``: the bootstrap errors (one row per k and replicate).
    rank_selection : object or None
        The rank selection itself (not saved): the
        :class:`~desurv.model_selection.BootstrapRankResult`, or the rank table of the
        "stability" rule.
    """

    signatures: pd.DataFrame
    exposures: pd.DataFrame
    stability: pd.DataFrame
    mean_stability: float
    reconstruction: pd.DataFrame
    cosmic_matches: pd.DataFrame | None
    rank_table: pd.DataFrame | None
    restarts: pd.DataFrame
    method: str
    params: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    restart_signatures: np.ndarray | None = None
    rank_errors: pd.DataFrame | None = None
    rank_selection: object = None

    @property
    def n_components(self) -> int:
        """Number of signatures k."""
        return int(self.signatures.shape[1])

    def __repr__(self):
        s = self.summary
        acs = s.get("cosmic_acs")
        return (
            f"SignatureResult(method={self.method!r}, k={self.n_components}, "
            f"n_samples={self.exposures.shape[0]}, mean_stability={self.mean_stability:.3f}"
            + (f", cosmic_acs={acs:.3f}" if acs is not None else "")
            + ")"
        )

    # ------------------------------------------------------------------ files
    def _frames(self):
        out = {
            "signatures": self.signatures.rename_axis(index="channel"),
            "exposures": self.exposures.rename_axis(index="sample"),
            "stability": self.stability.rename_axis(index="signature"),
            "reconstruction": self.reconstruction.rename_axis(index="sample"),
            "cosmic_matches": self.cosmic_matches,
            "rank_table": self.rank_table,
            "rank_errors": self.rank_errors,
            "restarts": self.restarts,
        }
        return {k: v for k, v in out.items() if v is not None}

    def save(self, folder, *, overwrite=False):
        """Write the tables (TSV) and the manifest ``signature_run.json`` into ``folder``.

        Parameters
        ----------
        folder : str or Path
            Created (with its parents) when missing.
        overwrite : bool, default False
            Replace files of an earlier save; without it a folder already holding one of
            the files is refused. Other files in the folder are never touched.

        Returns
        -------
        list of Path
            The files written (manifest last).

        Raises
        ------
        ValueError
            ``folder`` is a file, or holds one of the files and ``overwrite`` is False.
        """
        from desurv import __version__

        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{folder} is a file; give a folder to save the result in")
        frames = self._frames()
        names = [f"{k}.tsv" for k in frames] + [SIGNATURE_MANIFEST]
        if not overwrite:
            present = [n for n in names if (folder / n).exists()]
            if present:
                raise ValueError(
                    f"{folder} already holds {', '.join(present)}; pass overwrite=True to "
                    "replace them or choose another folder"
                )
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for key, df in frames.items():
            path = folder / f"{key}.tsv"
            keep_index = key in ("signatures", "exposures", "stability", "reconstruction")
            df.to_csv(path, sep="\t", index=keep_index, float_format="%.10g")
            written.append(path)
        manifest = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "desurv_version": __version__,
            "method": self.method,
            "n_components": self.n_components,
            "mean_stability": self.mean_stability,
            "summary": self.summary,
            "params": self.params,
            "files": [p.name for p in written],
        }
        path = folder / SIGNATURE_MANIFEST
        path.write_text(json.dumps(_json_safe(manifest), indent=1) + "\n", encoding="utf-8")
        written.append(path)
        return written

    @classmethod
    def load(cls, folder):
        """Read a result written by :meth:`save` (``restart_signatures`` is not saved).

        Raises
        ------
        ValueError
            No ``signature_run.json`` of this format in ``folder``, or a listed file missing.
        """
        folder = Path(folder)
        path = folder / SIGNATURE_MANIFEST
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(
                f"{folder} holds no desurv signature result ({SIGNATURE_MANIFEST} missing or "
                "not written by SignatureResult.save)"
            )
        tables = {}
        for key in _TABLES:
            p = folder / f"{key}.tsv"
            if f"{key}.tsv" in meta.get("files", []):
                if not p.is_file():
                    raise ValueError(f"{p} is listed in {SIGNATURE_MANIFEST} but missing")
                index_col = (
                    0 if key in ("signatures", "exposures", "stability", "reconstruction") else None
                )
                df = pd.read_csv(p, sep="\t", index_col=index_col)
                if index_col is not None:
                    df.index = df.index.astype(str)
                tables[key] = df
        for key in ("exposures", "reconstruction"):
            if key in tables:
                tables[key].index.name = "sample"
        if "signatures" in tables:
            tables["signatures"].index.name = "channel"
        if "stability" in tables:
            tables["stability"].index.name = "signature"
        return cls(
            signatures=tables["signatures"],
            exposures=tables["exposures"],
            stability=tables["stability"],
            mean_stability=float(meta["mean_stability"])
            if meta.get("mean_stability") is not None
            else float("nan"),
            reconstruction=tables["reconstruction"],
            cosmic_matches=tables.get("cosmic_matches"),
            rank_table=tables.get("rank_table"),
            restarts=tables["restarts"],
            rank_errors=tables.get("rank_errors"),
            method=meta.get("method"),
            params=meta.get("params", {}),
            summary=meta.get("summary", {}),
        )
