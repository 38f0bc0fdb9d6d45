"""Shared fixtures for the engine tests: small random RNN problems built from an explicit seed."""

from dataclasses import dataclass

import numpy as np
import pytest

from rnnviz.engine import Parameters


@dataclass
class Problem:
    """One random RNN set-up: parameters, inputs, initial state, targets."""

    params: Parameters
    x: np.ndarray
    s0: np.ndarray
    targets: np.ndarray


def build_problem(seed, n_x=3, n_s=4, n_y=3, m=2, T=5, w_scale=0.5, in_scale=1.0,
                  dtype=np.float64):
    """A random problem with W scaled to spectral norm ~w_scale (a stable regime when < 1)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_s, n_s))
    W *= w_scale / max(np.linalg.norm(W, 2), 1e-12)
    params = Parameters(
        U=rng.normal(scale=in_scale / np.sqrt(n_x), size=(n_s, n_x)),
        W=W,
        V=rng.normal(scale=1 / np.sqrt(n_s), size=(n_y, n_s)),
        ba=rng.normal(scale=0.3, size=(n_s, 1)),
        by=rng.normal(scale=0.3, size=(n_y, 1)),
    ).astype(dtype)
    x = rng.normal(size=(n_x, m, T)).astype(dtype)
    s0 = rng.normal(scale=0.5, size=(n_s, m)).astype(dtype)
    targets = rng.integers(0, n_y, size=(m, T))
    return Problem(params, x, s0, targets)


@pytest.fixture(scope="session")
def make_problem():
    """Factory fixture: make_problem(seed, **sizes) -> Problem."""
    return build_problem
