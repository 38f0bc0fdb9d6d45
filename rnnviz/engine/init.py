"""Initialisers for U, W, V and the biases, each drawing from an explicit numpy.random.Generator.

The recurrent matrix W is drawn by one of four recipes and then scaled so that its spectral
radius rho(W) = max |eigenvalue| equals the requested value (Pascanu et al. 2013 call this the
knob that decides whether gradients vanish or explode).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice, check_dtype, check_number, check_rng, check_size
from .cells.registry import get_cell
from .parameters import Parameters

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


def init_parameters(rng: np.random.Generator, n_x: int, n_s: int, n_y: int, *, kind: str,
                    spectral_radius: float, u_scale: float, v_scale: float, ba_scale: float,
                    by_scale: float, sparse_k: int = 15, dtype=np.float64,
                    with_eigenvalues: bool = False):
    """All five parameters, drawn in the order W, U, V, ba, by from one generator.

    with_eigenvalues=True returns (Parameters, eigenvalues of W or None): the draw's own
    eigenvalue solve, handed on so nobody solves it again (None where W was not solved for,
    and for float32, whose rounded W has slightly different eigenvalues).
    """
    check_rng("rng", rng)
    dt = check_dtype("dtype", dtype)
    for name, value in (("u_scale", u_scale), ("v_scale", v_scale),
                        ("ba_scale", ba_scale), ("by_scale", by_scale)):
        check_number(name, value, minimum=0.0)
    n_x, n_s, n_y = check_size("n_x", n_x), check_size("n_s", n_s), check_size("n_y", n_y)
    W, lam = recurrent_matrix_and_eigenvalues(rng, n_s, kind, spectral_radius, sparse_k)
    U = input_matrix(rng, n_s, n_x, u_scale)
    V = output_matrix(rng, n_y, n_s, v_scale)
    ba = bias(rng, n_s, ba_scale)
    by = bias(rng, n_y, by_scale)
    params = Parameters(U=U.astype(dt), W=W.astype(dt), V=V.astype(dt),
                        ba=ba.astype(dt), by=by.astype(dt))
    if not with_eigenvalues:
        return params
    return params, (lam if dt == np.float64 else None)


def init_cell_parameters(rng: np.random.Generator, cell: str, n_x: int, n_s: int, n_y: int, *,
                         v_scale: float, by_scale: float, dtype=np.float64, **options) -> Parameters:
    """Any registered cell's parameters: its own arrays from cell.init_params(rng, n_x, n_s,
    dtype, **options), then the readout's V and by, from one generator.

    The vanilla cell goes through init_parameters (options: kind, spectral_radius, u_scale,
    ba_scale, sparse_k), which keeps the seed's draw order W, U, V, ba, by.
    """
    if cell == "vanilla":
        return init_parameters(rng, n_x, n_s, n_y, v_scale=v_scale, by_scale=by_scale, dtype=dtype,
                               **options)
    check_rng("rng", rng)
    dt = check_dtype("dtype", dtype)
    n_x, n_s, n_y = check_size("n_x", n_x), check_size("n_s", n_s), check_size("n_y", n_y)
    arrays = get_cell(cell).init_params(rng, n_x, n_s, dt, **options)
    V = output_matrix(rng, n_y, n_s, v_scale)
    by = bias(rng, n_y, by_scale)
    return Parameters(cell=cell, **arrays, V=V.astype(dt), by=by.astype(dt))


__all__ = ["RECURRENT_KINDS", "recurrent_matrix", "recurrent_matrix_and_eigenvalues",
           "input_matrix", "output_matrix", "bias", "init_parameters", "init_cell_parameters"]
