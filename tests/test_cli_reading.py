"""The command line's expression reader (:mod:`desurv.cli._reading`, issue 16 target 4).

Checked here: pyarrow's and pandas' C parser give identical DataFrames on every plain file
(and the fast path is really taken: the library reader is switched off in those tests); the
values are the correctly rounded doubles of the cells' text (Python's ``float``), and equal
the library reader's (:func:`desurv.datasets.read_expression`) for up to 15 significant
digits; files outside the plain layout give exactly the library reader's result or error
(message included) with either parser; :func:`load_cohort` equals
:func:`desurv.datasets.load_cohort`.
"""

import gzip
import os
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal

import desurv.datasets.readers as library
from desurv.cli import _reading
from desurv.cli._reading import load_cohort, read_expression
from desurv.datasets import load_cohort as library_load_cohort

try:
    import pyarrow  # noqa: F401

    HAVE_PYARROW = _reading._pyarrow_csv() is not None
except ImportError:
    HAVE_PYARROW = False

needs_pyarrow = pytest.mark.skipif(not HAVE_PYARROW, reason="pyarrow >= 14 is not installed")
ENGINES = [pytest.param("pyarrow", marks=needs_pyarrow), "c"]


def _text(cells, genes=None, samples=None, header_first="gene", newline="\n"):
    """A genes x samples TSV from a 2-D list of cell strings."""
    n_genes, n_samples = len(cells), len(cells[0])
    genes = genes or [f"G{i}" for i in range(n_genes)]
    samples = samples or [f"S{j}" for j in range(n_samples)]
    lines = ["\t".join([header_first, *samples])]
    lines += ["\t".join([g, *row]) for g, row in zip(genes, cells, strict=True)]
    return newline.join(lines) + newline


def _write(path, text):
    if str(path).endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_bytes(text.encode())
    return path


def _random_cells(fmt, n_genes=30, n_samples=7, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0.0, 2.0, size=(n_genes, n_samples))
    return [[fmt(v) for v in row] for row in values]


@pytest.fixture
def no_library_reader(monkeypatch):
    """The fast path must read the file: the library reader fails the test if called."""

    def fail(path):
        raise AssertionError(f"the library reader was used for {path}")

    monkeypatch.setattr(library, "read_expression", fail)


# ----------------------------------------------------------------------------- plain files
PLAIN = {
    "full_precision": lambda: _text(_random_cells(lambda v: repr(float(v)))),
    "six_digits": lambda: _text(_random_cells(lambda v: f"{v:.6g}")),
    "counts": lambda: _text(_random_cells(lambda v: str(int(v * 100)))),
    "exponents_signs_dots": lambda: _text(
        [["+1.5", ".5", "5.", "1e5", "1E-05", "-0", "00012", "3.25e+2"]] * 3
    ),
    "quoted_names_and_values": lambda: _text(
        [['"1.5"', "2"], ["3", '"4.25"']], genes=['"TP53"', "BRCA1"]
    ),
    "windows_line_ends": lambda: _text(
        _random_cells(lambda v: repr(float(v)), 5, 4), newline="\r\n"
    ),
    "unicode_and_na_like_gene_names": lambda: _text(
        [["1", "2"], ["3", "4"], ["5", "6"]], genes=["Ärger-1", "NA", "None"]
    ),
    "blank_lines_between_rows": lambda: _text([["1", "2"], ["3", "4"]]).replace("\nG1", "\n\nG1"),
    "no_final_newline": lambda: _text([["1", "2"], ["3", "4"]]).rstrip("\n"),
}


@pytest.mark.parametrize("suffix", [".tsv", ".tsv.gz"])
@pytest.mark.parametrize("case", sorted(PLAIN))
@needs_pyarrow
def test_both_parsers_give_identical_frames(tmp_path, case, suffix, no_library_reader):
    path = _write(tmp_path / f"e{suffix}", PLAIN[case]())
    a = read_expression(path, engine="pyarrow")
    b = read_expression(path, engine="c")
    assert_frame_equal(a, b, check_exact=True)
    assert a.index.dtype == b.index.dtype and a.columns.dtype == b.columns.dtype
    assert a.to_numpy().flags.c_contiguous and b.to_numpy().flags.c_contiguous
    assert a.index.name == "sample" and a.columns.name == "gene"
    assert all(a.dtypes == np.float64)


@pytest.mark.parametrize("engine", ENGINES)
def test_values_are_the_correctly_rounded_doubles_of_the_text(tmp_path, engine):
    # up to 20 significant digits and leading zeros: pandas' default parser (used by the
    # library reader) truncates after 17 digits, e.g. 0.000256813042479154
    cells = [
        ["0.000256813042479154", "4.4442362113831875", "0.100000000000000014"],
        ["1.00000000000000022", "123456789.123456789", "9007199254740993"],
        ["2.2250738585072014e-308", "1.7976931348623157e308", "0.1"],
    ]
    path = _write(tmp_path / "e.tsv", _text(cells))
    X = read_expression(path, engine=engine)
    expected = np.array([[float(c) for c in row] for row in cells]).T
    assert_array_equal(X.to_numpy(), expected)
    # the library reader re-reads what pandas.to_numeric accepted: the same doubles
    assert_frame_equal(library.read_expression(path), X, check_exact=True)
    zero = read_expression(_write(tmp_path / "z.tsv", _text([["-0", "0"]])), engine=engine)
    assert_array_equal(np.signbit(zero.to_numpy()), [[True], [False]])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", ["%.6g", "%.10f", "%.12g", "%.14e", "%.17g", "%.16e"])
def test_same_frame_as_the_library_reader(tmp_path, engine, fmt):
    # full precision included (17 digits, repr): the library reader is exact too
    path = _write(tmp_path / "e.tsv", _text(_random_cells(lambda v: fmt % v, seed=3)))
    ours = read_expression(path, engine=engine)
    assert_frame_equal(ours, library.read_expression(path), check_exact=True)


# ----------------------------------------------------------------------------- other files
GOOD = [["1.5", "2.5", "3.5"], ["4.5", "5.5", "6.5"]]


def _with(row, col, value):
    cells = [list(r) for r in GOOD]
    cells[row][col] = value
    return cells


# files outside the plain layout: the library reader's result or error, whatever the parser
OTHER = {
    "non_numeric_cell": lambda: _text(_with(1, 2, "high")),
    "boolean_word": lambda: _text(_with(0, 1, "TRUE")),
    "boolean_word_mixed_case": lambda: _text(_with(0, 1, "tRuE")),
    "false_word": lambda: _text(_with(1, 0, "false")),
    "overflow": lambda: _text(_with(0, 0, "1e400")),
    "infinity": lambda: _text(_with(0, 0, "inf")),
    "missing_na": lambda: _text(_with(0, 0, "NA")),
    "missing_empty": lambda: _text(_with(1, 2, "")),
    "missing_padded": lambda: _text(_with(1, 1, " NA ")),
    "missing_words": lambda: _text([["null", "NaN", "missing"], ["N/A", "None", "n/a"]]),
    "padded_number": lambda: _text(_with(1, 1, " 2.5 ")),
    "underscore_number": lambda: _text(_with(0, 2, "1_000")),
    "duplicate_gene": lambda: _text(GOOD, genes=["G0", "G0"]),
    "duplicate_sample": lambda: _text(GOOD, samples=["S0", "S1", "S0"]),
    "empty_gene_name": lambda: _text(GOOD, genes=["G0", " "]),
    "short_row": lambda: _text(GOOD) + "G9\t1\n",
    "long_row": lambda: _text(GOOD) + "G9\t1\t2\t3\t4\n",
    "long_first_row": lambda: "gene\tS0\tS1\nG0\t1\t2\t3\nG1\t4\t5\t6\n",
    "header_only": lambda: "gene\tS0\tS1\n",
    "no_sample_column": lambda: "gene\nG0\nG1\n",
    "empty": lambda: "",
    "blank_line_before_header": lambda: "\n" + _text(GOOD),
    "numeric_header_after_blank_line": lambda: "\n" + _text(GOOD, samples=["1", "2", "3"]),
    "quoted_header": lambda: _text(GOOD, samples=['"S0"', "S1", "S2"]),
    "padded_header": lambda: _text(GOOD, samples=[" S0", "S1 ", "S2"]),
    "comma_separated": lambda: _text(GOOD).replace("\t", ","),
    "quote_inside_gene": lambda: _text(GOOD, genes=['TP"53', "G1"]),
    "bom": lambda: "\ufeff" + _text(GOOD),
    "trailing_tab_every_line": lambda: "".join(f"{ln}\t\n" for ln in _text(GOOD).splitlines()),
    "trailing_tab_header_only": lambda: _text(GOOD).replace("\n", "\t\n", 1),
}


def _outcome(read, path):
    try:
        return "frame", read(path)
    except ValueError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(OTHER))
def test_other_files_read_or_fail_as_the_library_reader(tmp_path, engine, case):
    path = _write(tmp_path / "e.tsv", OTHER[case]())
    expected = _outcome(library.read_expression, path)
    got = _outcome(lambda p: read_expression(p, engine=engine), path)
    assert got[0] == expected[0], (got, expected)
    if got[0] == "error":
        assert got[1] == expected[1]
    else:
        assert_frame_equal(got[1], expected[1], check_exact=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_files_folders_and_compressions_as_the_library(tmp_path, engine):
    import bz2

    text = _text(GOOD)
    (tmp_path / "e.tsv.bz2").write_bytes(bz2.compress(text.encode()))  # library reader only
    (tmp_path / "bad.tsv.gz").write_bytes(b"\x1f\x8b\x08not really gzip")
    (tmp_path / "garbage.tsv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "latin1.tsv").write_bytes(text.replace("G0", "Gène").encode("latin-1"))
    os.mkfifo(tmp_path / "pipe.tsv")  # like <(zcat f.gz): refused before it is opened
    names = ("e.tsv.bz2", "bad.tsv.gz", "garbage.tsv", "latin1.tsv", "nope.tsv", ".", "pipe.tsv")
    for name in names:
        path = tmp_path / name
        expected = _outcome(library.read_expression, path)
        got = _outcome(lambda p: read_expression(p, engine=engine), path)
        assert got[0] == expected[0], name
        if got[0] == "error":
            assert got[1] == expected[1], name
        else:
            assert_frame_equal(got[1], expected[1], check_exact=True)
    assert "no such file" in _outcome(library.read_expression, tmp_path / "nope.tsv")[1]
    assert "not a regular file" in _outcome(library.read_expression, tmp_path / "pipe.tsv")[1]


def test_engine_selection(monkeypatch, tmp_path):
    path = _write(tmp_path / "e.tsv", _text(GOOD))
    with pytest.raises(ValueError, match="engine must be one of"):
        read_expression(path, engine="fast")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    assert _reading.available_engine() == "c"
    with pytest.raises(ValueError, match=r"desurv\[fast\]"):
        read_expression(path, engine="pyarrow")
    assert_frame_equal(read_expression(path), library.read_expression(path), check_exact=True)


# ----------------------------------------------------------------------------- cohorts
def _cohort(tmp_path, *, events=(1, 0, 1), clinical_samples=("S0", "S1", "S2")):
    tmp_path.mkdir(exist_ok=True)
    expr = _write(tmp_path / "e.tsv", _text(GOOD))
    clin = tmp_path / "c.tsv"
    rows = [
        f"{s}\t{t}\t{e}\tx{i}"
        for i, (s, t, e) in enumerate(
            zip(clinical_samples, (3.5, 1.25, 2.0, 4.0), events, strict=False)
        )
    ]
    clin.write_text("sample\ttime\tevent\tgroup\n" + "\n".join(reversed(rows)) + "\n")
    return expr, clin


@pytest.mark.parametrize("engine", ENGINES)
def test_load_cohort_is_the_library_load_cohort(tmp_path, engine):
    expr, clin = _cohort(tmp_path)
    ours = load_cohort(expr, clin, engine=engine)
    theirs = library_load_cohort(expr, clin)
    assert_frame_equal(ours[0], theirs[0], check_exact=True)
    assert ours[1].dtype == theirs[1].dtype
    assert_array_equal(ours[1], theirs[1])
    assert_frame_equal(ours[2], theirs[2], check_exact=True)
    # a cohort without events, read anyway
    expr, clin = _cohort(tmp_path / "noev", events=(0, 0, 0))
    ours = load_cohort(expr, clin, require_event=False, engine=engine)
    theirs = library_load_cohort(expr, clin, require_event=False)
    assert_array_equal(ours[1], theirs[1])
    for kwargs in ({}, {"require_event": True}):
        with pytest.raises(ValueError) as a:
            load_cohort(expr, clin, engine=engine, **kwargs)
        with pytest.raises(ValueError) as b:
            library_load_cohort(expr, clin, **kwargs)
        assert str(a.value) == str(b.value)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "samples", [("S0", "S1"), ("S0", "S1", "S2", "S3"), ("S0", "S1", "X2")], ids=str
)
def test_load_cohort_errors_are_the_library_errors(tmp_path, engine, samples):
    expr, clin = _cohort(tmp_path, clinical_samples=samples, events=(1, 0, 1, 1)[: len(samples)])
    with pytest.raises(ValueError) as ours:
        load_cohort(expr, clin, engine=engine)
    with pytest.raises(ValueError) as theirs:
        library_load_cohort(expr, clin)
    assert str(ours.value) == str(theirs.value)
    assert "samples differ" in str(ours.value)


def test_an_empty_sample_name_is_one_clear_error(tmp_path):
    """A tab at the end of every line (spreadsheet exports) is not a sample named ''."""
    path = _write(tmp_path / "e.tsv", OTHER["trailing_tab_every_line"]())
    with pytest.raises(ValueError, match=r"empty sample name in its header \(column 5\)"):
        library.read_expression(path)
