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
