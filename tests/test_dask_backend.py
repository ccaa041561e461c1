"""The benchmark harness gives the same numbers, bit for bit, wherever its cells run.

``desurv.benchmark.run_benchmark`` sends its cells through joblib, so any joblib backend
(loky, threads, a Dask cluster, Ray) can run them. The results must not depend on that:
every value of the results table (``wall_time`` aside) is compared as a float64 bit
pattern against the ``n_jobs=1`` run.

The first test needs no cluster: it runs the harness inside ``parallel_config(backend=
"threading", n_jobs=2)``, where joblib's ``n_jobs=None`` means two workers. Before the
runner pinned nested joblib calls to sequential, scikit-learn's ``pairwise_distances`` in
the ``stability`` silhouette split its work under such a configuration (as it does under
``parallel_config(backend="dask")``) and rounded differently. The second runs a tiny grid
on a real ``distributed.LocalCluster`` with two worker processes.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from desurv.benchmark import BenchmarkDataset, run_benchmark

METHODS = ["desurv", "nmf-frobenius", "nmf-kl"]
PARAMS = {
    "desurv": {"n_init": 2, "max_iter": 60},
    "nmf-frobenius": {"max_iter": 100},
    "nmf-kl": {"max_iter": 100},
}


@pytest.fixture(scope="module")
def data():
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(n_samples=60, n_genes=80, n_markers=8, n_background=15, random_state=3)
    W = pd.DataFrame(sim.W, index=sim.X.columns)
    H = pd.DataFrame(sim.H.T, index=sim.X.index)
    return BenchmarkDataset("tiny-sim", sim.X, sim.y, "survival", W, H)


def _run(data, n_jobs=1, seeds=(0, 1, 2)):
    """3 methods x 2 splits x 3 seeds = 18 fits (short fits warn; the warnings are not
    what is tested here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_benchmark(
            METHODS, data, seeds=list(seeds), n_splits=2, params=PARAMS, n_jobs=n_jobs
        )


def assert_identical(a, b):
    """Same rows, same order, every column equal; values bitwise equal except wall_time."""
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(
        a.drop(columns="value"), b.drop(columns="value"), check_exact=True
    )
    keep = (a["metric"] != "wall_time").to_numpy()
    va = a["value"].to_numpy(dtype=np.float64)[keep]
    vb = b["value"].to_numpy(dtype=np.float64)[keep]
    different = np.flatnonzero(va.view(np.int64) != vb.view(np.int64))
    assert different.size == 0, a[keep].iloc[different[:5]].assign(other=vb[different[:5]])
    # wall_time: present in the same cells (its value measures the run)
    wa = a.loc[~keep, "value"].to_numpy()
    wb = b.loc[~keep, "value"].to_numpy()
    assert np.array_equal(np.isnan(wa), np.isnan(wb))


def test_results_do_not_depend_on_the_callers_joblib_configuration(data):
    from joblib import parallel_config

    ref = _run(data)
    assert ref["error"].isna().all(), ref.loc[ref["error"].notna(), "error"].tolist()
    # the across-seed metrics are part of the comparison
    assert {"stability", "consistency", "harrell_c", "signature_cosine"} <= set(ref["metric"])
    assert ref.loc[ref["metric"] == "stability", "value"].notna().all()
    with parallel_config(backend="threading", n_jobs=2):
        same_process = _run(data, n_jobs=1)
        threads = _run(data, n_jobs=2)
    assert_identical(ref, same_process)
    assert_identical(ref, threads)


def test_local_dask_cluster_gives_the_n_jobs_1_results(data):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster, get_task_stream
    from joblib import parallel_config

    ref = _run(data)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        workers = set(client.scheduler_info()["workers"])
        with get_task_stream(client) as ts, parallel_config(backend="dask"):
            on_dask = _run(data, n_jobs=-1)
    assert on_dask.attrs["n_fitted"] == 18
    assert_identical(ref, on_dask)
    # the cells did run on the cluster's worker processes
    ran_on = {t["worker"] for t in ts.data}
    assert ran_on and ran_on <= workers
