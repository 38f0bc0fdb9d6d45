"""Gradient flow for one batch element: BPTT norms and the Jacobians d state_T / d state_t.

Conventions: t is 0-based, T-1 is the last step, J_k = d state_k / d state_{k-1} (vanilla:
diag(f'(a_k)) W), and the Jacobian of step t is P_t = d state_{T-1} / d state_t =
J_{T-1} ... J_{t+1} (P_{T-1} = I); the state is all of the cell's parts, h the read-out one.
Products of many Jacobians leave the float range, so they are carried as a matrix of norm 1
times 10**(a log10 scale), and f' enters as log|f'| (exact even where 1 - tanh^2 rounds to 0).
Nothing here raises or warns on non-finite numbers; the affected steps are reported instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import readout
from .._checks import check_number, check_size
from .._layout import nonfinite_steps, rows, seed_layout
from ..cells import get_cell
from ..network import check_trace_and_targets, row_arrays
from ..parameters import Parameters
from ._common import Interrupted, check_trace, pow10
from ._products import FactorSteps, ProductSteps, VjpSteps, jacobian_products, log10_norms


@dataclass
class GradientFlow:
    """How the gradient travels back through time, for one batch element b."""

    grad_norm: np.ndarray               # (T,) ||dL/dh_t||
    last_loss_grad_norm: np.ndarray     # (T,) ||dL_T/dh_t||, L_T the last step's term of L
    jacobian_norm: np.ndarray           # (T,) ||d state_T / d state_t||_2 (10**log10: may be inf or 0)
    jacobian_top_sv: np.ndarray         # (T, k) its top singular values (k <= n_state;
                                        # those below ~1e-15 of the norm are rounding noise)
    log10_jacobian_norm: np.ndarray     # (T,) exact even where the norm leaves the float range
    bound: np.ndarray                   # (T,) q^(T-1-t), q = cell.jacobian_bound (vanilla:
                                        # gamma sigma_max(W)); NaN for cells without a bound
    log10_bound: np.ndarray             # (T,)
    rate_per_step: float                # geometric-mean factor of the Jacobian norm per step back
    nonfinite_steps: np.ndarray         # int steps where any curve above is nan or overflowed
    log10_jacobian_top_sv: np.ndarray   # (T, k) exact log10 of jacobian_top_sv
    log10_last_loss_grad_norm: np.ndarray   # (T,) exact log10 of last_loss_grad_norm


@dataclass(eq=False)
class LastLossGradient:
    """dL_T/dh_t for every unit, batch element and step: the last step's loss alone."""

    ds: np.ndarray                      # (n_s, m, T) dL_T/dh_t, L_T = (1/m) sum_b loss_{T-1}[b]
    nonfinite_steps: np.ndarray         # int steps t where any entry of ds is nan or overflowed


def last_loss_gradient(params: Parameters, trace, targets) -> LastLossGradient:
    """The gradient of the last step's loss L_T alone with respect to every read-out state h_t.

    L_T = (1/m) sum_b loss_{T-1}[b] (0-based: the term of L at the last step; cross-entropy:
    -log y_{T-1}[target]). dL_T/dh_{T-1} = V^T dL_T/dz_{T-1}, then back in time through the
    cell (cell.last_loss_backward; vanilla: dL_T/ds_t = W^T (f'(a_{t+1}) * dL_T/ds_{t+1}), one
    (m, n_s) x (n_s, n_s) product per step, O(T n_s^2 m)), all batch elements at once.
    Unlike the total dL/dh_t (Gradients.ds, into which every step's own loss feeds), this fades
    or blows up going back exactly as the Jacobians do: its norm per step is
    ||(d state_T / d state_t)^T dL_T/d state_T|| restricted to h. In the parameters' dtype.
    Non-finite values never raise; the steps holding them are listed in nonfinite_steps.
    """
    targets = check_trace_and_targets(params, trace, targets)
    cell = get_cell(trace.cell, trace.activation)
    n_s, m, T = trace.s.shape
    x_r, state0_r, arrays = row_arrays(trace)
    with np.errstate(all="ignore"):
        dz = readout.output_gradient_rows(rows(trace.z)[T - 1], rows(trace.y)[T - 1],
                                          readout.step_targets(targets, trace.loss, T - 1),
                                          trace.loss)
        dz /= m
        G = cell.last_loss_backward(params.as_dict(), x_r, state0_r, arrays, dz @ params.V)
        bad = nonfinite_steps(G)
    return LastLossGradient(ds=seed_layout(G), nonfinite_steps=bad)


def _geometric_rate(log10_norm: np.ndarray) -> float:
    """10**(log10 ||P_t0|| / (T-1-t0)), t0 the first step of the trailing stretch without NaN."""
    T = log10_norm.size
    bad = np.flatnonzero(np.isnan(log10_norm))
    t0 = int(bad.max()) + 1 if bad.size else 0
    if t0 >= T - 1:
        return float("nan")
    return float(pow10(log10_norm[t0] / (T - 1 - t0)))


def _bound(cell, p: dict, sigma_max: float | None) -> float:
    """cell.jacobian_bound (with the known sigma_max where given); nan when the cell has none."""
    if sigma_max is None:
        q = cell.jacobian_bound(p)
    elif "sigma_max" in inspect.signature(cell.jacobian_bound).parameters:
        q = cell.jacobian_bound(p, sigma_max=sigma_max)
    else:
        raise ValueError(f"sigma_max: expected None: the {cell.label} cell's bound does not "
                         f"take it, got {sigma_max}")
    return np.nan if q is None else q


def gradient_flow(params: Parameters, trace, grads, targets, b: int = 0, k: int = 3,
                  should_stop: Callable[[], bool] | None = None,
                  progress: Callable[[int, Callable[[], GradientFlow]], None] | None = None,
                  sigma_max: float | None = None) -> GradientFlow:
    """The gradient-flow curves of batch element b over all steps (see GradientFlow).

    grad_norm is read from grads.ds. The Jacobians P_t are accumulated as P_t = P_{t+1} J_{t+1}:
    for cells whose J_t = diag(f') M (cell.jacobian_factors; vanilla) diag(f') is folded into
    M's rows, one n^3 matrix product per step; cells that multiply by J_t from a step's saved
    values (cell.step_products; LSTM, GRU) do so with its structure (the LSTM's: one
    n x 2n_s x n_s product, no n x n matrix); for
    others P_{t+1} J_{t+1} comes from the cell's step VJP (cell.step_vjp), n = n_state the size
    of all state parts together. The top-k singular values of each P_t come from a two-sided
    subspace iteration warm-started with the previous step's left singular subspace (O(n^2 q)
    per half step, q = k + 16 or more), guarded by the mass of P_t outside the subspace so no
    larger singular value can be missed;
    steps where the guard fails (flat spectra: the first steps of a product, orthogonal W) and
    small n use an exact SVD (O(n^3), ~8 matrix products). Once that subspace has converged
    (the left singular subspace of a product growing on the right does, Oseledets), P_t is no
    longer formed: U^T P_t and a 16-row Gaussian sketch of the rest are carried forward,
    O(n^2 (q + 16)) per step, and certify the values with a bound that fails with probability
    below ~1e-12 per step (rnnviz/engine/_sketch.py, _Sketch); where they no longer can, P_t
    is formed again from the factors kept. In all O(T0 n^3 + T n^2 q), T0 the steps before the
    first sketch: once P has few enough directions above 1e-7 ||P|| the sketch starts from an
    exact step, its basis the eigenvectors of P P^T (T0 = 15-16 at n_s = 256-1024 in
    benchmarks/bench_analysis.py; an LSTM's ~n_s slowly fading cell-state directions keep its
    top flat: T0 = 5 at n_s = 256, T = 500 in benchmarks/bench_gated.py); q then falls with the
    directions above ~1e-9 ||P_t|| (~900 -> ~30 over T = 1000 at n_s = 1024). Accurate to
    ~1e-11 of ||P_t|| (measured ~1e-13 against explicit products). From n_state >= 384
    (_products.PIPELINE_MIN_N: an LSTM of n_s >= 192) a sketched step's values (its Gram
    matrix's eigenvalues) may run on a second thread beside the next step's product, where
    timing both ways in the run says it is faster (_products._PoolChoice): the same numbers
    either way (benchmarks/bench_gated.py measures both).
    dL_T/d state_t = P_t^T dL_T/d state_{T-1}: one vector product per step, L_T the last
    step's term of L (so it equals dL/dh_t at T-1); its read-out part h is reported.
    The bound is q^(T-1-t), q = cell.jacobian_bound(params) (vanilla: gamma sigma_max(W)); NaN
    at every step for cells without a bound (gated cells). rate_per_step = ||P_0||^(1/(T-1)),
    the geometric mean of ||P_t|| / ||P_{t+1}|| (over the trailing NaN-free stretch; 0 once the
    Jacobian is exactly zero, NaN for T = 1). should_stop() is polled every step.
    progress(t, partial), when given, is called before the first Jacobian product (t = T-1)
    and after each step t (t = T-2 down to 0); partial() returns the GradientFlow so far, its
    Jacobian curves NaN for the steps before t not computed yet (and those not listed in
    nonfinite_steps). Building it costs O(T k): call it only when the partial result is wanted.
    sigma_max, when given, is sigma_max(W) for the vanilla bound (e.g. Spectrum.sigma_max,
    already known): a finite number >= 0 that saves an O(n_s^3) SVD; None computes it here.
    """
    b = check_trace(params, trace, b)
    k = check_size("k", k)
    if sigma_max is not None:
        sigma_max = check_number("sigma_max", sigma_max, minimum=0.0)
    n_s, m, T = trace.s.shape
    targets = readout.check_targets(trace.loss, targets, m, T, params.n_y)
    cell = get_cell(trace.cell, trace.activation)
    p = params.as_dict()
    x_r, state0_r, arrays = row_arrays(trace)
    n_state = len(cell.state_parts) * n_s
    V = params.V.astype(np.float64)

    with np.errstate(all="ignore"):
        q = _bound(cell, p, sigma_max)
        target = readout.step_targets(targets, trace.loss, T - 1)[b:b + 1]
        dz_last = readout.output_gradient_rows(trace.z[:, b, T - 1].astype(np.float64)[None],
                                               trace.y[:, b, T - 1].astype(np.float64)[None],
                                               target, trace.loss)[0]
        g_last = V.T @ dz_last / m                      # dL_T/dh_{T-1}
        if n_state > n_s:                               # ... and 0 for the other state parts
            g_last = np.concatenate([g_last, np.zeros(n_state - n_s)])
        log10_rate_bound = np.log10(q)
        steps_back = np.arange(T - 1, -1, -1, dtype=np.float64)
        log10_bound = np.where(steps_back == 0, 0.0, steps_back * log10_rate_bound)
        if np.isnan(q):
            log10_bound[:] = np.nan
        grad_norm = pow10(log10_norms(grads.ds[:, b, :]))
        step = None
        if progress is not None:
            def step(t, sv, last):
                progress(t, lambda: _assemble(sv.copy(), last.copy(), grad_norm, log10_bound, t))
        factors = cell.jacobian_factors(p, arrays, b)
        products = None if factors is not None else cell.step_products(p, arrays, state0_r, b)
        if factors is not None:
            steps = FactorSteps(*factors)
        elif products is not None:
            steps = ProductSteps(products, T)
        else:
            steps = VjpSteps(lambda t, G: cell.step_vjp(p, arrays, x_r, state0_r, t, b, G),
                             n_state, T)
        log10_sv, log10_last = jacobian_products(steps, min(k, n_state), g_last, should_stop,
                                                 Interrupted, step, n_read=n_s)
    return _assemble(log10_sv, log10_last, grad_norm, log10_bound, 0)


def _assemble(log10_sv, log10_last, grad_norm, log10_bound, first: int) -> GradientFlow:
    """The GradientFlow from its log10 curves; steps before `first` are not computed yet."""
    with np.errstate(all="ignore"):
        log10_norm = log10_sv[:, 0].copy()
        jacobian_norm = pow10(log10_norm)
        last_norm = pow10(log10_last)
        bad = (~np.isfinite(grad_norm) | ~np.isfinite(last_norm) | ~np.isfinite(jacobian_norm)
               | np.isnan(log10_norm))
        bad[:first] = ~np.isfinite(grad_norm[:first])
    return GradientFlow(
        grad_norm=grad_norm, last_loss_grad_norm=last_norm, jacobian_norm=jacobian_norm,
        jacobian_top_sv=pow10(log10_sv), log10_jacobian_norm=log10_norm,
        bound=pow10(log10_bound), log10_bound=log10_bound,
        rate_per_step=_geometric_rate(log10_norm), nonfinite_steps=np.flatnonzero(bad),
        log10_jacobian_top_sv=log10_sv, log10_last_loss_grad_norm=log10_last)


__all__ = ["GradientFlow", "Interrupted", "LastLossGradient", "gradient_flow", "last_loss_gradient"]
