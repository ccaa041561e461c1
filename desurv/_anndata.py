"""Write a fitted model's results into an AnnData object (anndata stays optional).

AnnData is detected by duck typing (``obs``, ``var_names``, ``obs_names``, ``layers``, ``X``);
``anndata`` is never imported by desurv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from desurv._validation import extract_X, is_anndata

__all__ = ["write_to_anndata"]


def write_to_anndata(model, adata, *, layer=None, key="desurv", copy=False):
    """Store a fitted model's per-sample and per-gene results in ``adata``.

    Written (``key`` = ``"desurv"`` by default):

    * ``adata.obs[f"{key}_risk"]``: the linear predictor η = ``model.predict`` (float64);
    * ``adata.obsm[f"X_{key}"]``: the projections Z = ``model.transform`` (n_obs × k,
      float64), when the model has ``transform`` (DeSurv, NMFCox);
    * ``adata.varm[f"{key}_W"]``: the gene programs W (n_vars × k, float64), rows aligned to
      ``adata.var_names`` by name; genes the model does not use get NaN;
    * ``adata.uns[key]``: ``{"coef": β, "factors": ["factor_1", ...]}`` (CoxNet:
      ``{"coef": β}`` over its features).

    Genes are matched by name exactly as in ``predict`` (any order, extra genes ignored,
    missing model genes an error).

    Parameters
    ----------
    model : fitted DeSurv, NMFCox, CoxNet or DeSurvCV
    adata : AnnData of shape (n_obs, n_vars)
        Samples × genes, with the model's genes among ``var_names``.
    layer : str, optional
        Use ``adata.layers[layer]`` instead of ``adata.X`` (transformed like the training
        data).  Default: the layer the model was fitted on (``model.fit_layer_``), else
        ``adata.X``.
    key : str, default "desurv"
        Prefix of the written keys.
    copy : bool, default False
        Write into a copy of ``adata`` instead of ``adata`` itself.

    Returns
    -------
    AnnData
        ``adata`` (or its copy with ``copy=True``), with the keys above set.

    Raises
    ------
    ValueError
        ``adata`` is not AnnData, the model is not fitted, or the data are invalid / lack
        model genes.

    Examples
    --------
    >>> desurv.write_to_anndata(model, adata)  # doctest: +SKIP
    >>> adata.obsm["X_desurv"].shape  # doctest: +SKIP
    (n_obs, k)
    """
    if not is_anndata(adata):
        raise ValueError(
            f"adata must be an AnnData object (samples x genes), got {type(adata).__name__}"
        )
    if copy:
        adata = adata.copy()
    if layer is None:  # the layer the model was fitted on (None: adata.X)
        layer = getattr(model, "fit_layer_", None)
    values, names, samples = extract_X(adata, "adata", layer=layer)
    frame = pd.DataFrame(values, index=samples, columns=names)
    eta = np.asarray(model.predict(frame), dtype=np.float64)
    adata.obs[f"{key}_risk"] = eta
    est = getattr(model, "best_estimator_", model)
    if hasattr(est, "W_"):
        pre = getattr(model, "preprocessor_", None) if est is not model else None
        Z = np.asarray(est.transform(frame if pre is None else pre.transform(frame)))
        adata.obsm[f"X_{key}"] = Z
        W = np.full((adata.n_vars, est.W_.shape[1]), np.nan)
        genes = getattr(est, "feature_names_in_", None)
        if genes is None:
            if est.W_.shape[0] != adata.n_vars:
                raise ValueError(
                    f"the model has {est.W_.shape[0]} genes without names but adata has "
                    f"{adata.n_vars}; fit on named genes to write W by name"
                )
            W[:] = est.W_
        else:
            pos = pd.Index(names).get_indexer(pd.Index(genes))
            W[pos] = est.W_  # every model gene is present (predict checked it)
        adata.varm[f"{key}_W"] = W
        adata.uns[key] = {
            "coef": np.asarray(est.coef_, dtype=np.float64),
            "factors": [f"factor_{f + 1}" for f in range(est.W_.shape[1])],
        }
    else:
        adata.uns[key] = {"coef": np.asarray(est.coef_, dtype=np.float64)}
    return adata
