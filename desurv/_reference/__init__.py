"""Plain NumPy oracles of every compiled kernel (DESIGN.md §3); used by the tests only.

Each compiled kernel has its twin here, one module per kernel module (imported
directly, e.g. ``from desurv._reference import cox``):

* ``nmf``: multiplicative H update, balanced W ratio, damped W trial, trial projections
  (twins of ``desurv._kernels._nmf``);
* ``products``: the two products with X of an iteration (twins of
  ``desurv._kernels._products``);
* ``solver``: the whole DeSurv fit with the formulas as written, forming W·H (twin of
  ``desurv.deconvolution._loop.run_loop``; the baseline of ``benchmarks/compare.py``
  target 3);
* ``nmf_mu``, ``nmf_cd``: the plain-NMF multiplicative-update passes (Frobenius and
  Kullback–Leibler) and the HALS sweeps (twins of ``desurv._kernels._nmf_mu`` and
  ``desurv._kernels._nmf_cd``);
* ``aenmf``: the fused Adam step of AE-NMF (chain rule of φ, projection) and the Frobenius /
  Kullback–Leibler residual passes (twins of ``desurv._kernels._aenmf``);
* ``convex``: the square-root multiplicative update of convex NMF (twin of
  ``desurv._kernels._convex``);
* ``coxmt``: the Cox-MT element-wise passes (noisy rows, bias+ReLU+dropout and its backward,
  Adam with coupled L2, EMA) and the whole network written plainly (twins of
  ``desurv._kernels._coxmt``);
* ``supervised_nmf``: one S-NMF / SS-NMF / PSS-NMF iteration as written, faithful and clean
  (twin of ``desurv._kernels._supervised_nmf``);
* ``unfolded``: the deep-unfolded NMF layer passes (forward, backward, supervised residual,
  penalty gradient), plus the whole network's forward pass and hand-written gradient as
  printed in METHODS §C.2 (twins of ``desurv._kernels._unfolded``);
* ``nnls``: batched NNLS column by column (twin of ``desurv._kernels._nnls``);
* ``cox``: Cox log partial likelihood, gradient, diagonal majorizer, exact Hessian,
  reference coordinate descent, Breslow baseline hazard (twins of ``desurv._kernels._cox``);
* ``concordance``: Harrell's concordance by the O(n²) definition (twin of
  ``desurv._kernels._concordance``);
* ``coxnet_path``: elastic-net Cox path (glmnet-style coordinate descent, diagonal or exact
  curvature), twin of ``desurv._kernels._coxnet_path``;
* ``hungarian``: exhaustive assignment, cosine matrices, cosine matching via scipy, silhouette
  by definition, top-gene co-occurrence and Jaccard (twins of ``desurv._kernels._hungarian``
  and ``desurv.evaluation.matching``).

They favour the formulas as written over speed: O(n²) loops and explicit products.
"""
