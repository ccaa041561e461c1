"""Tests for desurv.survival.concordance.concordance_index and its Numba kernel."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines.utils import concordance_index as lifelines_cindex

from desurv._kernels._concordance import concordance_counts, dense_ranks
from desurv._reference.concordance import concordance_counts_ref, concordance_index_ref
from desurv.survival.concordance import ConcordanceCounts, concordance_index


def _kernel_counts(time, event, risk):
    """Call the kernel the way metrics.concordance_index prepares its inputs."""
    time = np.asarray(time, float)
    event = np.asarray(event, bool)
    risk = np.asarray(risk, float)
    order = np.lexsort((~event, time))
    uniq, ranks = np.unique(risk, return_inverse=True)
    return concordance_counts(
        time[order], event[order].astype(np.int64), ranks[order].astype(np.int64) + 1, uniq.size
    )


def _random_case(rng, n, n_times=6, n_risks=5):
    """Many ties in time and risk, censoring mixed in at tied times."""
    time = rng.integers(0, n_times, n).astype(float)
    event = rng.random(n) < 0.6
    risk = rng.integers(0, n_risks, n).astype(float)
    return time, event, risk


# ----------------------------------------------------------------------------- known answers
def test_perfect_and_reversed_order():
    time = [1.0, 2.0, 3.0, 4.0]
    event = [1, 1, 1, 1]
    assert concordance_index(time, event, [4, 3, 2, 1]) == 1.0
    assert concordance_index(time, event, [1, 2, 3, 4]) == 0.0
    assert concordance_index(time, event, [7, 7, 7, 7]) == 0.5


def test_hand_computed_with_ties():
    # samples: (time, event, risk)
    # a=(1,1,3) b=(2,1,2) c=(2,0,2) d=(3,1,1) e=(2,1,5)
    # comparable pairs (first has event, second still at risk):
    #  a-b a-c a-d a-e : risks 3>2 conc, 3>2 conc, 3>1 conc, 3<5 disc
    #  b-c (tie time, c censored): 2=2 tied; b-d: 2>1 conc
    #  e-c: 5>2 conc; e-d: 5>1 conc; b-e / e-b: both events at t=2 -> not comparable
    #  d: nobody after it
    time = [1, 2, 2, 3, 2]
    event = [1, 1, 0, 1, 1]
    risk = [3, 2, 2, 1, 5]
    c, counts = concordance_index(time, event, risk, return_counts=True)
    assert counts == ConcordanceCounts(concordant=6, discordant=1, tied_risk=1, comparable=8)
    assert c == pytest.approx(6.5 / 8, abs=0)
    assert c == lifelines_cindex(time, -np.asarray(risk, float), event)


def test_censored_sample_is_never_first_of_a_pair():
    # only sample 0 has an event; later censored samples are comparable to it,
    # earlier censored sample is not
    time = [5.0, 1.0, 6.0, 7.0]
    event = [1, 0, 0, 0]
    c, counts = concordance_index(time, event, [2.0, 9.0, 1.0, 3.0], return_counts=True)
    assert counts.comparable == 2
    assert counts.concordant == 1 and counts.discordant == 1
    assert c == 0.5


# ----------------------------------------------------------------------------- lifelines
@pytest.mark.parametrize("seed", range(25))
def test_matches_lifelines_random_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    time, event, risk = _random_case(rng, n, n_times=int(rng.integers(1, 30)))
    try:
        expected = lifelines_cindex(time, -risk, event)
    except ZeroDivisionError:
        with pytest.raises(ValueError, match="no comparable pairs"):
            concordance_index(time, event, risk)
        return
    got = concordance_index(time, event, risk)
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_matches_lifelines_continuous_large(seed):
    rng = np.random.default_rng(100 + seed)
    n = 3000
    time = np.round(rng.exponential(10.0, n), 1)  # rounding creates tied times
    event = rng.random(n) < 0.4
    risk = np.round(rng.normal(size=n), 2)  # and tied risks
    assert concordance_index(time, event, risk) == pytest.approx(
        lifelines_cindex(time, -risk, event), abs=1e-12
    )


# ----------------------------------------------------------------------------- kernel vs ref
@pytest.mark.parametrize("seed", range(30))
def test_kernel_equals_reference_random(seed):
    rng = np.random.default_rng(seed)
    time, event, risk = _random_case(rng, int(rng.integers(1, 120)))
    np.testing.assert_array_equal(
        _kernel_counts(time, event, risk), concordance_counts_ref(time, event, risk)
    )


EDGE_CASES = {
    "all_tied_times_mixed": ([3.0] * 6, [1, 1, 0, 1, 0, 0], [1, 2, 3, 1, 2, 0]),
    "all_tied_times_events": ([3.0] * 4, [1, 1, 1, 1], [1, 2, 3, 4]),
    "all_tied_risks": ([1, 2, 3, 4, 5], [1, 0, 1, 1, 0], [2.0] * 5),
    "one_event_first": ([1, 2, 3, 4], [1, 0, 0, 0], [4, 1, 2, 3]),
    "one_event_last": ([1, 2, 3, 4], [0, 0, 0, 1], [4, 1, 2, 3]),
    "n2_comparable": ([1.0, 2.0], [1, 0], [0.3, 0.1]),
    "n2_tied_time_censored": ([1.0, 1.0], [1, 0], [0.1, 0.3]),
    "n2_no_event": ([1.0, 2.0], [0, 0], [0.3, 0.1]),
    "n1": ([1.0], [1], [0.0]),
    "zero_times": ([0.0, 0.0, 1.0], [1, 0, 1], [1.0, 2.0, 3.0]),
    "infinite_risk": ([1, 2, 3], [1, 1, 0], [np.inf, -np.inf, 0.0]),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_kernel_equals_reference_edge_cases(name):
    time, event, risk = EDGE_CASES[name]
    np.testing.assert_array_equal(
        _kernel_counts(time, event, risk), concordance_counts_ref(time, event, risk)
    )


def test_edge_case_values():
    assert concordance_index(*EDGE_CASES["all_tied_risks"]) == 0.5
    assert concordance_index(*EDGE_CASES["n2_comparable"]) == 1.0
    assert concordance_index(*EDGE_CASES["n2_tied_time_censored"]) == 0.0
    # one event first: compared with the 3 later censored samples, all lower risk
    assert concordance_index(*EDGE_CASES["one_event_first"]) == 1.0
    # all times tied: events vs censored at the same time are comparable (3 x 3 pairs)
    c, counts = concordance_index(*EDGE_CASES["all_tied_times_mixed"], return_counts=True)
    assert counts.comparable == 9
    assert c == concordance_index_ref(*EDGE_CASES["all_tied_times_mixed"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.booleans(), st.integers(-3, 3)), min_size=1, max_size=40
    )
)
def test_kernel_equals_reference_property(rows):
    time, event, risk = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    np.testing.assert_array_equal(
        _kernel_counts(time, event, risk), concordance_counts_ref(time, event, risk)
    )


@pytest.mark.parametrize("seed", range(10))
def test_kernel_ignores_order_within_tied_times(seed):
    # the kernel handles events before censored samples inside each tied-time block itself,
    # so any time-sorted order (e.g. NumPy's unstable sort) gives the same counts
    rng = np.random.default_rng(300 + seed)
    time, event, risk = _random_case(rng, int(rng.integers(2, 150)), n_times=4)
    uniq, ranks = np.unique(risk, return_inverse=True)
    expected = concordance_counts_ref(time, event, risk)
    for _ in range(5):
        order = np.lexsort((rng.random(time.size), time))  # random order inside tied times
        got = concordance_counts(
            time[order], event[order].astype(np.int64), ranks[order] + 1, uniq.size
        )
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "values",
    [
        [0.0],
        [3.0, 1.0, 2.0, 1.0, 3.0],
        [-0.0, 0.0, 1e-300, -np.inf, np.inf, np.inf],
        np.round(np.random.default_rng(5).normal(size=500), 1),
    ],
)
def test_dense_ranks_equal_numpy_unique_inverse(values):
    values = np.asarray(values, dtype=np.float64)
    uniq, inverse = np.unique(values, return_inverse=True)
    out = np.full(values.size, -1, dtype=np.int64)
    reversed_ties = np.lexsort((-np.arange(values.size), values))  # ties in reverse order
    for order in (np.argsort(values), reversed_ties):
        assert dense_ranks(values, order, out) == uniq.size
        np.testing.assert_array_equal(out, inverse.reshape(-1) + 1)


# ----------------------------------------------------------------------------- properties
def test_invariant_to_monotone_transform_and_input_order():
    rng = np.random.default_rng(7)
    time, event, risk = _random_case(rng, 200)
    c = concordance_index(time, event, risk)
    assert concordance_index(time, event, np.exp(risk) + 3.0) == c
    perm = rng.permutation(200)
    assert concordance_index(time[perm], event[perm], risk[perm]) == c
    # negating the risk swaps concordant and discordant pairs
    _, k1 = concordance_index(time, event, risk, return_counts=True)
    _, k2 = concordance_index(time, event, -risk, return_counts=True)
    assert (k1.concordant, k1.discordant) == (k2.discordant, k2.concordant)
    assert k1.tied_risk == k2.tied_risk
    assert k1.concordant + k1.discordant + k1.tied_risk == k1.comparable


def test_accepts_lists_bools_and_integer_risks():
    c = concordance_index([1, 2, 3], [True, False, True], [3, 2, 1])
    assert c == 1.0
    assert isinstance(c, float)


# ----------------------------------------------------------------------------- errors
def test_error_mismatched_lengths():
    with pytest.raises(ValueError, match="mismatched lengths"):
        concordance_index([1, 2, 3], [1, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="risk_score has 2 samples"):
        concordance_index([1, 2, 3], [1, 0, 1], [1, 2])


def test_error_nan():
    with pytest.raises(ValueError, match="risk_score contains NaN"):
        concordance_index([1, 2, 3], [1, 0, 1], [1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        concordance_index([1, np.nan, 3], [1, 0, 1], [1.0, 2.0, 3.0])


def test_error_bad_inputs():
    with pytest.raises(ValueError, match="1-D"):
        concordance_index([1, 2], [1, 0], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="0/1"):
        concordance_index([1, 2], [2, 0], [1.0, 2.0])
    with pytest.raises(ValueError, match="negative"):
        concordance_index([-1, 2], [1, 0], [1.0, 2.0])
    with pytest.raises(ValueError, match="numeric"):
        concordance_index([1, 2], [1, 0], ["a", "b"])


def test_error_no_comparable_pairs():
    with pytest.raises(ValueError, match="no comparable pairs: there is no observed event"):
        concordance_index([1, 2, 3], [0, 0, 0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="no comparable pairs"):
        # every event at the last time, no one censored then
        concordance_index([1, 2, 3, 3], [0, 0, 1, 1], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="no comparable pairs"):
        concordance_index([1.0], [1], [0.0])
