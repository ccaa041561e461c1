"""``desurv bench``: the command line over the benchmark runner, and ``desurv report`` of it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from desurv.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bench_list_names_methods_data_and_metrics(capsys):
    code, out, err = _run(capsys, "bench", "--list")
    assert code == 0 and err == ""
    for name in ("nmf-frobenius", "nmf-kl", "nmf-cd", "desurv", "coxnet", "synsig:FOLDER"):
        assert name in out
    assert "signature_cosine" in out and "harrell_c" in out


def test_bench_writes_results_summary_plots_and_a_report(tmp_path, capsys):
    out_dir = tmp_path / "bench"
    params = json.dumps({"sklearn-nmf": {"max_iter": 50}, "nmf-frobenius": {"max_iter": 50}})
    code, out, err = _run(
        capsys,
        "bench",
        "--methods",
        "sklearn-nmf,nmf-frobenius",
        "--data",
        "mutsim",
        "--seeds",
        "2",
        "--params",
        params,
        "--out",
        str(out_dir),
        "--quiet",
    )
    assert code == 0, err
    assert "median per method and metric" in out
    results = pd.read_csv(out_dir / "results.csv")
    assert set(results["method"]) == {"sklearn-nmf", "nmf-frobenius"}
    assert set(results["seed"].dropna().astype(int)) == {0, 1}
    cos = results[results["metric"] == "signature_cosine"]["value"]
    assert len(cos) == 4 and cos.between(0, 1).all()
    summary = pd.read_csv(out_dir / "summary.csv")
    assert {"median", "q25", "q75"} <= set(summary.columns)
    assert (out_dir / "metric_signature_cosine.png").stat().st_size > 1000
    assert (out_dir / "desurv_run.json").is_file()
    # the run folder renders as one HTML page
    code, out, err = _run(capsys, "report", str(out_dir))
    assert code == 0, err
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "signature_cosine" in html and "<img" in html


def test_bench_refuses_a_foreign_output_folder_before_any_fit(tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "taken"
    out_dir.mkdir()
    (out_dir / "mine.txt").write_text("keep me")

    def boom(*args, **kwargs):  # pragma: no cover - must not run
        raise AssertionError("run_benchmark started before --out was checked")

    monkeypatch.setattr("desurv.benchmark.run_benchmark", boom)
    code, out, err = _run(
        capsys, "bench", "--methods", "sklearn-nmf", "--data", "mutsim", "--out", str(out_dir)
    )
    assert code == 2
    assert err.startswith("desurv: error:") and len(err.strip().splitlines()) == 1
    assert (out_dir / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "no-such-method", "--data", "mutsim"], "no-such-method"),
        (["--methods", "sklearn-nmf", "--data", "no-such-data"], "no-such-data"),
        (["--methods", "sklearn-nmf", "--data", "mutsim", "--params", "{oops"], "--params"),
        (["--methods", "sklearn-nmf", "--data", "mutsim", "--params", "[1]"], "--params"),
        (["--methods", "", "--data", "mutsim"], "--methods is empty"),
        (["--methods", "sklearn-nmf"], "--data"),
        (["--methods", "nmf-kl", "--data", "mutsim", "--params", "nofile.json"], "not found"),
        (["--methods", "NMF-KL", "--data", "mutsim"], "did you mean 'nmf-kl'"),
        (["--methods", "nmf-kl", "--data", "mutsim", "--metrics", "cosmic_cosine"], "--reference"),
        (
            ["--methods", "nmf-kl", "--data", "mutsim", "--params", '{"nmf-kl": {"maxiter": 5}}'],
            "did you mean 'max_iter'",
        ),
        (
            ["--methods", "nmf-kl", "--data", "mutsim", "--params", '{"nmf-kl": {"solver": "cd"}}'],
            "use solver='mu'",
        ),
    ],
)
def test_bench_bad_arguments_are_one_line_errors(tmp_path, capsys, argv, message):
    code, out, err = _run(capsys, "bench", *argv, "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.startswith("desurv: error:") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_bench_errors_speak_in_options_not_python(tmp_path, capsys):
    catalogue = tmp_path / "counts.tsv"
    catalogue.write_text("channel\ts1\ts2\nA[C>A]A\t1\t2\nA[C>A]C\t3\t4\n")
    code, out, err = _run(
        capsys,
        "bench",
        "--methods",
        "nmf-kl",
        "--data",
        f"catalogue:{catalogue}",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and '--params \'{"nmf-kl": {"n_components": K}}\'' in err
    code, out, err = _run(
        capsys,
        "bench",
        "--methods",
        "nmf-kl",
        "--data",
        f"synsig:{catalogue}",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "catalogue:FILE.tsv" in err


def test_bench_without_out_says_so(capsys):
    code, out, err = _run(capsys, "bench", "--methods", "sklearn-nmf", "--data", "mutsim")
    assert code == 2 and "--out DIR is required" in err


def test_list_into_a_closed_pipe_is_not_an_error(tmp_path):
    import subprocess
    import sys

    code = "from desurv.cli import main; import sys; sys.exit(main(['bench', '--list']))"
    proc = subprocess.run(
        f'"{sys.executable}" -c "{code}" | head -n 1',
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,  # not the repository: `-c` puts the cwd first on sys.path
    )
    assert proc.stdout.strip() == "methods:", proc.stderr
    assert "error" not in proc.stderr


def test_bench_hide_labels_reaches_the_runner(tmp_path, capsys):
    out_dir = tmp_path / "hidden"
    params = json.dumps({"cox-mt": {"hidden_layer_sizes": [8], "max_epochs": 3}})
    code, out, err = _run(
        capsys,
        "bench",
        "--methods",
        "cox-mt",
        "--data",
        "desurv-sim",
        "--metrics",
        "harrell_c",
        "--params",
        params,
        "--hide-labels",
        "0.5",
        "--out",
        str(out_dir),
        "--quiet",
    )
    assert code == 0, err
    results = pd.read_csv(out_dir / "results.csv")
    assert results["value"].notna().all() and set(results["method"]) == {"cox-mt"}
    code, out, err = _run(
        capsys, "bench", "--methods", "cox-mt", "--data", "desurv-sim", "--hide-labels", "1.5",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert code == 2 and "--hide-labels" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
