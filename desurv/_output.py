"""Output folders of the command line: checked before any work, written safely.

Rules (every command that writes: ``fit``, ``predict``, ``cv``, ``validate``, ``report``):

* ``--out`` is checked before any data is read or any model fitted, and checked again just
  before the results are moved into place.
* ``--out`` must be a new folder or an empty one. An existing non-empty folder is replaced
  only with ``--overwrite`` and only when desurv wrote it: it holds the run manifest
  ``desurv_run.json`` (format, format version, desurv version, command, creation time and
  the files written) and no file that the manifest does not list.
* desurv never replaces ``.``, the working directory or any folder above it, the home
  folder or a folder above it, ``/``, or a folder that holds (at any depth) an input file of
  the command (``--expression``, ``--clinical``, ``--model``, ``--intersect-with``).
* ``--out`` that is an existing file or a symbolic link is refused, and so is an ``--out``
  that cannot be created: its nearest existing ancestor must be a folder in which a folder
  can be created (probed by creating and removing a temporary folder there).
* Results are written to a hidden staging folder ``.NAME.partial-XXXX`` beside ``--out``
  that becomes ``--out`` by a rename only when complete; it is removed on every failure
  (errors, Ctrl-C: the interrupt is deferred while the folders are swapped or the staging
  folder is removed). A previous result is moved aside first and put back if the rename
  fails, so a failed run never loses the old result.
* Folders and files get the permissions the user's umask gives (``0o777 & ~umask`` and
  ``0o666 & ~umask``), not the private ``0o700``/``0o600`` of temporary files.

Every refusal is an :class:`OutputError` (one line; the CLI prints ``desurv: error: ...``
and exits with code 2). Only the standard library is imported here, so the checks cost
nothing before a long fit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time as _time
from pathlib import Path

MANIFEST = "desurv_run.json"
MANIFEST_FORMAT = "desurv-run"
MANIFEST_VERSION = 1
REPORT_MARKER = "desurv report"  # page header written by desurv.reporting.html.write_report


class OutputError(Exception):
    """An output path that desurv refuses (reported as one line, exit code 2)."""


# ----------------------------------------------------------------------------- helpers
def current_umask() -> int:
    """The process umask (read from ``/proc`` where possible, else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str, prefix: str, suffix: str = "") -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in its folder, renamed
    over ``path`` at the end; the file gets the mode open() would give (0666 & ~umask)."""
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=Path(path).parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # mkstemp creates the file 0600
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _resolved(path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(path)))).resolve()


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _forbidden_reason(target: Path, inputs) -> str | None:
    """Why ``target`` (resolved) may never be replaced, or None."""
    if target == Path(target.anchor):
        return "is the root folder"
    cwd = Path.cwd().resolve()
    if target == cwd:
        return "is the current working directory"
    if target in cwd.parents:
        return "is a parent of the current working directory"
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError, OSError):
        home = None
    if home is not None and _is_within(home, target):
        return "is your home folder" if target == home else "is a parent of your home folder"
    for given in inputs:
        if given is None:
            continue
        path = _resolved(given)
        if _is_within(path, target) and path != target:
            return f"holds the input {given}"
        if path == target:
            return f"is the input {given}"
    return None


def read_json_file(path: Path):
    """The JSON content of ``path`` if it is a regular file (not a link) that parses, else
    None: desurv reads its own files this way and treats anything else as foreign."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_manifest(folder: Path) -> dict | None:
    """The run manifest of ``folder`` if it is a valid desurv manifest, else None."""
    data = read_json_file(Path(folder) / MANIFEST)
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    return data


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _fmt_names(names, limit=5):
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


# ----------------------------------------------------------------------------- checks
def _absolute_path(out, option, kind, refusal):
    """``(str(out), absolute path of out)``; refuses ``out`` itself being a symbolic link.

    ``kind`` ("folder"/"file") and ``refusal`` (what desurv does not do) word the message.
    """
    given = str(out)
    path = Path(os.path.abspath(os.path.expanduser(given)))
    if path.is_symlink():
        raise OutputError(
            f"{option} {given} is a symbolic link; give the path of a real {kind} "
            f"(desurv does not {refusal})"
        )
    return given, path


def check_output_folder(out, *, overwrite=False, inputs=(), option="--out") -> Path:
    """Refuse an output folder that desurv must not create or replace.

    Returns ``out`` as an absolute path (symbolic links in its parents resolved). Raises
    :class:`OutputError` with a one-line message; nothing on disk is touched.
    """
    given, path = _absolute_path(out, option, "folder", "write through or replace links")
    target = path.resolve()
    reason = _forbidden_reason(target, inputs)
    if reason is not None:
        raise OutputError(
            f"{option} {given} {reason}; desurv never writes its results over it "
            f"(choose a new folder, e.g. {option} results)"
        )
    if not target.exists():
        _check_creatable(target, given, option)
        return target
    if not target.is_dir():
        raise OutputError(
            f"{option} {given} is an existing file, not a folder; choose a new folder name"
        )
    try:
        names = _listing(target)
    except OSError as exc:
        raise OutputError(f"cannot read {option} {given}: {exc.strerror or exc}") from None
    if not names:
        _check_creatable(target, given, option)  # the staging folder goes beside it
        return target
    if not overwrite:
        raise OutputError(
            f"output folder {given} exists and is not empty (add --overwrite to replace the "
            "result of an earlier desurv run, or choose a new folder)"
        )
    manifest = read_manifest(target)
    if manifest is None:
        raise OutputError(
            f"--overwrite refuses to replace {given}: it has no {MANIFEST}, so desurv did not "
            "write it (remove it yourself or choose a new folder)"
        )
    listed = set(manifest.get("files") or ()) | {MANIFEST}
    extra = [n for n in names if n not in listed]
    if extra:
        raise OutputError(
            f"--overwrite refuses to replace {given}: it holds files desurv did not write "
            f"({_fmt_names(extra)}); move them away or choose a new folder"
        )
    _check_creatable(target, given, option)
    return target


def _check_creatable(target: Path, given: str, option: str) -> None:
    """Refuse a new ``target`` that cannot be created: its nearest existing ancestor must be
    a folder in which desurv can create (and remove) a folder."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"cannot write {option} {given}: {ancestor} is a file, not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".desurv-probe-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise OutputError(
            f"cannot write {option} {given}: {reason} (cannot create a folder in {ancestor})"
        ) from None


def check_output_file(out, *, overwrite=False, default_name="report.html", option="--out"):
    """Check the output file of ``desurv report``; returns the file that will be written.

    An existing folder receives ``default_name``. An existing file is replaced only with
    ``--overwrite`` and only when it is a report that desurv wrote.
    """
    given, path = _absolute_path(out, option, "file", "write through links")
    if path.is_dir():
        path = path / default_name
        given = str(Path(given) / default_name)
        if path.is_symlink():
            raise OutputError(f"{given} is a symbolic link; desurv does not write through it")
        if path.is_dir():
            raise OutputError(f"{given} is a folder; give the path of a file")
    if path.exists():
        if not overwrite:
            raise OutputError(
                f"{given} exists (add --overwrite to replace a report desurv wrote, or "
                f"choose another {option})"
            )
        if not _is_desurv_report(path):
            raise OutputError(
                f"--overwrite refuses to replace {given}: it is not a report written by desurv"
            )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"cannot write {given}: {parent} is a file, not a folder")
    return path


def _is_desurv_report(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().lower().startswith("<!doctype html") and " by desurv " in head


# ----------------------------------------------------------------------------- writing
@contextlib.contextmanager
def deferred_interrupt():
    """Hold back Ctrl-C (SIGINT) while the block runs; raise it afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    except (ValueError, OSError):  # not allowed here: run the block unprotected
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def apply_umask(folder: Path, mask: int | None = None) -> None:
    """Give ``folder`` and everything in it the modes a plain ``mkdir``/``open`` would."""
    mask = current_umask() if mask is None else mask
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, 0o777 & ~mask)
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, 0o666 & ~mask)


def write_manifest(folder: Path, command: str | None, extra: dict | None = None) -> dict:
    """Write ``desurv_run.json`` into ``folder``, listing the files it holds."""
    from desurv import __version__

    data = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_VERSION,
        "desurv_version": __version__,
        "command": command,
        "created": _time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": [n for n in _listing(folder) if n != MANIFEST],
    }
    if extra:
        data.update(extra)
    (Path(folder) / MANIFEST).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data


def record_file(folder: Path, name: str) -> bool:
    """Add ``name`` to the manifest of a desurv run folder (e.g. its report.html)."""
    folder = Path(folder)
    data = read_manifest(folder)
    if data is None:
        return False
    files = list(data.get("files") or [])
    if name in files:
        return True
    data["files"] = sorted([*files, name])
    write_text_atomic(folder / MANIFEST, json.dumps(data, indent=1) + "\n", f".{MANIFEST}.")
    return True


def _user_message(exc: OSError, given: str, option: str) -> str:
    reason = exc.strerror or exc.__class__.__name__
    return f"cannot write {option} {given}: {reason}"


def _remove(path: Path) -> None:
    with deferred_interrupt():
        shutil.rmtree(path, ignore_errors=True)


def _swap(tmp: Path, target: Path, given: str, overwrite: bool, inputs, option: str) -> None:
    """Move the complete ``tmp`` to ``target``; a previous ``target`` is moved aside first."""
    check_output_folder(given, overwrite=overwrite, inputs=inputs, option=option)
    aside = None
    with deferred_interrupt():
        if target.exists():
            aside = target.parent / f".{target.name}.old-{os.getpid()}-{tmp.name[-8:]}"
            os.rename(target, aside)
        try:
            os.rename(tmp, target)
        except BaseException:
            if aside is not None:
                os.rename(aside, target)
            raise
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staged_output(out, *, overwrite=False, inputs=(), command=None, option="--out", extra=None):
    """Yield an empty staging folder that becomes ``out`` only if the block succeeds.

    ``out`` is checked first (:func:`check_output_folder`). After the block the run manifest
    is written, the modes are set from the umask, and the staging folder is renamed to
    ``out`` (a previous desurv result there is replaced). On any failure the staging folder
    is removed and ``out`` is left as it was. OS errors name ``out``, never the staging
    folder.
    """
    given = str(out)
    target = check_output_folder(out, overwrite=overwrite, inputs=inputs, option=option)
    mask = current_umask()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as exc:
        raise OutputError(_user_message(exc, given, option)) from None
    try:
        os.chmod(tmp, 0o777 & ~mask)
        yield tmp
        write_manifest(tmp, command, extra)
        apply_umask(tmp, mask)
        _swap(tmp, target, given, overwrite, inputs, option)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(_user_message(exc, given, option)) from None
    except BaseException:
        _remove(tmp)
        raise
