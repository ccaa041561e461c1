"""Shared fixtures: paths to ../shared/data and small simulated problems."""

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
REF = DATA / "reference" / "desurv_r"
EXPR = DATA / "expression"


def require(path: Path):
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (tests expect ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def small_problem():
    """A small nonnegative problem with survival driven by one latent factor, with ties."""
    rng = np.random.default_rng(7)
    p, n, k = 40, 60, 3
    W = rng.gamma(1.0, 1.0, size=(p, k))
    H = rng.gamma(2.0, 1.0, size=(k, n))
    X = W @ H + rng.uniform(0, 0.1, size=(p, n))
    risk = (H[0] - H[0].mean()) / H[0].std()
    time = np.round(rng.exponential(np.exp(-risk)), 1) + 0.1  # rounding makes ties
    event = rng.uniform(size=n) < 0.8
    event[0] = True
    return X, time, event, k
