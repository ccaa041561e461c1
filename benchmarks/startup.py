"""Start-up of ``desurv fit``: process start to the first iteration, stage by stage (issue 16,
target 4: at most 1.0 s on a 2,000 x 300 expression TSV, k = 5).

Not a test and not an asv benchmark (nothing runs on import). Each repetition runs, in turn,
every configuration as a fresh process (``desurv fit --verbose``, whose lines carry the
seconds since the process started, read from ``/proc/self/stat``), so the configurations
see the same machine load; the table gives medians over ``--reps`` repetitions, after one
discarded run that fills Numba's cache and the OS file cache. BLAS runs on one thread.

Data: as ``benchmarks/compare.py`` (target 6a), ``desurv.datasets.simulate_desurv(
n_samples=300, n_genes=2000, n_components=5, beta=(2, 0, 0, 0, 0), random_state=0)`` written
as genes x samples TSV (full precision, 11 MB) with its clinical TSV; ``desurv fit -k 5
--transform none --max-iter 1`` with ``--n-init 1`` and ``--n-init 20``.

Configurations: ``python -m desurv.cli`` as installed (pyarrow's CSV reader when pyarrow is
importable), the same with pyarrow hidden (pandas' C parser; ``sys.modules["pyarrow"] =
None`` before anything is imported), and with ``--reference DIR`` the same command on another
source tree (e.g. an older checkout; run through ``desurv.cli.main()``, which every version
has). ``python -c pass`` and ``python -c "import desurv"`` are timed in the same rounds.

Stages (differences of consecutive time stamps): interpreter + ``import desurv.cli`` (the
first line), imports of the fit's modules, reading the expression and clinical files,
set-up (preprocessing, the estimator), the first random start (kernels from Numba's cache +
``init_max_iter`` = 30 iterations), the other random starts, the first iteration of the
final run; and the CPU seconds the process had used when it printed the first iteration
(``/proc/PID/stat``, all threads): on a shared machine the wall clock of a process depends
on the load, its CPU time much less. A Numba check runs once per configuration
(``NUMBA_DEBUG_CACHE=1``): kernels loaded from the cache and kernels compiled before the
first iteration (compiled should be 0).

    python benchmarks/startup.py                          # 7 repetitions (~1 min)
    python benchmarks/startup.py --reps 11 --n-init 1
    python benchmarks/startup.py --reference /tmp/old-checkout
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 1.0
K = 5

_LINE = re.compile(r"^desurv: \[\s*([0-9.]+) s\] (.*)$")
_HIDE_PYARROW = "import sys; sys.modules['pyarrow'] = None; "
_RUN_MODULE = "import runpy; runpy.run_module('desurv.cli', run_name='__main__', alter_sys=True)"
_RUN_MAIN = "import sys; from desurv.cli import main; sys.exit(main())"

STAGES = (
    ("interpreter + desurv.cli", "interpreter"),
    ("imports", "imports"),
    ("reading", "reading"),
    ("set-up", "setup"),
    ("first random start", "start1"),
    ("other random starts", "starts"),
    ("first iteration", "iter1"),
)


def _write_data(folder, float_format=None):
    """The expression (genes x samples) and clinical TSVs of compare.py's target 6a."""
    import pandas as pd

    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(n_samples=300, n_genes=2000, n_components=K,
                          beta=(2.0,) + (0.0,) * (K - 1), random_state=0)  # fmt: skip
    X = sim.X.to_numpy(dtype=np.float64).T
    samples = [f"s{i + 1}" for i in range(X.shape[1])]
    expr, clin = Path(folder) / "expr.tsv", Path(folder) / "clin.tsv"
    frame = pd.DataFrame(X, columns=samples)
    frame.insert(0, "gene", [f"g{i + 1}" for i in range(X.shape[0])])
    frame.to_csv(expr, sep="\t", index=False, float_format=float_format)
    pd.DataFrame({"sample": samples, "time": sim.time, "event": sim.event.astype(int)}).to_csv(
        clin, sep="\t", index=False
    )
    return expr, clin


def _env(pythonpath):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = str(pythonpath) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NUMBA_DEBUG_CACHE", None)
    return env


def _configurations(reference):
    """name -> (launcher arguments, source tree on PYTHONPATH)."""
    configs = {}
    try:
        import pyarrow  # noqa: F401

        configs["pyarrow"] = (["-m", "desurv.cli"], REPO)
    except ImportError:
        pass
    configs["C parser"] = (["-c", _HIDE_PYARROW + _RUN_MODULE], REPO)
    if reference is not None:
        configs["reference"] = (["-c", _RUN_MAIN], Path(reference).resolve())
        configs["reference, no pyarrow"] = (["-c", _HIDE_PYARROW + _RUN_MAIN], configs[
            "reference"][1])  # fmt: skip
    return configs


def _fit_args(expr, clin, out, n_init):
    return ["fit", "--expression", str(expr), "--clinical", str(clin), "-k", str(K),
            "--transform", "none", "--n-init", str(n_init), "--max-iter", "1",
            "--out", str(out), "--overwrite", "--verbose"]  # fmt: skip


def _run(launcher, tree, args, extra_env=None, merge=False):
    """stderr of the run (``merge``: stdout and stderr, unbuffered, in the order written)."""
    env = _env(tree)
    env.update(extra_env or {})
    if merge:
        env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.run([sys.executable, *launcher, *args], env=env, cwd=tempfile.gettempdir(),
                          stdout=subprocess.PIPE if merge else subprocess.DEVNULL,
                          stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                          text=True)  # fmt: skip
    output = proc.stdout if merge else proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"{launcher} {args} failed:\n{output}")
    return output


def _cpu_seconds(pid):
    """User + system CPU seconds of a running process, all threads (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _run_fit(launcher, tree, args):
    """(stderr, CPU seconds of the process when it printed ``iteration 1``)."""
    proc = subprocess.Popen([sys.executable, *launcher, *args], env=_env(tree),
                            cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines, cpu = [], None
    for line in proc.stderr:
        if cpu is None and "] iteration 1:" in line:
            cpu = _cpu_seconds(proc.pid)
        lines.append(line)
    if proc.wait() != 0:
        raise RuntimeError(f"{launcher} {args} failed:\n{''.join(lines)}")
    return "".join(lines), cpu


def _stages(stderr):
    """Seconds per stage from the ``--verbose`` time stamps (None where a stage is absent)."""
    stamps = [(float(m.group(1)), m.group(2)) for m in map(_LINE.match, stderr.splitlines()) if m]

    def first(prefix):
        return next((t for t, text in stamps if text.startswith(prefix)), None)

    t0, t_imp, t_read = stamps[0][0], first("modules imported"), first("read ")
    t_fit, t_iter = first("fitting"), first("iteration 1:")
    starts = [t for t, text in stamps if text.startswith("random start ")]
    out = {"interpreter": t0, "imports": t_imp - t0, "reading": t_read - t_imp,
           "setup": t_fit - t_read, "total": t_iter}  # fmt: skip
    if starts:  # this version prints one line per random start
        out.update(start1=starts[0] - t_fit, starts=starts[-1] - starts[0],
                   iter1=t_iter - starts[-1])  # fmt: skip
    else:
        out.update(start1=None, starts=None, iter1=t_iter - t_fit)
    return out


def _numba_check(launcher, tree, args):
    """(kernels loaded from Numba's cache, kernels compiled) before the first iteration."""
    # Numba prints to stdout: merged with stderr, in the order written
    err = _run(launcher, tree, args, {"NUMBA_DEBUG_CACHE": "1"}, merge=True)
    head = err.split("] iteration 1:")[0]
    return head.count("[cache] data loaded"), head.count("[cache] data saved")


def _time_python(code, tree):
    import time

    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_env(tree), check=True)
    return time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7, help="repetitions (default 7)")
    ap.add_argument("--n-init", type=int, nargs="+", default=[1, 20], help="default: 1 20")
    ap.add_argument(
        "--reference",
        metavar="DIR",
        default=None,
        help="another source tree (the folder holding its desurv/) to compare",
    )
    ap.add_argument(
        "--float-format",
        default=None,
        help="printf format of the values (default: full precision, as compare.py)",
    )
    args = ap.parse_args(argv)  # fmt: skip

    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})", flush=True)
    configs = _configurations(args.reference)
    results = {(name, n): [] for name in configs for n in args.n_init}
    python = {"python -c pass": [], "python -c 'import desurv'": []}
    with tempfile.TemporaryDirectory() as tmp:
        expr, clin = _write_data(tmp, args.float_format)
        size = expr.stat().st_size / 2**20
        print(f"data: {expr.name} {size:.1f} MiB (2000 genes x 300 samples), k={K}", flush=True)
        out = Path(tmp) / "run"
        checks = {}
        for name, (launcher, tree) in configs.items():
            _run(launcher, tree, _fit_args(expr, clin, out, 1))  # fills the caches
            checks[name] = _numba_check(launcher, tree, _fit_args(expr, clin, out, 1))
        for rep in range(args.reps):
            for n_init in args.n_init:
                for name, (launcher, tree) in configs.items():
                    err, cpu = _run_fit(launcher, tree, _fit_args(expr, clin, out, n_init))
                    results[name, n_init].append({**_stages(err), "cpu": cpu})
            python["python -c pass"].append(_time_python("pass", REPO))
            python["python -c 'import desurv'"].append(_time_python("import desurv", REPO))
            print(f"  repetition {rep + 1}/{args.reps} done", flush=True)

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for label, times in python.items():
        print(f"{label}: {np.median(times):.3f} s (median of {len(times)}, wall clock)")
    for name, (loaded, compiled) in checks.items():
        print(f"Numba [{name}]: {loaded} kernels loaded from the cache, {compiled} compiled "
              "before the first iteration")  # fmt: skip
    print(f"\nmedian seconds over {args.reps} repetitions (process start = 0); stages:")
    for label, key in STAGES:
        print(f"  {key:<12}{label}")
    print("  total       process start to iteration 1 (wall clock)")
    print("  cpu         CPU seconds of the process (all threads) at iteration 1: less")
    print("              sensitive to machine load than the wall clock")
    keys = [key for _, key in STAGES] + ["total", "cpu"]
    print(f"{'configuration':<34}" + "".join(f"{key:>12}" for key in keys))
    totals = {}
    for (name, n_init), runs in results.items():
        row = f"{f'{name}, --n-init {n_init}':<34}"
        for key in keys:
            values = [r[key] for r in runs if r[key] is not None]
            row += f"{np.median(values):>12.3f}" if values else f"{'-':>12}"
        print(row)
        cpu = [r["cpu"] for r in runs if r["cpu"] is not None]
        totals[name, n_init] = (
            float(np.median([r["total"] for r in runs])),
            float(np.median(cpu)) if cpu else float("nan"),
        )
    print(f"\ngoal: process start to the first iteration <= {GOAL_S:.1f} s (wall clock)")
    pairs = {"pyarrow": "reference", "C parser": "reference, no pyarrow"}
    for (name, n_init), (total, cpu) in totals.items():
        verdict = "met" if total <= GOAL_S else "NOT met"
        line = f"  {name}, --n-init {n_init}: {total:.3f} s ({verdict}; CPU {cpu:.2f} s)"
        ref = totals.get((pairs.get(name), n_init))
        if ref is not None:
            line += (
                f"; {pairs[name]}: {ref[0]:.3f} s, {ref[0] / total:.2f}x faster "
                f"(CPU {ref[1]:.2f} s, {ref[1] / cpu:.2f}x)"
            )
        print(line)


if __name__ == "__main__":
    main()
