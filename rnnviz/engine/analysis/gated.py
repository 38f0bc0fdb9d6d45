"""The gated cells' own paths back through time: the carousel (a product of gates) and the blocks
of the state Jacobian, for one batch element.

Conventions as in flow.py: t is 0-based, P_t = d state_{T-1} / d state_t = J_{T-1} ... J_{t+1}
(P_{T-1} = I), the state all of the cell's parts.

LSTM (state (h, c)). c_t = f_t c_{t-1} + i_t g_t, so along c alone, holding h fixed,
d c_t / d c_{t-1} = diag(f_t): the constant error carousel (Hochreiter & Schmidhuber 1997, with
the forget gate of Gers, Schmidhuber & Cummins 2000). Its part of the Jacobian is

    the carousel  C_t = prod_{k=t+1}^{T-1} f_k  (per unit; C_{T-1} = 1),

no weight matrix in it and every factor in (0, 1): this path cannot explode and fades only as
fast as the forget gates close. The whole Jacobian adds the paths through h and the gates (they
go through W). Its blocks are reported too: ||d h_T / d h_t||_2 and ||d c_T / d c_t||_2, the
diagonal blocks of P_t (each part's own dependence, the other part held fixed at step t).
GRU (state s). s_t = z_t s_{t-1} + (1 - z_t) n_t: the update gate z plays the forget gate's role,
C_t = prod z_k the direct path; the whole Jacobian is the flow's own curve (one part: no blocks).

No a-priori bound is given for a gated cell: its step Jacobians depend on the gate values (and
the LSTM's on c_{t-1}, which is not bounded), so (gamma sigma_max(W))^(T-t) does not apply and
nothing as simple replaces it; the carousel is exact for its path, not a bound on the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._checks import fail
from ..cells import get_cell
from ..network import row_arrays
from ..parameters import Parameters
from ._common import Interrupted, check_trace
from ._products import NAN, ProductSteps, VjpSteps

EXACT_NORM_MAX_N = 64      # up to this block size an SVD per step; above, warm-started iteration
BLOCK_VECTORS = 6          # subspace size of that iteration
MAX_ITERATIONS = 40        # iterations per step before falling back to an SVD
NORM_RTOL = 1e-12          # accept sigma_1 when its error estimate is below this * sigma_1


@dataclass
class GatedFlow:
    """A gated cell's carousel and the diagonal blocks of its state Jacobian, for batch element b."""

    gate: str                           # the carrying gate: "f" (LSTM), "z" (GRU)
    part: str                           # the state part it carries: "c" (LSTM), "s" (GRU)
    log10_carousel: np.ndarray          # (n_s, T) log10 prod_{k=t+1}^{T-1} gate_k, per unit
    log10_carousel_max: np.ndarray      # (T,) its largest unit: log10 ||diag(prod)||_2
    log10_carousel_median: np.ndarray   # (T,) its median unit
    log10_block_norms: dict             # {part: (T,) log10 ||d part_T / d part_t||_2}: the
                                        # diagonal blocks of P_t (empty for one-part cells)
    nonfinite_steps: np.ndarray         # steps where a curve above is NaN
    progress: float = 1.0               # share of the block norms computed (1: complete)

    @property
    def carousel_max(self) -> np.ndarray:
        """(T,) the largest unit's gate product (10**log10_carousel_max)."""
        with np.errstate(over="ignore"):
            return np.power(10.0, self.log10_carousel_max)


def has_carousel(cell_name: str) -> bool:
    """Whether the cell has a carrying gate (and so a GatedFlow)."""
    return get_cell(cell_name).carry_gate is not None


def carousel(trace, b: int) -> np.ndarray:
    """(n_s, T) log10 prod_{k=t+1}^{T-1} g_k of the cell's carrying gate g, for element b (exact
    in float64 for the stored gate values; -inf where a gate is exactly 0, NaN where not finite)."""
    cell = get_cell(trace.cell, trace.activation)
    if cell.carry_gate is None:
        raise fail("trace", "a trace of a cell with a carrying gate (LSTM, GRU)", trace.cell)
    g = np.asarray(trace.parts[cell.carry_gate][:, b, :], dtype=np.float64)
    n_s, T = g.shape
    with np.errstate(all="ignore"):
        logs = np.log10(g)
        out = np.zeros((n_s, T))
        # out[:, t] = sum of logs[:, t+1:], as a cumulative sum from the end
        out[:, :-1] = np.cumsum(logs[:, :0:-1], axis=1)[:, ::-1]
    return out


def _top_singular_value(B: np.ndarray, X: np.ndarray | None) -> tuple[float, np.ndarray | None]:
    """sigma_1(B) and the right vectors to warm-start the next step with.

    Small blocks: an SVD. Larger: subspace iteration on A = B^T B from X (BLOCK_VECTORS
    orthonormal columns, the previous step's top subspace: one or two iterations usually), with
    Rayleigh-Ritz: the Ritz values of A are the eigenvalues lam of X^T A X (lam_1 = S_1^2, off by
    ~n eps S_1^2 in rounding). The top one is accepted when its error estimate min(r, r^2 / gap)
    (r the residual ||A x - lam_1 x||, gap lam_1 - lam_2; as flow's _converged, Saad's Thm 3.8)
    puts sigma_1 within NORM_RTOL; an SVD where it does not converge in MAX_ITERATIONS (flat
    spectra, as P_t near I at the first steps). One QR an iteration (A X is formed once, for the
    residual and the next subspace alike): 1.58 -> 1.13 s for an LSTM's blocks at n_s = 256,
    T = 500, against two QRs and an SVD of the small factor before."""
    n = B.shape[1]
    if n <= EXACT_NORM_MAX_N or not np.all(np.isfinite(B)):
        return _svd_norm(B), None
    if X is None:
        X = np.linalg.qr(np.random.default_rng(0).standard_normal((n, BLOCK_VECTORS)))[0]
    for _ in range(MAX_ITERATIONS):
        Z = B.T @ (B @ X)                                   # A X
        H = X.T @ Z
        lam, W = np.linalg.eigh(0.5 * (H + H.T))
        lam, W = lam[::-1], W[:, ::-1]
        if not lam[0] > 0:                  # B = 0, or X meets none of it: the SVD says
            return (0.0, None) if not np.any(B) else (_svd_norm(B), None)
        r = float(np.linalg.norm(Z @ W[:, 0] - lam[0] * (X @ W[:, 0])))
        gap = lam[0] - lam[1]
        err = min(r, r * r / gap) if gap > 0 else r          # on lam_1 = S_1^2
        X = np.linalg.qr(Z @ W)[0]
        if err <= 2.0 * NORM_RTOL * lam[0]:                  # sigma_1's: err / (2 S_1)
            return float(np.sqrt(lam[0])), X
    return _svd_norm(B), None


def _svd_norm(B: np.ndarray) -> float:
    try:
        return float(np.linalg.norm(B, 2))
    except np.linalg.LinAlgError:           # LAPACK refuses NaN/inf
        return float("nan")


def gated_flow(params: Parameters, trace, b: int = 0,
               should_stop: Callable[[], bool] | None = None,
               progress: Callable[[int, Callable[[], GatedFlow]], None] | None = None) -> GatedFlow:
    """The carousel and the Jacobian's diagonal blocks of batch element b (see GatedFlow).

    The carousel is O(n_s T). The blocks (cells of more than one state part: the LSTM) carry the
    whole P_t = P_{t+1} J_{t+1} (through the cell's products, Cell.step_products, else its
    step VJP), normalised every step with the scale kept as log10: O(T n_state^2 n_s) with the
    LSTM's products, and each block's sigma_1 from an SVD (n_s <= 64) or a warm-started
    subspace iteration (O(n_s^2) per iteration). should_stop() is polled every step;
    progress(t, partial), when given, is called after each step t with a function returning the
    GatedFlow so far (its block norms NaN before t). Non-finite numbers never raise.
    """
    b = check_trace(params, trace, b)
    cell = get_cell(trace.cell, trace.activation)
    if cell.carry_gate is None:
        raise fail("trace", "a trace of a cell with a carrying gate (LSTM, GRU)", trace.cell)
    n_s, _, T = trace.s.shape
    with np.errstate(all="ignore"):
        logs = carousel(trace, b)
        top = np.max(logs, axis=0)
        median = np.median(logs, axis=0)
    parts = cell.state_parts
    blocks = {part: np.full(T, np.nan) for part in parts} if len(parts) > 1 else {}
    for curve in blocks.values():
        curve[T - 1] = 0.0                                  # P_{T-1} = I

    def assemble(first: int) -> GatedFlow:
        curves = [top, median] + list(blocks.values())
        bad = np.zeros(T, dtype=bool)
        for curve in curves:
            bad |= np.isnan(curve)
        bad[:first] = np.isnan(top[:first]) | np.isnan(median[:first])
        done = 1.0 if not blocks or T == 1 else (T - 1 - first) / (T - 1)
        return GatedFlow(gate=cell.carry_gate, part=cell.carry_part, log10_carousel=logs,
                         log10_carousel_max=top, log10_carousel_median=median,
                         log10_block_norms={k: v.copy() for k, v in blocks.items()},
                         nonfinite_steps=np.flatnonzero(bad), progress=done)

    if blocks and T > 1:
        _blocks(cell, params, trace, b, blocks, should_stop, progress, assemble)
    return assemble(0)


def _blocks(cell, params, trace, b, blocks, should_stop, progress, assemble) -> None:
    """Fill blocks[part][t] = log10 ||P_t[part, part]||_2 for t = T-2 .. 0 (in place)."""
    n_s, _, T = trace.s.shape
    n = len(cell.state_parts) * n_s
    p = params.as_dict()
    x_r, state0_r, arrays = row_arrays(trace)
    with np.errstate(all="ignore"):
        products = cell.step_products(p, arrays, state0_r, b)
        if products is not None:
            steps = ProductSteps(products, T)
        else:
            steps = VjpSteps(lambda t, G: cell.step_vjp(p, arrays, x_r, state0_r, t, b, G), n, T)
        P, P_next, J = np.eye(n), np.empty((n, n)), np.empty((n, n))
        c, norm = 0.0, 1.0
        warm = {part: None for part in blocks}
        for t in range(T - 2, -1, -1):
            if should_stop is not None and should_stop():
                raise Interrupted(f"gated flow stopped at step {t + 1}")
            step = steps.step(t + 1, norm)
            if step is NAN:
                break
            step.matrix(P, J, P_next)
            P, P_next = P_next, P
            c += step.log10_scale + np.log10(norm)
            norm = float(np.max(np.abs(P)))
            if not np.isfinite(norm):
                break
            for j, part in enumerate(cell.state_parts):
                block = P[j * n_s:(j + 1) * n_s, j * n_s:(j + 1) * n_s]
                sigma, warm[part] = _top_singular_value(block, warm[part])
                blocks[part][t] = c + np.log10(sigma) if sigma > 0 else -np.inf
            if norm == 0:
                for curve in blocks.values():
                    curve[:t] = -np.inf
                break
            if progress is not None:
                progress(t, lambda t=t: assemble(t))


__all__ = ["GatedFlow", "carousel", "gated_flow", "has_carousel"]
