"""Tests for desurv.datasets: the simulation and the file readers."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desurv.datasets import (
    SIMULATION_SCENARIOS,
    SimulatedData,
    load_cohort,
    read_clinical,
    read_expression,
    simulate_desurv,
)
from desurv.survival.concordance import concordance_index

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "expression"

SMALL = dict(n_samples=60, n_genes=400, n_markers=30, n_background=80)


# ----------------------------------------------------------------------------- simulation
@pytest.fixture(scope="module")
def sim_r0():
    return simulate_desurv(random_state=0)


def test_simulation_defaults_are_paper_r0(sim_r0):
    sim = sim_r0
    assert isinstance(sim, SimulatedData)
    assert sim.X.shape == (200, 3000)
    assert sim.W.shape == (3000, 3) and sim.H.shape == (3, 200)
    np.testing.assert_array_equal(sim.beta, [2.0, 0.0, 0.0])
    p = sim.params
    assert (p["n_markers"], p["n_background"], p["noise_sd"]) == (150, 500, 0.01)
    assert (p["baseline_hazard"], p["censor_rate"]) == (0.05, 0.02)
    assert p["marker_gamma"] == [3.0, 0.8] and p["background_gamma"] == [2.0, 1.0]
    assert p["gene_baseline"] == [3.0, 1.0]  # simulate_X.R: N(3, 1) per gene
    for key, value in SIMULATION_SCENARIOS["R0"].items():
        expected = list(value) if isinstance(value, tuple) else value
        assert p[key] == expected, key


def test_simulation_structure(sim_r0):
    sim = sim_r0
    X = sim.X
    assert list(X.columns[:3]) == ["g1", "g2", "g3"] and list(X.index[:2]) == ["s1", "s2"]
    assert X.dtypes.eq(np.float64).all()
    assert (X.to_numpy() >= 0).all() and (sim.W >= 0).all() and (sim.H > 0).all()
    np.testing.assert_allclose(np.linalg.norm(sim.W, axis=0), 1.0)
    assert sim.y.dtype.names == ("event", "time")
    assert (sim.time > 0).all() and sim.event.dtype == bool
    # marker sets: disjoint, right size, each marker loads most on its own program
    allm = np.concatenate(list(sim.marker_genes.values()))
    assert len(sim.marker_genes) == 3 and allm.size == np.unique(allm).size == 450
    for f, idx in sim.marker_genes.items():
        assert idx.size == 150
        assert (sim.W[idx].argmax(axis=1) == f).mean() > 0.99
        np.testing.assert_array_equal(sim.survival_genes[f], idx)
    assert sim.background_genes.size == 500
    assert sim.noise_genes.size == 3000 - 500 - 450
    parts = np.concatenate([allm, sim.background_genes, sim.noise_genes])
    np.testing.assert_array_equal(np.sort(parts), np.arange(3000))
    # noiseless part of X is W H plus the per-gene baseline (noise_sd = 0.01)
    expected = np.maximum(sim.W @ sim.H + sim.gene_baseline[:, None], 0.0)
    assert np.abs(X.to_numpy().T - expected).max() < 0.1


def test_simulation_survival_is_driven_by_factor1(sim_r0):
    sim = sim_r0
    # scores are standardised projections on the masked programs
    np.testing.assert_allclose(sim.scores.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(sim.scores.std(axis=0, ddof=1), 1.0)
    proj = (sim.W @ sim.H).T @ sim.W_survival
    np.testing.assert_allclose(np.corrcoef(proj[:, 0], sim.scores[:, 0])[0, 1], 1.0)
    np.testing.assert_allclose(sim.linear_predictor, sim.scores @ sim.beta)
    c_true = concordance_index(sim.time, sim.event, sim.linear_predictor)
    c_null = concordance_index(sim.time, sim.event, sim.scores[:, 1])
    assert c_true > 0.75 and abs(c_null - 0.5) < 0.1
    # censoring rate 0.02 vs hazard 0.05 e^eta: most samples have an event
    assert 0.5 < sim.event.mean() < 0.95


def test_simulation_deterministic():
    a = simulate_desurv(**SMALL, random_state=42)
    b = simulate_desurv(**SMALL, random_state=42)
    c = simulate_desurv(**SMALL, random_state=43)
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.W, b.W)
    for f in a.marker_genes:
        np.testing.assert_array_equal(a.marker_genes[f], b.marker_genes[f])
    assert not np.array_equal(a.X.to_numpy(), c.X.to_numpy())
    gen = np.random.default_rng(42)
    assert simulate_desurv(**SMALL, random_state=gen).X.shape == (60, 400)


def test_gene_baseline_is_per_gene_and_constant_across_samples():
    # with no noise, X - W H is the baseline: one value per gene, the same in every sample,
    # up to the clipping at 0 (applied to W H + b, before which nothing else is added)
    sim = simulate_desurv(n_genes=2000, n_background=300, noise_sd=0.0, random_state=5)
    X = sim.X.to_numpy().T  # genes x samples
    WH = sim.W @ sim.H
    b = sim.gene_baseline
    assert b.shape == (2000,)
    np.testing.assert_allclose(X, np.maximum(WH + b[:, None], 0.0), rtol=0, atol=1e-12)
    unclipped = (X > 0).all(axis=1)
    assert unclipped.mean() > 0.99  # b ~ N(3, 1): only genes with b < -WH are clipped
    diff = X[unclipped] - WH[unclipped]
    np.testing.assert_allclose(diff.std(axis=1), 0.0, atol=1e-12)  # constant along samples
    np.testing.assert_allclose(diff[:, 0], b[unclipped], atol=1e-12)
    # N(3, 1) over genes (2000 draws: se of the mean 0.022, of the sd 0.016)
    assert abs(b.mean() - 3.0) < 0.1 and abs(b.std(ddof=1) - 1.0) < 0.08
    # clipped genes are exactly those whose baseline pushes W H + b below 0
    np.testing.assert_array_equal(~unclipped, (WH + b[:, None] < 0).any(axis=1))
    # a different (mean, sd) is honoured
    other = simulate_desurv(**SMALL, gene_baseline=(10.0, 0.0), noise_sd=0.0, random_state=5)
    np.testing.assert_allclose(other.gene_baseline, 10.0)
    np.testing.assert_allclose(other.X.to_numpy().T, other.W @ other.H + 10.0, atol=1e-12)


def test_gene_baseline_none_reproduces_the_no_baseline_design():
    with_b = simulate_desurv(**SMALL, random_state=7)
    without = simulate_desurv(**SMALL, gene_baseline=None, random_state=7)
    assert without.gene_baseline is None and without.params["gene_baseline"] is None
    # every other draw is identical: the baseline has its own child stream
    for name in ("W", "H", "scores", "linear_predictor", "y"):
        np.testing.assert_array_equal(getattr(with_b, name), getattr(without, name))
    # the baseline does not enter the survival scores (the authors' X = W H before
    # simulate_X), and without it X is max(W H + E, 0)
    proj = (without.W @ without.H).T @ without.W_survival
    np.testing.assert_allclose(np.corrcoef(proj[:, 0], without.scores[:, 0])[0, 1], 1.0)
    assert not np.array_equal(with_b.X.to_numpy(), without.X.to_numpy())
    assert np.abs(without.X.to_numpy().T - without.W @ without.H).max() < 0.1
    # bit for bit: X with the baseline minus the baseline equals X without it wherever
    # neither was clipped
    both = (with_b.X.to_numpy() > 0) & (without.X.to_numpy() > 0)
    diff = with_b.X.to_numpy() - with_b.gene_baseline[None, :] - without.X.to_numpy()
    np.testing.assert_allclose(diff[both], 0.0, atol=1e-12)


def test_no_baseline_preset_is_the_previous_default():
    # "R0_no_baseline" is the design of desurv <= issue 10: R0 without the gene baseline
    preset = SIMULATION_SCENARIOS["R0_no_baseline"]
    assert preset["gene_baseline"] is None
    assert {k: v for k, v in preset.items() if k != "gene_baseline"} == {
        k: v for k, v in SIMULATION_SCENARIOS["R0"].items() if k != "gene_baseline"
    }
    a = simulate_desurv(**preset, random_state=0)
    b = simulate_desurv(gene_baseline=None, random_state=0)
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    # every authors' scenario has the baseline (simulate_desurv_scenario -> simulate_X)
    for name in ("R0", "R00", "R_mixed", "R1", "R2", "R3", "R4"):
        assert SIMULATION_SCENARIOS[name]["gene_baseline"] == (3.0, 1.0), name


def test_gene_baseline_errors():
    with pytest.raises(ValueError, match="gene_baseline"):
        simulate_desurv(**SMALL, gene_baseline=3.0)
    with pytest.raises(ValueError, match="gene_baseline"):
        simulate_desurv(**SMALL, gene_baseline=(3.0, -1.0))
    with pytest.raises(ValueError, match="gene_baseline"):
        simulate_desurv(**SMALL, gene_baseline=(np.nan, 1.0))


@pytest.mark.parametrize("name", sorted(SIMULATION_SCENARIOS))
def test_simulation_scenarios_run(name):
    cfg = dict(SIMULATION_SCENARIOS[name])
    sim = simulate_desurv(**cfg, random_state=1)
    assert sim.X.shape == (cfg["n_samples"], cfg["n_genes"])
    assert (sim.X.to_numpy() >= 0).all()
    assert np.isfinite(sim.time).all()


def test_simulation_mixed_survival_genes_and_overlap():
    sim = simulate_desurv(
        **SMALL, n_survival_genes=20, survival_marker_fraction=0.5, random_state=3
    )
    for f in range(3):
        sel = sim.survival_genes[f]
        assert sel.size == 20
        assert np.isin(sel, sim.marker_genes[f]).sum() == 10
        assert np.isin(sel, sim.background_genes).sum() == 10
        assert (sim.W_survival[:, f] != 0).sum() == 20
    sub = simulate_desurv(**SMALL, n_survival_genes=12, random_state=3)
    for f in range(3):
        assert sub.survival_genes[f].size == 12
        assert np.isin(sub.survival_genes[f], sub.marker_genes[f]).all()
    ov = simulate_desurv(**SMALL, marker_overlap=0.5, random_state=3)
    shared = np.intersect1d(ov.marker_genes[0], ov.marker_genes[1])
    assert shared.size == 15 and ov.marker_genes[1].size == 30


def test_simulation_exposure_and_correlated_h():
    sim = simulate_desurv(**SMALL, survival_from="exposure", h_correlation=0.6, random_state=4)
    h = sim.H
    assert (h > 0).all()
    assert np.corrcoef(h)[0, 1] > 0.3
    expected = (h.T - h.T.mean(axis=0)) / h.T.std(axis=0, ddof=1)
    np.testing.assert_allclose(sim.scores, expected)


def test_simulation_errors():
    with pytest.raises(ValueError, match="n_genes=100 is too small"):
        simulate_desurv(n_genes=100)
    with pytest.raises(ValueError, match="one coefficient per component"):
        simulate_desurv(**SMALL, beta=(1.0, 0.0))
    with pytest.raises(ValueError, match="survival_from"):
        simulate_desurv(**SMALL, survival_from="x")
    with pytest.raises(ValueError, match="marker_gamma"):
        simulate_desurv(**SMALL, marker_gamma=(0.0, 1.0))
    with pytest.raises(ValueError, match="h_correlation"):
        simulate_desurv(**SMALL, h_correlation=1.0)
    with pytest.raises(ValueError, match="n_samples"):
        simulate_desurv(n_samples=1)


# Values of the existing presets for random_state=7, computed before the per-program knobs
# (``n_markers`` as a sequence, ``h_scale``) were added: X[0, 0], X.sum(), time[0], eta[0].
PRESET_FINGERPRINTS = {
    "R0": (2.3771268611222935, 1795056.730281909, 2.3910648668566594, 1.099409740123093),
    "R00": (2.3771268611222935, 1795056.730281909, 7.178917156468083, 0.0),
    "R0_no_baseline": (
        0.0071947857010729085,
        14823.651194448237,
        2.3910648668566594,
        1.099409740123093,
    ),
    "R1": (2.436554785511222, 1797244.937491475, 44.3951854439559, -0.7526507124992011),
    "R2": (0.8837630250185111, 3008188.715254737, 2.4468773183495953, 0.0818555689484184),
    "R3": (3.19587672296732, 3035951.7289075805, 7.847861280962928, 0.6416068455996253),
    "R4": (3.974731400000193, 4639542.506295378, 62.46018000733346, -0.4589032032600807),
    "R_mixed": (2.3729026314637904, 1795056.2636474317, 3.8194866864350954, 1.3251855520655371),
}


@pytest.mark.parametrize("name", sorted(PRESET_FINGERPRINTS))
def test_existing_presets_unchanged_for_a_fixed_seed(name):
    sim = simulate_desurv(**SIMULATION_SCENARIOS[name], random_state=7)
    x00, xsum, t0, lp0 = PRESET_FINGERPRINTS[name]
    X = sim.X.to_numpy()
    assert X[0, 0] == pytest.approx(x00, rel=1e-12, abs=1e-15)
    assert X.sum() == pytest.approx(xsum, rel=1e-10)
    assert sim.time[0] == pytest.approx(t0, rel=1e-12)
    assert sim.linear_predictor[0] == pytest.approx(lp0, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("overlap", [0.0, 0.3])
def test_per_program_knobs_at_their_neutral_values_change_nothing(overlap):
    a = simulate_desurv(**SMALL, marker_overlap=overlap, random_state=5)
    b = simulate_desurv(
        **{**SMALL, "n_markers": (30, 30, 30)},
        h_scale=(1.0, 1.0, 1.0),
        marker_overlap=overlap,
        random_state=5,
    )
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.W, b.W)
    for f in range(3):
        np.testing.assert_array_equal(a.marker_genes[f], b.marker_genes[f])
    assert b.params["n_markers"] == 30


def test_per_program_marker_counts_and_exposure_scale():
    base = simulate_desurv(**{**SMALL, "n_markers": (5, 30, 40)}, random_state=6)
    sim = simulate_desurv(
        **{**SMALL, "n_markers": (5, 30, 40)}, h_scale=(0.5, 1.0, 2.0), random_state=6
    )
    assert [sim.marker_genes[f].size for f in range(3)] == [5, 30, 40]
    allm = np.concatenate(list(sim.marker_genes.values()))
    assert allm.size == np.unique(allm).size == 75
    assert sim.params["n_markers"] == [5, 30, 40] and sim.params["h_scale"] == [0.5, 1.0, 2.0]
    # the scale multiplies the drawn exposures and adds no random draw
    np.testing.assert_allclose(sim.H, base.H * np.array([0.5, 1.0, 2.0])[:, None])
    np.testing.assert_array_equal(sim.W, base.W)
    ov = simulate_desurv(**{**SMALL, "n_markers": (10, 30, 30)}, marker_overlap=0.5, random_state=6)
    # floor(0.5 * 30) = 15 > 10: program 2 shares all of program 1's markers
    assert np.isin(ov.marker_genes[0], ov.marker_genes[1]).all()
    assert ov.marker_genes[1].size == 30
    with pytest.raises(ValueError, match="one count per component"):
        simulate_desurv(**{**SMALL, "n_markers": (10, 10)})
    with pytest.raises(ValueError, match="n_markers"):
        simulate_desurv(**{**SMALL, "n_markers": (10, 0, 10)})
    with pytest.raises(ValueError, match="n_genes=400 is too small"):
        simulate_desurv(**{**SMALL, "n_markers": (10, 320, 10)})
    for bad in ((1.0, 1.0), (1.0, 0.0, 1.0), (1.0, np.inf, 1.0)):
        with pytest.raises(ValueError, match="h_scale"):
            simulate_desurv(**SMALL, h_scale=bad)


def test_r_hidden_lethal_program_is_a_minor_source_of_variance():
    cfg = SIMULATION_SCENARIOS["R_hidden"]
    assert cfg["n_markers"] == (20, 150, 150) and cfg["h_scale"] == (0.25, 1.0, 1.0)
    assert cfg["gene_baseline"] is None
    sim = simulate_desurv(**cfg, random_state=0)
    # program 1 is the only lethal one
    assert sim.beta[0] != 0 and np.all(sim.beta[1:] == 0)
    sizes = [sim.marker_genes[f].size for f in range(3)]
    assert sizes == [20, 150, 150]
    # variance carried by each program's contribution W_i H_i, as a share of X's variance
    total = sim.X.to_numpy().var(axis=0).sum()
    share = [np.outer(sim.W[:, f], sim.H[f]).var(axis=1).sum() / total for f in range(3)]
    assert share[0] < 0.01 and min(share[1:]) > 0.05
    assert share[0] < 0.2 * min(share[1:])
    # ... yet the survival signal is strong
    assert concordance_index(sim.time, sim.event, sim.linear_predictor) > 0.75
    assert 0.3 < sim.event.mean() < 0.9


# ----------------------------------------------------------------------------- real files
@pytest.fixture(scope="module")
def gse4335_paths():
    expr = DATA / "gse4335.expression.tsv.gz"
    clin = DATA / "gse4335.clinical.tsv"
    if not (expr.is_file() and clin.is_file()):
        pytest.skip(f"shared data not found under {DATA.resolve()}")
    return expr, clin


def test_load_real_cohort(gse4335_paths):
    expr, clin = gse4335_paths
    X, y, clinical = load_cohort(expr, clin)
    assert X.shape == (115, 12793)
    assert X.dtypes.eq(np.float64).all()
    assert X.index.name == "sample" and X.columns.name == "gene"
    assert X.index[0] == "GSE4335_shaz133" and X.columns[0] == "AAAS"
    assert X.iat[0, 0] == pytest.approx(-0.152)
    assert int(y["event"].sum()) == 38
    assert clinical.index.equals(X.index)
    np.testing.assert_array_equal(clinical["time"].to_numpy(), y["time"])
    assert {"er_status", "grade", "age"} <= set(clinical.columns)
    assert clinical["age"].dtype.kind in "if"
    assert clinical.loc["GSE4335_shaz133", "time"] == 41.0


def test_read_clinical_real(gse4335_paths):
    clinical = read_clinical(gse4335_paths[1])
    assert clinical.shape[0] == 115
    assert list(clinical.columns[:2]) == ["time", "event"]
    assert clinical["event"].dtype == bool and clinical["time"].dtype == np.float64
    assert clinical["er_status"].isna().sum() == 2  # "na" cells are missing values


# ----------------------------------------------------------------------------- small files
def _write(path, text, gz=False):
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


EXPR = "gene\tA\tB\tC\nG1\t1.5\t-2\t3\nG2\t0\tNA\t7\n"
CLIN = "sample\tevent\ttime\tage\tstage\nB\t1\t5\t60\tII\nA\t0\t7.5\t\tIII\nC\t1\t0\t55\tI\n"


def test_read_expression_small_and_gz(tmp_path):
    for gz in (False, True):
        p = _write(tmp_path / ("e.tsv.gz" if gz else "e.tsv"), EXPR, gz=gz)
        X = read_expression(p)
        assert list(X.index) == ["A", "B", "C"] and list(X.columns) == ["G1", "G2"]
        assert X.loc["B", "G1"] == -2.0 and np.isnan(X.loc["B", "G2"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("gene\tA\tB\n", "no gene rows"),
        ("gene\nG1\nG2\n", "no sample columns"),
        ("gene\tA\tB\nG1\t1\tabc\n", r"non-numeric value.*'abc'.*gene 'G1', sample 'B'"),
        ("gene\tA\tB\nG1\t1\t2\nG1\t3\t4\n", r"duplicated name.*'G1'"),
        ("gene\tA\tA\nG1\t1\t2\n", r"duplicated.*samples"),
        ("gene\tA\tB\n\t1\t2\n", "empty gene name"),
        ("gene\tA\tB\nG1\t1\t2\t3\t4\n", "cannot read expression file"),
        # a short (ragged) row used to be read as NaN values
        ("gene\tA\tB\tC\nG1\t1\t2\t3\nG2\t1\n", r"too few tab-separated fields.*line 3"),
    ],
)
def test_read_expression_errors(tmp_path, text, match):
    p = _write(tmp_path / "bad.tsv", text)
    with pytest.raises(ValueError, match=match) as info:
        read_expression(p)
    assert "bad.tsv" in str(info.value)


def test_read_expression_keeps_empty_trailing_cells_as_missing(tmp_path):
    p = _write(tmp_path / "ok.tsv", "gene\tA\tB\nG1\t1\t\nG2\t3\t4\n")
    X = read_expression(p)
    assert np.isnan(X.loc["B", "G1"]) and X.loc["B", "G2"] == 4.0


def test_read_expression_unreadable(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read expression file.*missing\.tsv.*no such"):
        read_expression(tmp_path / "missing.tsv")
    p = tmp_path / "corrupt.tsv.gz"
    p.write_bytes(b"this is not gzip data")
    with pytest.raises(ValueError, match=r"cannot read expression file.*corrupt\.tsv\.gz"):
        read_expression(p)


def test_read_clinical_small(tmp_path):
    c = read_clinical(_write(tmp_path / "c.tsv", CLIN))
    assert list(c.index) == ["B", "A", "C"]
    assert c["event"].tolist() == [True, False, True]
    assert c["time"].tolist() == [5.0, 7.5, 0.0]
    assert np.isnan(c.loc["A", "age"]) and c["stage"].tolist() == ["II", "III", "I"]
    renamed = CLIN.replace("sample\tevent\ttime", "id\tdead\tmonths")
    c2 = read_clinical(
        _write(tmp_path / "c2.tsv", renamed), time_col="months", event_col="dead", sample_col="id"
    )
    pd.testing.assert_frame_equal(c2.iloc[:, :2], c.iloc[:, :2])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("sample\tevent\nA\t1\n", r"lacks column\(s\) \['time'\]"),
        ("sample\tevent\ttime\nA\t1\t-3\n", r"negative 'time'.*'A'"),
        ("sample\tevent\ttime\nA\t1\tNA\nB\t0\t2\n", r"missing or non-numeric 'time'.*'A'"),
        ("sample\tevent\ttime\nA\t1\tsoon\n", "non-numeric 'time'"),
        ("sample\tevent\ttime\nA\t2\t3\n", r"'event' must be 0/1.*'A'"),
        ("sample\tevent\ttime\nA\tyes\t3\n", r"'event' must be 0/1"),
        ("sample\tevent\ttime\nA\t1\t3\nA\t0\t4\n", r"duplicated name.*'A'"),
        ("sample\tevent\ttime\n", "no sample rows"),
        ("", "is empty"),
        ("sample\tevent\ttime\tage\tage\nA\t1\t3\t1\t2\n", r"duplicated.*'age'.*columns"),
    ],
)
def test_read_clinical_errors(tmp_path, text, match):
    p = _write(tmp_path / "clin.tsv", text)
    with pytest.raises(ValueError, match=match) as info:
        read_clinical(p)
    assert "clin.tsv" in str(info.value)


def test_load_cohort_aligns_by_sample(tmp_path):
    e = _write(tmp_path / "e.tsv", EXPR)
    c = _write(tmp_path / "c.tsv", CLIN)
    X, y, clinical = load_cohort(e, c)
    assert list(X.index) == ["A", "B", "C"] and list(clinical.index) == ["A", "B", "C"]
    assert y["time"].tolist() == [7.5, 5.0, 0.0]
    assert y["event"].tolist() == [False, True, True]


def test_load_cohort_mismatched_samples(tmp_path):
    e = _write(tmp_path / "e.tsv", EXPR.replace("\tC\n", "\tZ\n"))
    c = _write(tmp_path / "c.tsv", CLIN + "Q\t0\t1\t1\tI\n")
    with pytest.raises(ValueError) as info:
        load_cohort(e, c)
    msg = str(info.value)
    assert "1 sample(s) only in" in msg and "'Z'" in msg
    assert "2 sample(s) only in" in msg and "'C'" in msg and "'Q'" in msg


def test_clinical_column_list_is_cut_explicitly(tmp_path):
    from desurv.datasets import read_clinical

    path = tmp_path / "wide.clinical.tsv"
    cols = ["sample"] + [f"col{i}" for i in range(14)]
    path.write_text("\t".join(cols) + "\n" + "\t".join(["A"] + ["1"] * 14) + "\n")
    with pytest.raises(ValueError, match=r"found \[.*'col8', … \(15 columns in all\)\]"):
        read_clinical(path)


def test_directory_given_as_a_file_is_named_a_directory(tmp_path):
    from desurv.datasets import read_clinical, read_expression

    with pytest.raises(ValueError, match="is a directory, not a file"):
        read_expression(tmp_path)
    with pytest.raises(ValueError, match="is a directory, not a file"):
        read_clinical(tmp_path)


def test_load_cohort_without_events_only_when_asked(tmp_path):
    from desurv.datasets import load_cohort

    e, c = tmp_path / "e.tsv", tmp_path / "c.tsv"
    e.write_text("gene\tA\tB\nG1\t1\t2\nG2\t3\t4\n")
    c.write_text("sample\ttime\tevent\nA\t1\t0\nB\t2\t0\n")
    with pytest.raises(ValueError, match="no events"):
        load_cohort(e, c)
    X, y, _ = load_cohort(e, c, require_event=False)
    assert X.shape == (2, 2) and not y["event"].any() and list(y["time"]) == [1.0, 2.0]
