"""Reading a model file back as the estimator that wrote it (:func:`load_model`).

It sits above :mod:`~desurv.deconvolution.estimator` and
:mod:`~desurv.deconvolution.nmf_cox` because it must know both classes; the format itself is
:mod:`desurv.deconvolution.model_file`.
"""

from __future__ import annotations

from desurv.deconvolution.estimator import DeSurv, _build_model
from desurv.deconvolution.model_file import read_model_file
from desurv.deconvolution.nmf_cox import NMFCox

_CLASSES = {"DeSurv": DeSurv, "NMFCox": NMFCox}


def load_model(path):
    """Read a model written by :func:`save_model` (or :meth:`DeSurv.save`, :meth:`NMFCox.save`).

    The file is treated as untrusted: nothing is unpickled, no array larger than the file
    is allocated, and the metadata and arrays are validated (format:
    :mod:`desurv.deconvolution.model_file`).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    DeSurv or NMFCox
        Fitted estimator of the class that saved it (an :class:`~desurv.NMFCox` with its
        ``solver`` and ``cd_*`` parameters when :meth:`NMFCox.save <desurv.NMFCox.save>`
        wrote the file); ``preprocessor_`` holds the saved preprocessing (or None), and
        ``baseline_time_`` / ``baseline_cumulative_hazard_`` when the file has them.

    Raises
    ------
    ValueError
        ``"not a valid desurv model file: <path>: <reason>"`` if the file is missing,
        unreadable, damaged or not a desurv model of a known version.
    """
    params, fitted = read_model_file(path, DeSurv._get_param_names())
    est = fitted.get("_estimator")  # validated by the reader: a known class
    cls = _CLASSES[est["class"]] if est is not None else DeSurv
    return _build_model(cls, params, fitted)
