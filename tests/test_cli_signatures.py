"""``desurv signatures``: end to end on breast21, output-folder safety, one-line errors."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, require

from desurv.cli import main
from desurv.cli import signatures as cli_sig

MUT = DATA / "mutational"
FAST = ["--restarts", "3", "--max-iter", "3000", "-q"]


def _run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    lines = err.splitlines()
    assert lines and lines[-1].startswith("desurv: error:"), err
    assert all(line.startswith("desurv: warning:") for line in lines[:-1]), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _snapshot(root):
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            snap[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            snap[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return snap


@pytest.fixture(scope="module")
def paths():
    return (
        require(MUT / "breast21_wgs_sbs96.tsv"),
        require(MUT / "cosmic_v3.4_sbs96_grch37.tsv"),
    )


@pytest.fixture(scope="module")
def run(paths, tmp_path_factory):
    """One extraction at k = 3 with COSMIC matching."""
    cat, cosmic = paths
    out = tmp_path_factory.mktemp("sig") / "run"
    code = main(
        [
            str(a)
            for a in [
                "signatures",
                "--catalogue",
                cat,
                "--k",
                3,
                "--cosmic",
                cosmic,
                "--seed",
                1,
                "--out",
                out,
                *FAST,
            ]
        ]
    )
    assert code == 0
    return out


def test_writes_tables_figures_and_a_manifest(run, paths):
    expected = {
        "signatures.tsv",
        "exposures.tsv",
        "stability.tsv",
        "reconstruction.tsv",
        "cosmic_matches.tsv",
        "restarts.tsv",
        "signature_run.json",
        "signature_profiles.png",
        "exposures.png",
    }
    names = {p.name for p in run.iterdir()}
    assert names == expected | {"desurv_run.json"}
    manifest = json.loads((run / "desurv_run.json").read_text())
    assert manifest["format"] == "desurv-run"
    assert set(manifest["files"]) == expected
    assert manifest["command"].startswith("desurv signatures --catalogue")
    assert manifest["signatures"]["n_components"] == 3
    for png in ("signature_profiles.png", "exposures.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sig = pd.read_csv(run / "signatures.tsv", sep="\t", index_col=0)
    assert list(sig.columns) == ["S1", "S2", "S3"]
    np.testing.assert_allclose(sig.sum(axis=0), 1.0, atol=1e-9)
    matches = pd.read_csv(run / "cosmic_matches.tsv", sep="\t")
    assert matches["cosmic"].str.startswith("SBS").all() and matches["cosmic"].is_unique
    exposures = pd.read_csv(run / "exposures.tsv", sep="\t", index_col=0)
    cat = pd.read_csv(paths[0], sep="\t", index_col=0)
    assert list(exposures.index) == list(cat.columns)  # samples, in the file's order


def test_same_as_the_api_with_the_same_seed(run, paths):
    from desurv.datasets import read_catalogue, read_signatures
    from desurv.signatures import extract_signatures

    res = extract_signatures(
        read_catalogue(paths[0]),
        3,
        n_restarts=3,
        reference=read_signatures(paths[1]),
        random_state=1,
        estimator_params={"max_iter": 3000},
    )
    sig = pd.read_csv(run / "signatures.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(sig.to_numpy(), res.signatures.to_numpy(), rtol=1e-8)


def test_prints_a_summary_with_the_cosmic_matches(paths, tmp_path, capsys):
    cat, cosmic = paths
    code, out, err = _run(
        [
            "signatures",
            "--catalogue",
            cat,
            "--k",
            2,
            "--cosmic",
            cosmic,
            "--out",
            tmp_path / "r",
            *FAST,
        ],
        capsys,
    )
    assert code == 0, err
    assert "2 signatures (given)" in out
    assert "cosmic" in out and "COSMIC ACS" in out
    assert f"results written to {tmp_path / 'r'}" in out


def test_rank_selection_by_stability_writes_the_rank_table(paths, tmp_path, capsys):
    cat, _ = paths
    out = tmp_path / "ranked"
    code, stdout, err = _run(
        [
            "signatures",
            "--catalogue",
            cat,
            "--k-range",
            2,
            4,
            "--rank-rule",
            "stability",
            "--consensus",
            "pam",
            "--out",
            out,
            *FAST,
        ],
        capsys,
    )
    assert code == 0, err
    table = pd.read_csv(out / "rank_table.tsv", sep="\t")
    assert table["k"].tolist() == [2, 3, 4] and table["selected"].sum() == 1
    assert (out / "rank_selection.png").is_file()
    assert "selected by stability" in stdout
    meta = json.loads((out / "signature_run.json").read_text())
    assert meta["params"]["consensus"] == "pam" and meta["params"]["rank_rule"] == "stability"


def test_report_renders_a_signatures_folder(run, tmp_path, capsys):
    html_path = tmp_path / "report.html"
    code, out, err = _run(["report", run, "--out", html_path], capsys)
    assert code == 0, err
    page = html_path.read_text()
    for text in (
        "Mutational signatures",
        "Signature profiles",
        "COSMIC matches",
        "Signature stability",
        "Exposures",
        "ACS (mean matched cosine)",
    ):
        assert text in page, text
    assert page.count("<img") >= 2


def test_progress_and_start_line_unless_quiet(paths, tmp_path, capsys):
    cat, _ = paths
    code, _, err = _run(
        ["signatures", "--catalogue", cat, "--k", 2, "--restarts", 2, "--out", tmp_path / "p"],
        capsys,
    )
    assert code == 0
    assert "extracting signatures: 21 samples x 96 channels" in err


# ----------------------------------------------------------------------------- safety
def test_refuses_to_overwrite_and_overwrites_only_its_own_result(run, paths, capsys):
    cat, _ = paths
    before = _snapshot(run)
    code, _, err = _run(["signatures", "--catalogue", cat, "--k", 2, "--out", run, *FAST], capsys)
    _assert_one_line_error(code, err, "exists and is not empty", "--overwrite")
    assert _snapshot(run) == before
    foreign = run.parent / "foreign"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    code, _, err = _run(
        ["signatures", "--catalogue", cat, "--k", 2, "--out", foreign, "--overwrite", *FAST], capsys
    )
    _assert_one_line_error(code, err, "did not write it")
    assert (foreign / "mine.txt").read_text() == "keep"


def test_overwrite_replaces_an_earlier_result(paths, tmp_path, capsys):
    cat, _ = paths
    out = tmp_path / "again"
    argv = ["signatures", "--catalogue", cat, "--k", 2, "--out", out, *FAST]
    assert _run(argv, capsys)[0] == 0
    assert _run([*argv, "--overwrite"], capsys)[0] == 0
    assert not (out / "cosmic_matches.tsv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_out_holding_the_catalogue_is_refused(tmp_path, paths, capsys):
    data = tmp_path / "data"
    data.mkdir()
    cat = data / "cat.tsv"
    cat.write_bytes(paths[0].read_bytes())
    code, _, err = _run(
        ["signatures", "--catalogue", cat, "--k", 2, "--out", tmp_path, "--overwrite", *FAST],
        capsys,
    )
    _assert_one_line_error(code, err, "holds the input")


def test_out_is_checked_before_the_catalogue_is_read(tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "x").write_text("x")
    code, _, err = _run(
        ["signatures", "--catalogue", tmp_path / "missing.tsv", "--k", 2, "--out", out], capsys
    )
    _assert_one_line_error(code, err, "exists and is not empty")


# ----------------------------------------------------------------------------- bad input
def _file_catalogue(paths):
    return pd.read_csv(paths[0], sep="\t", index_col=0)  # channels x samples


def _bad(tmp_path, paths, case):
    cat = _file_catalogue(paths)
    cosmic = paths[1]
    if case == "missing channels":
        cat = cat.drop(index=cat.index[:3])
    elif case == "non-integer counts":
        cat = cat.astype(float)
        cat.iloc[5, 2] = 1.5
    elif case == "negative counts":
        cat.iloc[5, 2] = -3
    elif case == "unknown channel":
        cat = cat.rename(index={cat.index[0]: "N[C>A]A"})
    elif case == "not sbs":
        cat.index = [f"gene{i}" for i in range(len(cat))]
    elif case == "text value":
        cat = cat.astype(object)
        cat.iloc[0, 0] = "many"
    elif case == "empty sample":
        cat.iloc[:, 1] = 0
    elif case == "cosmic channels":
        ref = pd.read_csv(paths[1], sep="\t", index_col=0).iloc[:80]
        cosmic = tmp_path / "cosmic_bad.tsv"
        ref.to_csv(cosmic, sep="\t")
    path = tmp_path / "cat.tsv"
    cat.to_csv(path, sep="\t")
    return path, cosmic


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("missing channels", "lacks 3 of the 96 SBS channels"),
        ("non-integer counts", "non-integer counts"),
        ("negative counts", "negative"),
        ("unknown channel", "N[C>A]A"),
        ("not sbs", "unknown channel label"),
        ("text value", "non-numeric"),
        ("empty sample", "without any mutation"),
        ("cosmic channels", "other channels than the catalogue"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, paths, capsys, case, fragment):
    cat, cosmic = _bad(tmp_path, paths, case)
    out = tmp_path / "out"
    code, _, err = _run(
        ["signatures", "--catalogue", cat, "--cosmic", cosmic, "--k", 2, "--out", out, *FAST],
        capsys,
    )
    _assert_one_line_error(code, err, fragment)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--k", "22"], "--k: k=22 is out of range"),
        (["--k-range", "5", "3"], "KMIN must be <= KMAX"),
        (["--k-range", "2", "23"], "--k-range: k=22, 23 out of range"),
        (["--k", "0"], "expected an integer >= 1"),
        (["--k", "2", "--k-range", "2", "3"], "not allowed with argument"),
        (["--k", "2", "--method", "pca"], "invalid choice"),
        (["--k", "2", "--seed", "-1"], "--seed must be >= 0"),
        (["--k", "2", "--tol", "-1"], "--tol must be >= 0"),
    ],
)
def test_bad_options_are_one_line_exit_2(paths, tmp_path, capsys, extra, fragment):
    out = tmp_path / "out"
    code, _, err = _run(["signatures", "--catalogue", paths[0], "--out", out, *extra, "-q"], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err, err
    assert not out.exists()


def test_k_larger_than_the_reference_is_refused(paths, tmp_path, capsys):
    ref = pd.read_csv(paths[1], sep="\t", index_col=0).iloc[:, :2]
    small = tmp_path / "small.tsv"
    ref.to_csv(small, sep="\t")
    code, _, err = _run(
        [
            "signatures",
            "--catalogue",
            paths[0],
            "--cosmic",
            small,
            "--k",
            3,
            "--out",
            tmp_path / "o",
            "-q",
        ],
        capsys,
    )
    _assert_one_line_error(code, err, "2 reference signatures")


def test_missing_catalogue_file(tmp_path, capsys):
    code, _, err = _run(
        ["signatures", "--catalogue", tmp_path / "nope.tsv", "--k", 2, "--out", tmp_path / "o"],
        capsys,
    )
    _assert_one_line_error(code, err, "not found")


def test_max_iter_warning_speaks_the_command_line(paths, tmp_path, capsys):
    code, _, err = _run(
        [
            "signatures",
            "--catalogue",
            paths[0],
            "--k",
            2,
            "--restarts",
            2,
            "--max-iter",
            2,
            "--out",
            tmp_path / "o",
            "-q",
        ],
        capsys,
    )
    assert code == 0
    assert "desurv: warning: 2 of 2 restart fits stopped at max_iter" in err
    assert "--max-iter" in err and "estimator_params" not in err


def test_choices_agree_with_the_api():
    from desurv.signatures import workflow

    assert cli_sig.METHOD_CHOICES == workflow.METHODS
    assert cli_sig.CONSENSUS_CHOICES == workflow.CONSENSUS
    assert cli_sig.RANK_RULE_CHOICES == workflow.RANK_RULES


def test_help_lists_the_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "signatures" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["signatures", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for opt in ("--catalogue", "--k-range", "--consensus", "--cosmic", "--jobs", "--overwrite"):
        assert opt in text
