"""Gradient-flow analysis for one batch element: BPTT norms, the Jacobians ds_T/ds_t, connectivity.

Conventions: t is 0-based, T-1 is the last step, J_k = ds_k/ds_{k-1} = diag(f'(a_k)) W, and the
Jacobian of step t is P_t = ds_{T-1}/ds_t = J_{T-1} ... J_{t+1} (P_{T-1} = I).
Products of many Jacobians leave the float range, so they are carried as a matrix of norm 1
times 10**(a log10 scale), and f' enters as log|f'| (exact even where 1 - tanh^2 rounds to 0).
Nothing here raises or warns on non-finite numbers; the affected steps are reported instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import check_number, check_size, check_targets, fail
from ._jacobian import jacobian_products, log10_norms, log_derivative
from .activations import get_activation
from .parameters import Parameters
from .rnn import _nonfinite_steps, check_trace_and_targets, rows, seed_layout


class Interrupted(Exception):
    """Raised inside a long computation when its should_stop() callback returned True."""


@dataclass
class Spectrum:
    """Eigenvalues of W (sorted by decreasing modulus), rho(W) and sigma_max(W)."""

    eigenvalues: np.ndarray     # complex (n_s,)
    spectral_radius: float
    sigma_max: float


@dataclass
class GradientFlow:
    """How the gradient travels back through time, for one batch element b."""

    grad_norm: np.ndarray               # (T,) ||dL/ds_t||
    last_loss_grad_norm: np.ndarray     # (T,) ||dL_T/ds_t||, L_T the last step's term of L
    jacobian_norm: np.ndarray           # (T,) ||ds_T/ds_t||_2 (10**log10: may be inf or 0)
    jacobian_top_sv: np.ndarray         # (T, k) top singular values of ds_T/ds_t (k <= n_s;
                                        # those below ~1e-15 of the norm are rounding noise)
    log10_jacobian_norm: np.ndarray     # (T,) exact even where the norm leaves the float range
    bound: np.ndarray                   # (T,) (gamma sigma_max(W))^(T-1-t)
    log10_bound: np.ndarray             # (T,)
    rate_per_step: float                # geometric-mean factor of the Jacobian norm per step back
    nonfinite_steps: np.ndarray         # int steps where any curve above is nan or overflowed
    log10_jacobian_top_sv: np.ndarray   # (T, k) exact log10 of jacobian_top_sv
    log10_last_loss_grad_norm: np.ndarray   # (T,) exact log10 of last_loss_grad_norm


@dataclass(eq=False)
class LastLossGradient:
    """dL_T/ds_t for every unit, batch element and step: the last step's loss alone."""

    ds: np.ndarray                      # (n_s, m, T) dL_T/ds_t, L_T = -(1/m) sum_b log y_T[target]
    nonfinite_steps: np.ndarray         # int steps t where any entry of ds is nan or overflowed


def last_loss_gradient(params: Parameters, trace, targets) -> LastLossGradient:
    """The gradient of the last step's loss L_T alone with respect to every state s_t.

    L_T = -(1/m) sum_b log y_{T-1}[targets[b, T-1], b] (0-based: the term of L at the last step).
    dL_T/ds_{T-1} = V^T (y_{T-1} - onehot(target_{T-1})) / m, then going back in time
    dL_T/ds_t = W^T (f'(a_{t+1}) * dL_T/ds_{t+1}) for t = T-2 .. 0, all batch elements at once.
    Unlike the total dL/ds_t (Gradients.ds, into which every step's own loss feeds), this fades
    or blows up going back exactly as the Jacobians ds_T/ds_t do: its norm per step is
    ||(ds_T/ds_t)^T dL_T/ds_T||. f' is the engine's (as in backward), in the parameters' dtype.
    Cost: one (m, n_s) x (n_s, n_s) product per step, O(T n_s^2 m). Non-finite values never
    raise; the steps holding them are listed in nonfinite_steps.
    """
    targets = check_trace_and_targets(params, trace, targets)
    n_s, m, T = trace.s.shape
    act = get_activation(trace.activation)
    a_r, s_r, y_r = rows(trace.a), rows(trace.s), rows(trace.y)      # (T, m, n) views
    G = np.empty((T, m, n_s), dtype=params.dtype)                   # row layout: G[t] = g_t^T
    with np.errstate(all="ignore"):
        dz = np.array(y_r[T - 1], dtype=params.dtype)                 # (m, n_y)
        dz[np.arange(m), targets[:, T - 1]] -= 1
        dz /= m
        np.matmul(dz, params.V, out=G[T - 1])                          # (V^T dz)^T = dz^T V
        DF = act.df(a_r, s_r)                                          # f'(a_t), (T, m, n_s)
        tmp = np.empty((m, n_s), dtype=params.dtype)
        for t in range(T - 2, -1, -1):                 # g_t^T = (f'(a_{t+1}) * g_{t+1})^T W
            np.multiply(DF[t + 1], G[t + 1], out=tmp)
            np.matmul(tmp, params.W, out=G[t])
        bad = _nonfinite_steps(G)
    return LastLossGradient(ds=seed_layout(G), nonfinite_steps=bad)


def _pow10(log10_values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.power(10.0, log10_values)


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


def _check_trace(params: Parameters, trace, b: int) -> int:
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters object", type(params).__name__)
    n_s, m, T = np.shape(trace.a)
    if n_s != params.n_s:
        raise fail("trace", f"a trace of a network with n_s={params.n_s}", f"n_s={n_s}")
    b = check_size("b", b, minimum=0)
    if b >= m:
        raise fail("b", f"a batch index in [0, m-1={m - 1}]", b)
    return b


def _geometric_rate(log10_norm: np.ndarray) -> float:
    """10**(log10 ||P_t0|| / (T-1-t0)), t0 the first step of the trailing stretch without NaN."""
    T = log10_norm.size
    bad = np.flatnonzero(np.isnan(log10_norm))
    t0 = int(bad.max()) + 1 if bad.size else 0
    if t0 >= T - 1:
        return float("nan")
    return float(_pow10(log10_norm[t0] / (T - 1 - t0)))


def gradient_flow(params: Parameters, trace, grads, targets, b: int = 0, k: int = 3,
                  should_stop: Callable[[], bool] | None = None,
                  progress: Callable[[int, Callable[[], GradientFlow]], None] | None = None,
                  sigma_max: float | None = None) -> GradientFlow:
    """The gradient-flow curves of batch element b over all steps (see GradientFlow).

    grad_norm is read from grads.ds. The Jacobians P_t are accumulated as P_t = P_{t+1} J_{t+1}
    (diag(f') folded into W's rows: one n_s^3 matrix product per step); the top-k singular
    values of each P_t come from a two-sided subspace iteration warm-started with the previous
    step's left singular subspace (O(n_s^2 q) per half step, q = k + 16 or more), guarded by the
    mass of P_t outside the subspace so no larger singular value can be missed; steps where the
    guard fails (flat spectra: the first steps of a product, orthogonal W) and small n_s use an
    exact SVD (O(n_s^3), ~8 matrix products). Once that subspace has converged (the left
    singular subspace of a product growing on the right does, Oseledets), P_t is no longer
    formed: U^T P_t and a 16-row Gaussian sketch of the rest are carried forward, O(n_s^2 (q + 16))
    per step, and certify the values with a bound that fails with probability below ~1e-12
    per step (rnnviz/engine/_jacobian.py, _Sketch); where they no longer can, P_t is formed
    again from the factors kept. In all O(T0 n_s^3 + T n_s^2 q), T0 the steps before the first
    sketch (30-100 at n_s = 256 in benchmarks/bench_analysis.py). Accurate to ~1e-11 of ||P_t|| (measured ~1e-13 against
    explicit products).
    dL_T/ds_t = P_t^T dL_T/ds_{T-1}: one matrix-vector product per step, where
    L_T = -log y_{T-1}[target] / m is the last step's term of L (so it equals dL/ds_t at T-1).
    The bound is (gamma sigma_max(W))^(T-1-t). rate_per_step = ||P_0||^(1/(T-1)), the
    geometric mean of ||P_t|| / ||P_{t+1}|| (over the trailing NaN-free stretch; 0 once the
    Jacobian is exactly zero, NaN for T = 1). should_stop() is polled every step.
    progress(t, partial), when given, is called before the first Jacobian product (t = T-1)
    and after each step t (t = T-2 down to 0); partial() returns the GradientFlow so far, its
    Jacobian curves NaN for the steps before t not computed yet (and those not listed in
    nonfinite_steps). Building it costs O(T k): call it only when the partial result is wanted.
    sigma_max, when given, is sigma_max(W) for the bound (e.g. Spectrum.sigma_max, already
    known): a finite number >= 0 that saves an O(n_s^3) SVD; None computes ||W||_2 here.
    """
    b = _check_trace(params, trace, b)
    k = check_size("k", k)
    if sigma_max is not None:
        sigma_max = check_number("sigma_max", sigma_max, minimum=0.0)
    n_s, m, T = trace.a.shape
    targets = check_targets("targets", targets, m, T, params.n_y)
    act = get_activation(trace.activation)
    W, V = params.W.astype(np.float64), params.V.astype(np.float64)

    with np.errstate(all="ignore"):
        log_df = log_derivative(act, trace.a[:, b, :].astype(np.float64))
        y_last = trace.y[:, b, T - 1].astype(np.float64)
        dz_last = y_last.copy()
        dz_last[targets[b, T - 1]] -= 1.0
        g_last = V.T @ dz_last / m                      # dL_T/ds_{T-1}
        spec_sigma = (np.nan if not np.all(np.isfinite(W)) else
                      np.linalg.norm(W, 2) if sigma_max is None else sigma_max)
        log10_rate_bound = np.log10(act.gamma * spec_sigma)
        steps_back = np.arange(T - 1, -1, -1, dtype=np.float64)
        log10_bound = np.where(steps_back == 0, 0.0, steps_back * log10_rate_bound)
        grad_norm = _pow10(log10_norms(grads.ds[:, b, :]))
        step = None
        if progress is not None:
            def step(t, sv, last):
                progress(t, lambda: _assemble(sv.copy(), last.copy(), grad_norm, log10_bound, t))
        log10_sv, log10_last = jacobian_products(W, log_df, min(k, n_s), g_last, should_stop,
                                                 Interrupted, step)
    return _assemble(log10_sv, log10_last, grad_norm, log10_bound, 0)


def _assemble(log10_sv, log10_last, grad_norm, log10_bound, first: int) -> GradientFlow:
    """The GradientFlow from its log10 curves; steps before `first` are not computed yet."""
    with np.errstate(all="ignore"):
        log10_norm = log10_sv[:, 0].copy()
        jacobian_norm = _pow10(log10_norm)
        last_norm = _pow10(log10_last)
        bad = (~np.isfinite(grad_norm) | ~np.isfinite(last_norm) | ~np.isfinite(jacobian_norm)
               | np.isnan(log10_norm))
        bad[:first] = ~np.isfinite(grad_norm[:first])
    return GradientFlow(
        grad_norm=grad_norm, last_loss_grad_norm=last_norm, jacobian_norm=jacobian_norm,
        jacobian_top_sv=_pow10(log10_sv), log10_jacobian_norm=log10_norm,
        bound=_pow10(log10_bound), log10_bound=log10_bound,
        rate_per_step=_geometric_rate(log10_norm), nonfinite_steps=np.flatnonzero(bad),
        log10_jacobian_top_sv=log10_sv, log10_last_loss_grad_norm=log10_last)


def connectivity(params: Parameters, trace, t: int, b: int = 0, k: int | None = None) -> np.ndarray:
    """||d z_t[k] / d x_t'||_2 for every t' <= t (Distill's connectivity); zeros for t' > t.

    k None picks the arg-max class of y_t. Vector recurrence g_{t'-1} = W^T (f'(a_t') * g_t')
    from g_t = V[k]^T, then all U^T (f' * g) at once: O(t n_s^2 + t n_s n_x). Carried with a
    log10 scale like the Jacobians, so values that leave the float range come out as 0 or inf.
    """
    b = _check_trace(params, trace, b)
    n_s, m, T = trace.a.shape
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
    act = get_activation(trace.activation)
    W, U = params.W.astype(np.float64), params.U.astype(np.float64)
    out = np.full(T, -np.inf)
    H = np.zeros((n_s, t + 1))                 # f'(a_t') * dz_t[k]/ds_t', normalised columns
    scale = np.full(t + 1, -np.inf)            # their log10 scales
    with np.errstate(all="ignore"):
        log_df = log_derivative(act, trace.a[:, b, :t + 1].astype(np.float64))
        top = np.max(log_df, axis=0)                       # per step: f' / max f' in [0, 1]
        D = np.exp(log_df - np.where(np.isfinite(top), top, 0.0))
        WT = np.ascontiguousarray(W.T)
        g, c = params.V[k].astype(np.float64), 0.0
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
                break                                       # nothing flows further back
            h /= h_norm
            c += top[tp] / np.log(10) + np.log10(h_norm)
            H[:, tp], scale[tp] = h, c
            g = WT @ h
        out[:t + 1] = scale + log10_norms(U.T @ H)
    out[:t + 1][np.isnan(scale)] = np.nan
    return _pow10(out)


def step_shares(params: Parameters, trace, grads, b: int | None = None) -> np.ndarray:
    """Each step's share of ||dW||: ||dW_t||_F / sum_t' ||dW_t'||_F, summing to 1.

    dW_t = da_t s_{t-1}^T (da_t = dL/da_t, which carries the batch mean's 1/m) is step t's term
    of dW = sum_t dW_t; with b given, only batch element b's column enters. NaN for steps whose
    dW_t is non-finite (the others share 1 among themselves); zeros when dW is exactly 0.
    Cost: O(T n_s m^2) via the Gram matrices of da_t and s_{t-1}.
    """
    if not isinstance(params, Parameters):
        raise fail("params", "a Parameters object", type(params).__name__)
    n_s, m, T = trace.a.shape
    act = get_activation(trace.activation)
    with np.errstate(all="ignore"):
        a, s = trace.a.astype(np.float64), trace.s.astype(np.float64)
        da = grads.ds.astype(np.float64) * act.df(a, s)
        s_prev = np.concatenate([trace.s0.astype(np.float64)[:, :, None], s[:, :, :-1]], axis=2)
        if b is not None:
            b = _check_trace(params, trace, b)
            da, s_prev = da[:, b:b + 1, :], s_prev[:, b:b + 1, :]
        alpha = np.max(np.abs(da), axis=(0, 1))
        beta = np.max(np.abs(s_prev), axis=(0, 1))
        A = da / np.where(alpha > 0, alpha, 1.0)
        S = s_prev / np.where(beta > 0, beta, 1.0)
        fro2 = np.einsum("imt,int,jmt,jnt->t", A, A, S, S, optimize=True)
        log10_dw = np.log10(alpha) + np.log10(beta) + 0.5 * np.log10(fro2)
        finite = ~np.isnan(log10_dw) & (log10_dw < np.inf)
        shares = np.full(T, np.nan)
        shares[finite] = 0.0
        live = finite & (log10_dw > -np.inf)
        if np.any(live):
            rel = _pow10(log10_dw[live] - np.max(log10_dw[live]))
            shares[live] = rel / np.sum(rel)
    return shares
