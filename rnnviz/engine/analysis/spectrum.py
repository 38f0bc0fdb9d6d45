"""Eigenvalues and the largest singular value of the recurrent matrices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import fail
from ..cells import get_cell
from ..parameters import Parameters


@dataclass
class Spectrum:
    """Eigenvalues of W (sorted by decreasing modulus), rho(W) and sigma_max(W)."""

    eigenvalues: np.ndarray     # complex (n_s,)
    spectral_radius: float
    sigma_max: float


def spectrum(W: np.ndarray, eigenvalues: np.ndarray | None = None) -> Spectrum:
    """Eigenvalues, spectral radius and largest singular value of W.

    Cost: one eigenvalue solve and one SVD, O(n_s^3); eigenvalues, when W's are already known
    (init_parameters(with_eigenvalues=True) hands on the draw's), skip the solve. Non-finite W
    gives NaNs, never an error.
    """
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
        raise fail("W", "a square (n_s, n_s) matrix", W.shape)
    if eigenvalues is not None and np.shape(eigenvalues) != (W.shape[0],):
        raise fail("eigenvalues", f"W's {W.shape[0]} eigenvalues", np.shape(eigenvalues))
    W = W.astype(np.float64)
    if not np.all(np.isfinite(W)):
        nan = np.full(W.shape[0], np.nan + 0j)
        return Spectrum(nan, float("nan"), float("nan"))
    lam = np.linalg.eigvals(W) if eigenvalues is None else np.asarray(eigenvalues, dtype=complex)
    lam = lam[np.argsort(-np.abs(lam), kind="stable")]
    return Spectrum(lam, float(np.abs(lam[0])), float(np.linalg.norm(W, 2)))


def recurrent_spectra(params: Parameters) -> dict[str, Spectrum]:
    """spectrum() of each of the cell's recurrent matrices, by their labels (vanilla: {"W": ...};
    an LSTM one per gate). O(n_s^3) per matrix."""
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters object", type(params).__name__)
    matrices = get_cell(params.cell).recurrent_matrices(params.as_dict())
    return {label: spectrum(M) for label, M in matrices.items()}
