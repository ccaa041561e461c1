"""Mutational signatures: de novo extraction from a catalogue, consensus, COSMIC matching.

- :mod:`desurv.signatures.workflow`: :func:`extract_signatures` (random-start restarts of
  NMF, KL-NMF, convex NMF or AE-NMF in parallel, SigProfiler k-means or PAM k-medoids
  consensus, stability, NNLS exposures, rank selection by bootstrap or stability).
- :mod:`desurv.signatures.result`: :class:`SignatureResult` and its files (``save``/``load``).
- :func:`check_catalogue`: the checks of a catalogue (SBS96 channels, counts, empty samples).
- :mod:`desurv.signatures.reference`: :func:`match_signatures`, the Hungarian match of
  signatures to a reference such as COSMIC v3.4 (rectangular, on 1 − cosine).

Orientation: catalogues are samples × channels (:func:`desurv.datasets.read_catalogue`),
signatures channels × k, exposures samples × k.
"""

from typing import TYPE_CHECKING

from desurv._lazy import lazy_exports

_NAMES = {
    "METHODS": "workflow",
    "SignatureResult": "result",
    "check_catalogue": "_catalogue",
    "extract_signatures": "workflow",
    "match_signatures": "reference",
    "method_defaults": "workflow",
}
__all__ = [
    "METHODS",
    "SignatureResult",
    "check_catalogue",
    "extract_signatures",
    "match_signatures",
    "method_defaults",
]

if TYPE_CHECKING:
    from ._catalogue import check_catalogue
    from .reference import match_signatures
    from .result import SignatureResult
    from .workflow import METHODS, extract_signatures, method_defaults

__getattr__, __dir__ = lazy_exports(__name__, _NAMES, ("reference", "result", "workflow"))
