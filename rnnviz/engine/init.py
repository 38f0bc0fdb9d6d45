"""Whole parameter sets drawn from an explicit numpy.random.Generator: the vanilla cell's in the
seed's draw order, and any registered cell's (its own arrays, then the readout's V and by).

The single matrices come from draws.py (re-exported here): W by one of four recipes, scaled so
that its spectral radius rho(W) = max |eigenvalue| equals the requested value (Pascanu et al.
2013 call this the knob that decides whether gradients vanish or explode).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_dtype, check_number, check_rng, check_size
from .cells import get_cell
from .draws import (
    RECURRENT_KINDS,
    bias,
    input_matrix,
    output_matrix,
    recurrent_matrix,
    recurrent_matrix_and_eigenvalues,
)
from .parameters import Parameters


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
