"""The matrix draws: U, W, V and the biases, each from an explicit numpy.random.Generator.

The recurrent matrix W is drawn by one of four recipes and then scaled so that its spectral
radius rho(W) = max |eigenvalue| equals the requested value (Pascanu et al. 2013 call this the
knob that decides whether gradients vanish or explode).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice, check_number, check_rng, check_size

RECURRENT_KINDS = ("gaussian", "orthogonal", "identity", "sparse")
_MAX_REDRAWS = 20     # a Gaussian/sparse draw with rho(W) == 0 has probability zero; retry anyway


def _scaled_to_radius(rng: np.random.Generator, draw, spectral_radius: float):
    """Draw W with draw(rng) and rescale it to the spectral radius (redraw if rho(W) is 0);
    returns W and its eigenvalues (those of the draw, rescaled alike)."""
    for _ in range(_MAX_REDRAWS):
        W = draw(rng)
        lam = np.linalg.eigvals(W)
        rho = float(np.max(np.abs(lam)))
        if rho > 1e-300:
            return W * (spectral_radius / rho), lam * (spectral_radius / rho)
    raise RuntimeError("could not draw a recurrent matrix with a non-zero spectral radius")


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-random orthogonal matrix: QR of a Gaussian with the signs of diag(R) folded into Q."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1.0
    return Q * signs


def _sparse(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Each row (one unit's incoming weights) gets exactly k non-zero N(0, 1) entries."""
    W = np.zeros((n, n))
    for i in range(n):
        cols = rng.choice(n, size=k, replace=False)
        W[i, cols] = rng.standard_normal(k)
    return W


def recurrent_matrix(rng: np.random.Generator, n_s: int, kind: str, spectral_radius: float,
                     sparse_k: int = 15) -> np.ndarray:
    """The recurrent matrix W (n_s, n_s), float64, with rho(W) == spectral_radius (see
    recurrent_matrix_and_eigenvalues)."""
    return recurrent_matrix_and_eigenvalues(rng, n_s, kind, spectral_radius, sparse_k)[0]


def recurrent_matrix_and_eigenvalues(rng: np.random.Generator, n_s: int, kind: str,
                                     spectral_radius: float, sparse_k: int = 15):
    """The recurrent matrix W (n_s, n_s), float64, with rho(W) == spectral_radius, and W's
    eigenvalues where the draw solved for them (gaussian, sparse; else None), to rounding.

    kind: "gaussian"   N(0, 1/n_s) entries, rescaled to the radius;
          "orthogonal" a random orthogonal matrix (Saxe et al. 2013) times the radius;
          "identity"   radius * I (the IRNN recipe, Le et al. 2015);
          "sparse"     k = min(sparse_k, n_s) incoming N(0, 1) weights per unit, rescaled to the
                       radius (Pascanu et al. 2013).
    A radius of 0 gives the zero matrix. Cost: one eigenvalue solve, O(n_s^3).
    """
    check_rng("rng", rng)
    n_s = check_size("n_s", n_s)
    kind = check_choice("kind", kind, RECURRENT_KINDS)
    radius = check_number("spectral_radius", spectral_radius, minimum=0.0)
    k = min(check_size("sparse_k", sparse_k), n_s)
    if kind == "identity":
        return radius * np.eye(n_s), None
    if kind == "orthogonal":
        return radius * _orthogonal(rng, n_s), None
    if kind == "gaussian":
        draw = lambda g: g.standard_normal((n_s, n_s)) / np.sqrt(n_s)   # noqa: E731
    else:
        draw = lambda g: _sparse(g, n_s, k)                              # noqa: E731
    W, lam = _scaled_to_radius(rng, draw, radius)  # drawn even for radius 0: same stream after
    return (W, lam) if radius > 0 else (np.zeros((n_s, n_s)), np.zeros(n_s, dtype=complex))


def input_matrix(rng: np.random.Generator, n_s: int, n_x: int, scale: float) -> np.ndarray:
    """U (n_s, n_x) with N(0, scale^2 / n_x) entries: each unit's input has variance scale^2."""
    check_rng("rng", rng)
    n_s, n_x = check_size("n_s", n_s), check_size("n_x", n_x)
    scale = check_number("scale", scale, minimum=0.0)
    return rng.standard_normal((n_s, n_x)) * (scale / np.sqrt(n_x))


def output_matrix(rng: np.random.Generator, n_y: int, n_s: int, scale: float) -> np.ndarray:
    """V (n_y, n_s) with N(0, scale^2 / n_s) entries."""
    check_rng("rng", rng)
    n_y, n_s = check_size("n_y", n_y), check_size("n_s", n_s)
    scale = check_number("scale", scale, minimum=0.0)
    return rng.standard_normal((n_y, n_s)) * (scale / np.sqrt(n_s))


def bias(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """A bias column (n, 1) with N(0, scale^2) entries; zeros (and no draw) when scale == 0."""
    check_rng("rng", rng)
    n = check_size("n", n)
    scale = check_number("scale", scale, minimum=0.0)
    if scale == 0:
        return np.zeros((n, 1))
    return rng.standard_normal((n, 1)) * scale


__all__ = ["RECURRENT_KINDS", "recurrent_matrix", "recurrent_matrix_and_eigenvalues",
           "input_matrix", "output_matrix", "bias"]
