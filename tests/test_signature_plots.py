"""Signature figures (desurv.reporting.signature_plots): SBS96 profiles and exposures."""

import numpy as np
import pandas as pd
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from desurv.datasets import SBS96_CHANNELS, random_signatures  # noqa: E402
from desurv.reporting.signature_plots import (  # noqa: E402
    SBS_COLORS,
    plot_exposures,
    plot_signature_profile,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _bars(ax):
    return [p for p in ax.patches if type(p).__name__ == "Rectangle" and p.get_width() < 1]


def test_profile_bars_colours_order_and_titles():
    sig = random_signatures(3, random_state=0)
    sig.columns = ["S1", "S2", "S3"]
    matches = pd.DataFrame(
        {
            "signature": ["S1", "S2", "S3"],
            "cosmic": ["SBS1", "SBS3", "SBS13"],
            "cosine": [0.951, 0.5, 0.876],
        }
    )
    shuffled = sig.iloc[np.random.default_rng(1).permutation(96)]  # aligned by label
    fig = plot_signature_profile(shuffled, matches)
    axes = fig.axes
    assert len(axes) == 3
    for ax, name in zip(axes, sig.columns, strict=True):
        bars = _bars(ax)
        assert len(bars) == 96
        heights = np.array([b.get_height() for b in bars])
        np.testing.assert_allclose(heights, 100 * sig[name].to_numpy() / sig[name].sum())
        colours = [to_hex(b.get_facecolor()).upper() for b in bars]
        expected = [SBS_COLORS[c[2:5]].upper() for c in SBS96_CHANNELS]
        assert colours == expected
        texts = [t.get_text() for t in ax.texts]
        assert set(SBS_COLORS) <= set(texts)  # the band naming the six classes
    titles = [next(t.get_text() for t in ax.texts if t.get_text().startswith("S")) for ax in axes]
    assert titles == ["S1: SBS1 (cosine 0.95)", "S2: SBS3 (cosine 0.50)", "S3: SBS13 (cosine 0.88)"]
    labels = [t.get_text() for t in axes[-1].get_xticklabels()]
    assert labels[:3] == ["ACA", "ACC", "ACG"] and labels[-1] == "TTT" and len(labels) == 96
    assert all(t.get_text() == "" for t in axes[0].get_xticklabels())


def test_the_six_cosmic_colours():
    assert SBS_COLORS == {
        "C>A": "#1EBFF0",
        "C>G": "#050708",
        "C>T": "#E62725",
        "T>A": "#CBCACB",
        "T>C": "#A1CE63",
        "T>G": "#EDC8C5",
    }


def test_profile_inputs_series_array_given_axes_and_png(tmp_path):
    sig = random_signatures(2, random_state=3)
    fig = plot_signature_profile(sig["Sig1"])
    assert len(fig.axes) == 1
    fig = plot_signature_profile(sig.to_numpy(), {"S2": ("SBS5", 0.7)})
    assert any(t.get_text() == "S2: SBS5 (cosine 0.70)" for t in fig.axes[1].texts)
    f, axes = plt.subplots(2, 1)
    assert plot_signature_profile(sig, axes=axes) is f
    path = tmp_path / "p.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda s: s.iloc[:90], "96 SBS channels"),
        (lambda s: s.rename(index={"A[C>A]A": "foo"}), "unknown"),
        (lambda s: -s, "nonnegative"),
        (lambda s: s.to_numpy()[:50], "shape"),
    ],
)
def test_profile_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        plot_signature_profile(make(random_signatures(2, random_state=0)))
    with pytest.raises(ValueError, match="axes"):
        plot_signature_profile(random_signatures(2, random_state=0), axes=[plt.gca()])
    with pytest.raises(ValueError, match="columns"):
        plot_signature_profile(random_signatures(1, random_state=0), pd.DataFrame({"x": [1]}))


def test_exposures_stacked_and_sorted_by_total():
    rng = np.random.default_rng(0)
    E = pd.DataFrame(
        rng.gamma(1.0, 100.0, size=(12, 3)),
        columns=["S1", "S2", "S3"],
        index=[f"s{i}" for i in range(12)],
    )
    fig = plot_exposures(E)
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 12 * 3
    tops = np.zeros(12)
    for b in bars:
        i = int(round(b.get_x() + b.get_width() / 2))
        tops[i] = max(tops[i], b.get_y() + b.get_height())
    order = np.argsort(-E.sum(axis=1).to_numpy(), kind="stable")
    np.testing.assert_allclose(tops, E.sum(axis=1).to_numpy()[order])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(E.index[order])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["S1", "S2", "S3"]
    # relative: every stack reaches 1
    fig = plot_exposures(E, relative=True)
    tops = {}
    for b in fig.axes[0].patches:
        i = int(round(b.get_x() + b.get_width() / 2))
        tops[i] = max(tops.get(i, 0), b.get_y() + b.get_height())
    np.testing.assert_allclose(list(tops.values()), 1.0)
    # many samples: no names under the bars
    big = pd.DataFrame(rng.random((100, 2)))
    assert plot_exposures(big, max_labels=60).axes[0].get_xticks().size == 0


@pytest.mark.parametrize("bad", [np.zeros((0, 2)), -np.ones((3, 2)), np.full((3, 2), np.nan)])
def test_exposures_bad_input(bad):
    with pytest.raises(ValueError, match="exposures"):
        plot_exposures(bad)
