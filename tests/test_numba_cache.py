"""Numba cache fallback (desurv._numba_cache): a read-only install without a writable HOME.

The scenario of issue 9 §2: a non-root user, desurv in a folder it cannot write (no
``__pycache__`` for Numba), ``HOME=/nonexistent`` (no ``~/.cache/numba``) and no
``NUMBA_CACHE_DIR``. Numba then raised ``cannot cache function ...: no locator available``
when desurv's ``njit(cache=True)`` kernels were decorated.

The subprocess tests run as ``nobody`` (via ``setpriv``/``runuser``) when the tests run as
root, as the current user otherwise, on a read-only copy of the package; they are skipped
when that scenario cannot be built.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import desurv

PKG_DIR = Path(desurv.__file__).resolve().parent
NOBODY = 65534
TIMEOUT = 900  # first compilation of every kernel, on a loaded 2-core machine

FIT_SCRIPT = """
import sys, warnings
import numpy as np
import desurv
assert desurv.__file__.startswith({root!r}), desurv.__file__
rng = np.random.default_rng(0)
X = rng.random((30, 12))
t = rng.exponential(1.0, 30) + 0.1
e = rng.random(30) < 0.6
with warnings.catch_warnings():
    warnings.simplefilter("ignore", desurv.ConvergenceWarning)
    m = desurv.DeSurv(n_components=2, n_init=1, max_iter=3, random_state=0).fit(
        X, time=t, event=e
    )
c = desurv.concordance_index(t, e, m.predict(X))
import desurv._numba_cache as nc
print("STATE", nc._state)
print("FIT OK", m.coef_.shape, round(float(c), 3))
"""

UNCACHED_SCRIPT = """
import tempfile, warnings
tempfile.tempdir = {blocked!r}  # the temporary folder is not writable either
import numpy as np
import desurv
assert desurv.__file__.startswith({root!r}), desurv.__file__
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import desurv._kernels._concordance, desurv._kernels._nmf, desurv._kernels._products
    import desurv._kernels._hungarian, desurv._kernels._coxnet_path
    t = np.array([1.0, 2.0, 3.0, 4.0]); e = np.array([1, 1, 0, 1], dtype=bool)
    c = desurv.concordance_index(t, e, np.array([4.0, 3.0, 2.0, 1.0]))
ours = [w for w in caught if "Numba's cache" in str(w.message)]
print("WARNINGS", len(ours), [w.category.__name__ for w in ours])
import desurv._numba_cache as nc
print("STATE", nc._state)
print("C", c)
"""


def _run_as_user_prefix():
    """Command prefix that drops root to ``nobody``, [] when not root, None if impossible."""
    if not hasattr(os, "geteuid"):
        return None
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "nobody", "--"]
    return None


@pytest.fixture
def readonly_install():
    """A read-only copy of desurv (no Numba cache files) and a runner for subprocesses."""
    prefix = _run_as_user_prefix()
    if prefix is None:
        pytest.skip("cannot run a subprocess as an unprivileged user")
    base = Path(tempfile.mkdtemp(prefix="desurv-nbcache-test-"))
    try:
        os.chmod(base, 0o755)
        root = base / "site"
        shutil.copytree(
            PKG_DIR,
            root / "desurv",
            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.pyc"),
        )  # keeps the compiled Cython extension(s) next to the sources
        tmpdir = base / "tmp"  # the unprivileged user's temporary folder
        tmpdir.mkdir()
        os.chmod(tmpdir, 0o1777)
        blocked = base / "blocked"  # a folder nobody can write
        blocked.mkdir()
        for path in sorted(root.rglob("*"), reverse=True) + [root]:
            mode = 0o555 if path.is_dir() else 0o444
            os.chmod(path, mode)
        os.chmod(blocked, 0o555)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/nonexistent",
            "PYTHONPATH": str(root),
            "TMPDIR": str(tmpdir),
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

        def run(code, timeout=TIMEOUT):
            return subprocess.run(
                [*prefix, sys.executable, "-c", code],
                env=env,
                cwd=str(base),
                capture_output=True,
                text=True,
                timeout=timeout,
            )

        probe = run(
            textwrap.dedent(
                f"""
                import os, tempfile
                import numba, numpy
                import desurv
                assert desurv.__file__.startswith({str(root)!r}), desurv.__file__
                try:
                    tempfile.TemporaryFile(dir={str(root / "desurv" / "_kernels")!r}).close()
                except OSError:
                    print("READONLY")
                """
            ),
            timeout=300,
        )
        if probe.returncode != 0 or "READONLY" not in probe.stdout:
            pytest.skip(f"read-only install scenario unavailable: {probe.stderr[-300:]}")
        yield {"root": str(root), "tmpdir": tmpdir, "blocked": str(blocked), "run": run}
    finally:
        for path in [base, *base.rglob("*")]:
            try:
                if path.is_dir() and not path.is_symlink():
                    os.chmod(path, 0o755)
            except OSError:
                pass
        shutil.rmtree(base, ignore_errors=True)


def test_readonly_install_without_home_falls_back_to_temp_cache(readonly_install):
    env = readonly_install
    proc = env["run"](FIT_SCRIPT.format(root=env["root"]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "no locator" not in proc.stderr
    assert "FIT OK (2,)" in proc.stdout
    cache = [p for p in env["tmpdir"].iterdir() if p.name.startswith("desurv-numba-cache-")]
    assert len(cache) == 1
    assert f"STATE {cache[0]}" in proc.stdout
    assert stat.S_IMODE(cache[0].stat().st_mode) == 0o700
    assert list(cache[0].rglob("*.nbi")), "the kernels were not cached in the fallback folder"


def test_no_writable_folder_runs_uncached_with_one_warning(readonly_install):
    env = readonly_install
    proc = env["run"](UNCACHED_SCRIPT.format(root=env["root"], blocked=env["blocked"]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "WARNINGS 1 ['RuntimeWarning']" in proc.stdout
    assert "STATE uncached" in proc.stdout
    assert "C 1.0" in proc.stdout


# --------------------------------------------------------------------------- unit tests
def test_writable_install_keeps_numba_default_and_does_not_import_numba():
    code = (
        "import sys, desurv._kernels, desurv._numba_cache as nc; "
        "print(nc._state, 'numba' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    state, numba_loaded = proc.stdout.split()
    if os.access(PKG_DIR / "_kernels", os.W_OK):
        assert state == "in-tree"
    assert numba_loaded == "False"  # the check costs no Numba import


def test_numba_cache_dir_is_respected(tmp_path, monkeypatch):
    from desurv import _numba_cache as nc

    monkeypatch.setattr(nc, "_state", None)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "nb"))
    assert nc.configure() == "NUMBA_CACHE_DIR"
    assert nc.configure() == "NUMBA_CACHE_DIR"  # idempotent


def test_fallback_chain_uses_private_temp_folder(tmp_path, monkeypatch):
    from desurv import _numba_cache as nc

    monkeypatch.setattr(nc, "_state", None)
    monkeypatch.setenv("NUMBA_CACHE_DIR", "")  # unset for Numba; restored after the test
    monkeypatch.setattr(nc, "_KERNELS_DIR", "/proc/desurv-not-writable")
    monkeypatch.setattr(nc, "_user_wide_dir", lambda: "/proc/desurv-not-writable-either")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cfg = pytest.importorskip("numba.core.config")
    monkeypatch.setattr(cfg, "CACHE_DIR", cfg.CACHE_DIR)
    state = nc.configure()
    assert Path(state).parent == tmp_path
    assert os.environ["NUMBA_CACHE_DIR"] == state == cfg.CACHE_DIR
    assert stat.S_IMODE(os.stat(state).st_mode) & 0o077 == 0


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership checks")
def test_private_folder_rejects_a_folder_others_can_write(tmp_path, monkeypatch):
    from desurv import _numba_cache as nc

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f"desurv-numba-cache-{os.getuid()}"
    planted.mkdir()
    os.chmod(planted, 0o777)  # e.g. pre-created by another user to plant compiled code
    path = nc._private_dir()
    assert path is not None and Path(path) != planted
    assert Path(path).parent == tmp_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700


def test_private_folder_none_when_temp_is_not_writable(tmp_path, monkeypatch):
    from desurv import _numba_cache as nc

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    monkeypatch.setattr(nc, "_writable", lambda path: False)
    assert nc._private_dir() is None
