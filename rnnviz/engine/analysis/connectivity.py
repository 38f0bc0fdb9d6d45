"""How much each input step reaches an output (connectivity), and each step's share of the gradient."""

from __future__ import annotations

import numpy as np

from .._checks import check_size, fail
from ..cells import get_cell
from ..network import row_arrays
from ..parameters import Parameters
from ._common import check_trace, pow10
from ._products import log10_norms

LN10 = np.log(10.0)


def connectivity(params: Parameters, trace, t: int, b: int = 0, k: int | None = None) -> np.ndarray:
    """||d z_t[k] / d x_t'||_2 for every t' <= t (Distill's connectivity); zeros for t' > t.

    k None picks the arg-max class of y_t. The row vector g = dz_t[k]/d state_t' is carried
    back, g <- g J_t', from g = V[k] (on h, 0 on the other state parts); each step's input
    gradient is g K_t' (K = d state / d x). Cells with factors (J_t = diag(f'_t) W,
    K_t = diag(f'_t) U: vanilla) run it as one vector recurrence g_{t'-1} = W^T (f'(a_t') * g_t')
    and one product U^T [f' * g]: O(t n_s^2 + t n_s n_x); others through their step and input
    VJPs, O(t n_state^2) in all. Carried with a log10 scale like the Jacobians, so values that
    leave the float range come out as 0 or inf.
    """
    b = check_trace(params, trace, b)
    n_s, m, T = trace.s.shape
    t = check_size("t", t, minimum=0)
    if t >= T:
        raise fail("t", f"a step in [0, T-1={T - 1}]", t)
    if k is None:
        y_t = np.asarray(trace.y[:, b, t], dtype=np.float64)
        k = int(np.argmax(np.where(np.isnan(y_t), -np.inf, y_t)))
    else:
        k = check_size("k", k, minimum=0)
        if k >= params.n_y:
            raise fail("k", f"a class in [0, n_y-1={params.n_y - 1}]", k)
    cell = get_cell(trace.cell, trace.activation)
    p = params.as_dict()
    x_r, state0_r, arrays = row_arrays(trace)
    with np.errstate(all="ignore"):
        factors = cell.jacobian_factors(p, arrays, b)
        M_x = None if factors is None else cell.input_factor(p)
        if M_x is not None:
            return _by_factors(factors[0], factors[1][:, :t + 1], M_x, params.V[k], T)
        n_state = len(cell.state_parts) * n_s
        g = np.zeros(n_state)
        g[:n_s] = params.V[k]
        return _by_vjp(lambda tp, G: cell.input_vjp(p, arrays, x_r, state0_r, tp, b, G),
                       lambda tp, G: cell.step_vjp(p, arrays, x_r, state0_r, tp, b, G), g, t, T)


def _by_factors(W: np.ndarray, log_df: np.ndarray, U: np.ndarray, v: np.ndarray, T: int) -> np.ndarray:
    """Connectivity from J_t = diag(exp(log_df_t)) W and K_t = diag(exp(log_df_t)) U (t + 1 steps)."""
    n_s, steps = log_df.shape
    t = steps - 1
    out = np.full(T, -np.inf)
    H = np.zeros((n_s, t + 1))                 # f'(a_t') * dz_t[k]/ds_t', normalised columns
    scale = np.full(t + 1, -np.inf)            # their log10 scales
    top = np.max(log_df, axis=0)               # per step: f' / max f' in [0, 1]
    D = np.exp(log_df - np.where(np.isfinite(top), top, 0.0))
    WT = np.ascontiguousarray(W.T)
    g, c = v.astype(np.float64), 0.0
    for tp in range(t, -1, -1):
        if np.isnan(top[tp]):
            scale[:tp + 1] = np.nan
            break
        h = g * D[:, tp]
        h_norm = np.sqrt(np.dot(h, h))
        if not np.isfinite(h_norm):
            scale[:tp + 1] = np.nan
            break
        if h_norm == 0:
            break                                           # nothing flows further back
        h /= h_norm
        c += top[tp] / LN10 + np.log10(h_norm)
        H[:, tp], scale[tp] = h, c
        g = WT @ h
    out[:t + 1] = scale + log10_norms(U.T @ H)
    out[:t + 1][np.isnan(scale)] = np.nan
    return pow10(out)


def _by_vjp(input_vjp, step_vjp, g: np.ndarray, t: int, T: int) -> np.ndarray:
    """Connectivity through the cell's VJPs: g K_t' at each step, g <- g J_t' going back."""
    out = np.full(T, -np.inf)
    c = 0.0
    for tp in range(t, -1, -1):
        X, cx = input_vjp(tp, g[None, :])
        value = c + cx + log10_norms(X[0][:, None])[0]
        if np.isnan(value):
            out[:tp + 1] = np.nan
            break
        out[tp] = value
        if tp == 0:
            break
        G, cj = step_vjp(tp, g[None, :])
        norm = np.sqrt(np.dot(G[0], G[0]))
        if np.isnan(cj) or not np.isfinite(norm):
            out[:tp] = np.nan
            break
        if norm == 0:
            break                                           # nothing flows further back
        g, c = G[0] / norm, c + cj + np.log10(norm)
    return pow10(out)


def step_shares(params: Parameters, trace, grads, b: int | None = None) -> np.ndarray:
    """Each step's share of the recurrent gradient: ||dM_t||_F / sum_t' ||dM_t'||_F, summing to 1.

    dM_t is step t's term of the gradient of the cell's recurrent matrices (all of them
    together; vanilla: dW_t = da_t s_{t-1}^T, da_t = dL/da_t, which carries the batch mean's
    1/m), from cell.recurrent_gradient_factors; ValueError for a cell that does not give them.
    With b given, only batch element b's column enters. NaN for steps whose dM_t is non-finite
    (the others share 1 among themselves); zeros when dM is exactly 0.
    Cost: O(T n_s m^2) per recurrent matrix, via the Gram matrices of its factors.
    """
    b = check_trace(params, trace, b)
    n_s, m, T = trace.s.shape
    cell = get_cell(trace.cell, trace.activation)
    x_r, state0_r, arrays = row_arrays(trace)
    with np.errstate(all="ignore"):
        pairs = cell.recurrent_gradient_factors(params.as_dict(), arrays, state0_r,
                                                np.asarray(grads.ds).transpose(2, 1, 0))
        if pairs is None:
            raise fail("trace", "a trace of a cell that gives its per-step recurrent gradient "
                       "terms (vanilla)", f"the {cell.label}'s")
        logs = np.array([_log10_step_norms(D, H, b) for D, H in pairs])
        if len(logs) == 1:
            log10_dm = logs[0]
        else:                                               # 0.5 log10 sum_pairs 10^(2 log)
            peak = np.max(logs, axis=0)
            ref = np.where(np.isfinite(peak), peak, 0.0)
            log10_dm = ref + 0.5 * np.log10(np.sum(pow10(2 * (logs - ref)), axis=0))
        finite = ~np.isnan(log10_dm) & (log10_dm < np.inf)
        shares = np.full(T, np.nan)
        shares[finite] = 0.0
        live = finite & (log10_dm > -np.inf)
        if np.any(live):
            rel = pow10(log10_dm[live] - np.max(log10_dm[live]))
            shares[live] = rel / np.sum(rel)
    return shares


def _log10_step_norms(D: np.ndarray, H: np.ndarray, b: int | None) -> np.ndarray:
    """log10 ||D[t]^T H[t]||_F for every t (D, H row layout (T, m, n)), scaled against overflow."""
    da, s_prev = D.transpose(2, 1, 0), H.transpose(2, 1, 0)       # (n, m, T)
    if b is not None:
        da, s_prev = da[:, b:b + 1, :], s_prev[:, b:b + 1, :]
    alpha = np.max(np.abs(da), axis=(0, 1))
    beta = np.max(np.abs(s_prev), axis=(0, 1))
    A = da / np.where(alpha > 0, alpha, 1.0)
    S = s_prev / np.where(beta > 0, beta, 1.0)
    fro2 = np.einsum("imt,int,jmt,jnt->t", A, A, S, S, optimize=True)
    return np.log10(alpha) + np.log10(beta) + 0.5 * np.log10(fro2)
