"""The README runs as written: every fenced code block is executed or explicitly skipped.

Conventions (the README's side of them is stated in its "Quick start"):

- The README is parsed for fenced blocks (```` ```lang ```` … ```` ``` ````). A block may be
  preceded (blank lines and other HTML comments in between are fine) by one directive:

  - ``<!-- readme-test: skip (reason) -->``: not run; the reason is mandatory and the number
    of skipped blocks is pinned below (installs, the whole test suite, long benchmarks, asv);
  - ``<!-- readme-test: slow -->``: run, but marked ``@pytest.mark.slow``.

- ``python`` blocks are one session: all of them run in document order in one namespace, as
  a reader pasting them into one interpreter would (later examples reuse earlier names).
- ``bash``/``sh`` blocks are shell scripts, each run on its own with ``bash -euo pipefail``;
  ``console`` blocks run their ``$ `` lines the same way. ``desurv`` and ``python`` are those
  of the interpreter running the tests.
- Everything runs in a scratch "repository root" ``tmp/desurv`` with ``examples/`` and
  ``benchmarks/`` linked to the real ones and ``tmp/shared`` linked to the shared data, so
  the README's paths (``../shared/data/...``, ``examples/...``) resolve as from the real
  repository root while every output (``--out`` folders, ``model.npz``, …) lands in tmp.
  Without ``../shared/data`` the tests skip.
"""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import DATA, require

from desurv.exceptions import ConvergenceWarning, DataWarning

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RUN_LANGS = {"python", "bash", "sh", "console"}
#: Blocks the README marks as not runnable here; change it when adding or removing one.
EXPECTED_SKIPPED = 5

_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*readme-test:\s*(\w+)\s*(?:\((.*)\))?\s*-->$")
_COMMENT = re.compile(r"^<!--.*-->$")


def parse_blocks(text):
    """Fenced blocks: dicts with ``lang``, ``code``, ``line`` (1-based line of the fence),
    ``directive`` (None, "skip" or "slow"), ``reason`` and ``section`` (last heading)."""
    blocks, lines = [], text.splitlines()
    section, i = "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            section = line.lstrip("#").strip()
        m = _FENCE.match(line)
        if not m:
            i += 1
            continue
        directive = reason = None
        j = i - 1
        while j >= 0 and (not lines[j].strip() or _COMMENT.match(lines[j].strip())):
            d = _DIRECTIVE.match(lines[j].strip())
            if d:
                if directive is not None:
                    raise ValueError(f"README.md:{i + 1}: two readme-test directives")
                directive, reason = d.group(1), (d.group(2) or "").strip()
            j -= 1
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{i + 1}: unclosed code fence")
        blocks.append(
            {
                "lang": m.group(1).lower(),
                "code": "\n".join(lines[i + 1 : end]) + "\n",
                "line": i + 1,
                "directive": directive,
                "reason": reason,
                "section": section,
            }
        )
        i = end + 1
    return blocks


BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))
SHELL = [b for b in BLOCKS if b["lang"] in RUN_LANGS - {"python"} and b["directive"] != "skip"]
PYTHON = [b for b in BLOCKS if b["lang"] == "python" and b["directive"] != "skip"]


# ----------------------------------------------------------------------------- structure
def test_parser_reads_fences_and_directives():
    text = (
        "# Title\n\n<!-- readme-test: skip (installs) -->\n<!-- ci-test-command -->\n"
        "```bash\npip install .\n```\n<!-- /ci-test-command -->\n## Use\n"
        "<!-- readme-test: slow -->\n\n```python\nx = 1\n# not a heading\n```\n"
        "```text\noutput\n```\n<!-- readme-test: skip -->\n```sh\nls\n```\n"
    )
    a, b, c, d = parse_blocks(text)
    assert (a["lang"], a["directive"], a["reason"], a["section"]) == (
        "bash", "skip", "installs", "Title",
    )  # fmt: skip
    assert (b["lang"], b["directive"], b["code"], b["section"]) == (
        "python", "slow", "x = 1\n# not a heading\n", "Use",
    )  # fmt: skip
    assert c["lang"] == "text" and c["directive"] is None
    assert d["directive"] == "skip" and d["reason"] == ""  # rejected by the test below
    with pytest.raises(ValueError, match="unclosed"):
        parse_blocks("```python\nx = 1\n")


def test_directives_are_known_and_skips_have_reasons():
    for b in BLOCKS:
        where = f"README.md:{b['line']}"
        assert b["directive"] in (None, "skip", "slow"), f"{where}: unknown directive"
        if b["directive"] == "skip":
            assert b["reason"], f"{where}: '<!-- readme-test: skip (reason) -->' needs a reason"
        if b["lang"] not in RUN_LANGS:
            # other fences (text, output) are never run; a directive there is a mistake
            assert b["directive"] is None, f"{where}: directive on a ```{b['lang']} block"
    skipped = [b for b in BLOCKS if b["directive"] == "skip"]
    assert len(skipped) == EXPECTED_SKIPPED, [(b["line"], b["reason"]) for b in skipped]
    assert PYTHON and SHELL  # the README has runnable examples of both kinds


def test_ci_test_command_block_is_intact():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- ci-test-command -->(.*?)<!-- /ci-test-command -->", text, re.S)
    assert m, "the ci-test-command markers are missing"
    first = [ln for ln in m.group(1).splitlines() if ln.startswith("pip install")]
    assert first and first[0].startswith('pip install ".[test]"')


def test_no_pointer_to_files_outside_the_repository():
    text = README.read_text(encoding="utf-8")
    assert "DESIGN.md" not in text  # lives in the steering folder, not in the repository
    for rel in re.findall(r"`((?:examples|benchmarks|desurv|tests)/[\w./-]+\.\w+)", text):
        assert (ROOT / rel).exists() or "*" in rel, f"README points at missing file {rel}"


# ----------------------------------------------------------------------------- running
@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch repository root ``tmp/desurv`` beside ``tmp/shared`` (-> the shared data)."""
    require(DATA / "expression")
    base = tmp_path_factory.mktemp("readme")
    (base / "shared").symlink_to(DATA.parent.resolve(), target_is_directory=True)
    work = base / "desurv"
    work.mkdir()
    for name in ("examples", "benchmarks"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    return work


def _env():
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MPLBACKEND"] = "Agg"
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _shell_script(block):
    if block["lang"] != "console":
        return block["code"]
    return "\n".join(ln[2:] for ln in block["code"].splitlines() if ln.startswith("$ ")) + "\n"


def _param(b):
    marks = [pytest.mark.slow] if b["directive"] == "slow" else []
    slug = re.sub(r"\W+", "-", b["section"].lower()).strip("-")[:40]
    return pytest.param(b, id=f"line{b['line']}-{slug}", marks=marks)


@pytest.mark.parametrize("block", [_param(b) for b in SHELL])
def test_shell_block_runs(block, workspace):
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _shell_script(block)],
        cwd=workspace,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"README.md:{block['line']} ({block['section']}) failed with exit code "
        f"{proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    )


_PYTHON_MARKS = [pytest.mark.slow] if any(b["directive"] == "slow" for b in PYTHON) else []


@pytest.mark.parametrize(
    "blocks", [pytest.param(PYTHON, id="all-python-blocks-in-order", marks=_PYTHON_MARKS)]
)
def test_python_blocks_run_in_one_session(blocks, workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__readme__"}
    for b in blocks:
        code = compile(b["code"], f"README.md:{b['line']}", "exec")
        with warnings.catch_warnings():
            # the examples' short fits may stop at max_iter; anything suspicious about the
            # data (e.g. model genes filled in) must not happen in the README's examples
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("error", DataWarning)
            try:
                exec(code, namespace)
            except Exception as exc:
                raise AssertionError(
                    f"README.md:{b['line']} ({b['section']}): {type(exc).__name__}: {exc}"
                ) from exc
