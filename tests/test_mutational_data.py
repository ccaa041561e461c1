"""Mutational catalogue readers and the catalogue simulator."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desurv.datasets.mutational import (
    SBS96_CHANNELS,
    load_synsig,
    random_signatures,
    read_catalogue,
    read_signatures,
    simulate_catalogues,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MUT = DATA / "mutational"


def _require(path):
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


def test_sbs96_channels_canonical():
    assert len(SBS96_CHANNELS) == 96 == len(set(SBS96_CHANNELS))
    assert SBS96_CHANNELS[:2] == ("A[C>A]A", "A[C>A]C")


def test_synsig_pancreas_aligned_by_label():
    folder = _require(MUT / "synsig" / "syn.pancreas")
    d = load_synsig(folder)
    assert d.catalogue.shape == (1000, 96)
    assert d.signatures.shape == (96, 11) and d.exposures.shape == (1000, 11)
    assert list(d.signatures.index) == list(d.catalogue.columns) == list(SBS96_CHANNELS)
    assert list(d.exposures.index) == list(d.catalogue.index)
    np.testing.assert_allclose(d.signatures.sum(axis=0), 1.0, atol=1e-3)
    # the truth reproduces the catalogue (only possible if rows were aligned by label)
    recon = d.exposures.to_numpy() @ d.signatures.to_numpy().T
    assert np.corrcoef(recon.ravel(), d.catalogue.to_numpy().ravel())[0, 1] > 0.999
    # file row order differs: the raw file's first rows are not the canonical order
    raw = pd.read_csv(folder / "signatures.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(d.signatures.loc[raw.index].to_numpy(), raw.to_numpy())


def test_read_cosmic_and_catalogue():
    cosmic = read_signatures(_require(MUT / "cosmic_v3.4_sbs96_grch37.tsv"))
    assert cosmic.shape == (96, 86) and "SBS1" in cosmic.columns
    cat = read_catalogue(_require(MUT / "breast21_wgs_sbs96.tsv"))
    assert cat.shape == (21, 96) and cat.dtypes.eq(float).all()
    assert list(cat.columns) == list(SBS96_CHANNELS)


def test_reader_rejects_bad_labels_and_values(tmp_path):
    p = tmp_path / "bad.tsv"
    p.write_text("channel\ts1\nA[C>A]A\t1\nA[X>A]A\t2\n")
    with pytest.raises(ValueError, match="invalid single-base"):
        read_catalogue(p)
    p.write_text("channel\ts1\nA[C>A]A\t1\nA[C>A]A\t2\n")
    with pytest.raises(ValueError, match="duplicated"):
        read_catalogue(p)
    p.write_text("channel\ts1\nA[C>A]A\t1\nA[C>A]C\t-2\n")
    with pytest.raises(ValueError, match="negative"):
        read_catalogue(p)
    with pytest.raises(ValueError, match="not found"):
        read_catalogue(tmp_path / "missing.tsv")


def test_simulator_exposures_sum_to_burden_and_counts_match():
    sim = simulate_catalogues(6, 400, n_active=3, mean_burden=3000, random_state=1)
    assert sim.catalogue.shape == (400, 96) and sim.exposures.shape == (400, 6)
    np.testing.assert_allclose(sim.exposures.sum(axis=1), sim.burden)
    assert ((sim.exposures > 0).sum(axis=1) == 3).all()
    # mean burden close to mean_burden (lognormal mean), counts total close to burden
    assert abs(sim.burden.mean() / 3000 - 1) < 0.1
    ratio = sim.catalogue.sum(axis=1) / sim.burden
    assert abs(ratio.mean() - 1) < 0.01
    assert sim.labels is None and sim.domain is None
    # reproducible
    again = simulate_catalogues(6, 400, n_active=3, mean_burden=3000, random_state=1)
    pd.testing.assert_frame_equal(sim.catalogue, again.catalogue)


def test_simulator_class_structure():
    sim = simulate_catalogues(
        random_signatures(6, random_state=0), 300, n_classes=3, n_active=2, random_state=2
    )
    labels = sim.labels
    assert np.bincount(labels).tolist() == [100, 100, 100]
    E = sim.exposures.to_numpy()
    for c in range(3):
        rows = E[labels == c]
        assert (rows[:, c] > 0).all()  # own marker always active
        others = [k for k in range(3) if k != c]
        assert (rows[:, others] == 0).all()  # other markers never


def test_simulator_domain_shift():
    sim = simulate_catalogues(5, 2000, domain_shift=1.0, burden_sd=0.3, random_state=3)
    tgt = sim.domain == "target"
    assert tgt.sum() == 1000
    ratio = sim.burden[tgt].mean() / sim.burden[~tgt].mean()
    assert np.exp(1.0) * 0.9 < ratio < np.exp(1.0) * 1.1
    prop = sim.exposures.div(sim.exposures.sum(axis=1), axis=0)
    diff = (prop[tgt].mean() - prop[~tgt].mean()).abs().max()
    assert diff > 0.05  # the exposure profile differs too


def test_simulator_negative_binomial_overdispersion():
    W = np.full((96, 1), 1 / 96)  # one flat signature: every channel has the same mean
    kw = dict(n_active=1, mean_burden=9600, burden_sd=0.0, random_state=4)
    pois = simulate_catalogues(W, 500, **kw).catalogue.to_numpy().ravel()
    nb = simulate_catalogues(W, 500, dispersion=5.0, **kw).catalogue.to_numpy().ravel()
    mu = 100.0
    assert abs(pois.mean() - mu) < 1 and abs(pois.var() / mu - 1) < 0.1
    # NB(size r): var = mu + mu^2 / r = 100 + 2000
    assert abs(nb.mean() - mu) < 2
    assert abs(nb.var() / (mu + mu**2 / 5.0) - 1) < 0.1


def test_simulator_rejects_bad_parameters():
    with pytest.raises(ValueError, match="n_active"):
        simulate_catalogues(3, 10, n_active=5)
    with pytest.raises(ValueError, match="n_classes"):
        simulate_catalogues(3, 10, n_classes=3)
    with pytest.raises(ValueError, match="dispersion"):
        simulate_catalogues(3, 10, dispersion=0)


# ------------------------------------------------------------ background-signature shift
# Frozen numbers from the generator BEFORE `background_overlap` existed (pre-extension
# code, same seeds): they guard the random stream that existing results depend on. Per
# case: total count, catalogue[0, :5], catalogue[-1, -5:], column-17 total, exposure sum,
# burden[0], domain of the first 12 samples ("s"/"t"; None without domains).
_PRE_EXTENSION = {
    "classes+shift": (
        dict(signatures=6, n_samples=50, n_classes=2, n_active=3, domain_shift=0.5),
        11,
        (138769, [4, 18, 86, 22, 11], [383, 50, 20, 26, 29], 1910),
        (138754.97622198184, 1527.7036800338021, "ssstttttssss"),
    ),
    "nb-counts": (
        dict(signatures=5, n_samples=40, n_active=2, dispersion=10.0),
        12,
        (86827, [0, 3, 19, 7, 16], [28, 14, 3, 6, 2], 5),
        (87757.07647834388, 1320.1408649706887, None),
    ),
    "shift-no-classes": (
        dict(signatures=5, n_samples=40, n_active=2, domain_shift=0.7),
        13,
        (125761, [16, 1, 10, 3, 0], [17, 29, 0, 0, 2], 283),
        (126091.61224270961, 1927.5509047148255, "sstttsststss"),
    ),
}


@pytest.mark.parametrize("case", sorted(_PRE_EXTENSION))
def test_full_overlap_keeps_the_pre_extension_stream(case):
    kw, seed, ints, floats = _PRE_EXTENSION[case]
    default = simulate_catalogues(**kw, random_state=seed)
    explicit = simulate_catalogues(**kw, background_overlap=1.0, random_state=seed)
    pd.testing.assert_frame_equal(default.catalogue, explicit.catalogue)
    pd.testing.assert_frame_equal(default.exposures, explicit.exposures)
    np.testing.assert_array_equal(default.burden, explicit.burden)
    C = explicit.catalogue.to_numpy()
    assert (int(C.sum()), C[0, :5].tolist(), C[-1, -5:].tolist(), int(C[:, 17].sum())) == ints
    total, b0, dom = floats
    assert explicit.exposures.to_numpy().sum() == pytest.approx(total, rel=1e-12)
    assert explicit.burden[0] == pytest.approx(b0, rel=1e-12)
    got = None if explicit.domain is None else "".join(x[0] for x in explicit.domain[:12])
    assert got == dom
    names = list(explicit.signatures.columns)
    assert explicit.params["background_overlap"] == 1.0
    assert explicit.params["source_signatures"] == names == explicit.params["target_signatures"]


def _used(exposures, rows):
    """Names of signatures with a positive exposure in at least one of `rows`."""
    return set(exposures.columns[(exposures.to_numpy()[rows] > 0).any(axis=0)])


def test_disjoint_backgrounds_follow_column_order_and_markers_follow_labels():
    # K = 8, C = 2 markers, 6 backgrounds Sig3..Sig8; overlap 0 -> source Sig3,5,7, target 4,6,8
    sim = simulate_catalogues(
        8, 400, n_classes=2, n_active=3, background_overlap=0.0, random_state=5
    )
    assert sim.domain is not None and set(sim.domain) == {"source", "target"}
    src, tgt = sim.domain == "source", sim.domain == "target"
    p = sim.params
    assert p["source_signatures"] == ["Sig1", "Sig2", "Sig3", "Sig5", "Sig7"]
    assert p["target_signatures"] == ["Sig1", "Sig2", "Sig4", "Sig6", "Sig8"]
    source_only, target_only = {"Sig3", "Sig5", "Sig7"}, {"Sig4", "Sig6", "Sig8"}
    assert _used(sim.exposures, tgt).isdisjoint(source_only)
    assert _used(sim.exposures, src).isdisjoint(target_only)
    assert source_only <= _used(sim.exposures, src)  # every allowed one is actually used
    assert target_only <= _used(sim.exposures, tgt)
    E = sim.exposures.to_numpy()
    assert ((E > 0).sum(axis=1) == 3).all()
    for dom in (src, tgt):
        for c in range(2):
            rows = E[dom & (sim.labels == c)]
            assert len(rows) > 0 and (rows[:, c] > 0).all() and (rows[:, 1 - c] == 0).all()
    np.testing.assert_allclose(sim.exposures.sum(axis=1), sim.burden)


def test_partial_overlap_without_classes_shares_leading_columns():
    # no classes: all 7 are backgrounds; round(0.5 * 7) = 4 shared (Sig1..Sig4, Python round),
    # then Sig5 source, Sig6 target, Sig7 source
    sim = simulate_catalogues(
        7, 300, n_active=2, background_overlap=0.5, target_fraction=0.3, random_state=6
    )
    tgt = sim.domain == "target"
    assert tgt.sum() == 90  # target_fraction respected
    assert sim.params["source_signatures"] == ["Sig1", "Sig2", "Sig3", "Sig4", "Sig5", "Sig7"]
    assert sim.params["target_signatures"] == ["Sig1", "Sig2", "Sig3", "Sig4", "Sig6"]
    used_src, used_tgt = _used(sim.exposures, ~tgt), _used(sim.exposures, tgt)
    shared = {"Sig1", "Sig2", "Sig3", "Sig4"}
    assert shared <= used_src and shared <= used_tgt
    assert used_src == shared | {"Sig5", "Sig7"} and used_tgt == shared | {"Sig6"}


def test_background_split_alone_creates_domains_without_shifting_burden():
    kw = dict(n_active=2, burden_sd=0.0, mean_burden=1500.0, random_state=7)
    sim = simulate_catalogues(6, 60, background_overlap=0.4, target_fraction=0.25, **kw)
    assert sim.params["domain_shift"] == 0.0
    assert (sim.domain == "target").sum() == 15 and (sim.domain == "source").sum() == 45
    np.testing.assert_allclose(sim.burden, 1500.0)  # no burden shift with domain_shift = 0
    assert sim.labels is None


def test_background_overlap_validation():
    with pytest.raises(ValueError, match=r"background_overlap must be in \[0, 1\]"):
        simulate_catalogues(5, 10, background_overlap=1.5)
    with pytest.raises(ValueError, match=r"background_overlap must be in \[0, 1\]"):
        simulate_catalogues(5, 10, background_overlap=-0.1)
    # 3 backgrounds, none shared: source gets 2, target 1, but 2 are needed beside the marker
    with pytest.raises(ValueError, match=r"target domain 1 background.*needs 2.*raise"):
        simulate_catalogues(5, 10, n_classes=2, n_active=3, background_overlap=0.0)
    with pytest.raises(ValueError, match=r"source domain 2 background.*needs 3"):
        simulate_catalogues(4, 10, n_active=3, background_overlap=0.0)
    # the same settings are valid once enough backgrounds are shared
    sim = simulate_catalogues(5, 10, n_classes=2, n_active=3, background_overlap=0.34)
    assert len(sim.params["target_signatures"]) == 4  # 2 markers + 1 shared + 1 target-only
