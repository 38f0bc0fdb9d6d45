"""The Jacobian products P_t = J_{T-1} ... J_{t+1} of every step, carried in log scale.

A step J is given either as factors, J_t = diag(exp(log_df[:, t])) W (the fast path: the
diagonal stays in log scale, exact where f' underflows), as the matrix the cell forms from the
step's saved values (Cell.step_jacobians: gated cells), or through a cell's step VJP
(G -> G J_t / 10**c). Both are multiplied into P (and the sketch of _jacobian.py) the same way.
"""

from __future__ import annotations

import numpy as np

from .. import _jacobian
from .._sketch import FLUSH, FLUSH_EVERY, _flush

LN10 = np.log(10.0)
NAN, ZERO = "nan", "zero"      # what a step source gives where a step is not finite / vanishes


def log10_norms(X: np.ndarray) -> np.ndarray:
    """log10 of the 2-norm of each column of X (axis 0), without overflow; NaN if a column has NaN."""
    with np.errstate(all="ignore"):
        X = np.asarray(X, dtype=np.float64)
        peak = np.max(np.abs(X), axis=0)
        safe = np.where((peak > 0) & np.isfinite(peak), peak, 1.0)
        out = np.log10(peak) + 0.5 * np.log10(np.sum((X / safe) ** 2, axis=0))
        out[peak == 0] = -np.inf
        out[np.isinf(peak)] = np.inf
        out[np.isnan(peak)] = np.nan
        return out


def _log10_norm(v: np.ndarray) -> float:
    """log10 ||v||_2 of a vector: one dot product unless it over- or underflows (then log10_norms)."""
    sq = float(v @ v)
    if 0.0 < sq < np.inf:
        return 0.5 * np.log10(sq)
    return float(log10_norms(v[:, None])[0])


class _DiagonalStep:
    """J = diag(dv) W, dv the scaled f' (its scale kept apart, as log10_scale)."""

    __slots__ = ("dv", "W", "log10_scale")

    def __init__(self, dv: np.ndarray, W: np.ndarray, log10_scale: float):
        self.dv, self.W, self.log10_scale = dv, W, log10_scale

    def matrix(self, P: np.ndarray, J: np.ndarray, out: np.ndarray) -> None:
        """out = P J (J: scratch for the step's matrix)."""
        np.multiply(self.dv[:, None], self.W, out=J)
        np.matmul(P, J, out=out)

    def rows(self, Y: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        """Y J, in Y or in scratch (the one returned; the other is left as scratch)."""
        np.multiply(Y, self.dv, out=scratch)
        np.matmul(scratch, self.W, out=Y)
        return Y

    def vector(self, v: np.ndarray) -> np.ndarray:
        """v^T J."""
        return (v * self.dv) @ self.W


class _VjpStep:
    """J through a cell's step VJP, G -> G J / (10**c norm); c is the cell's own scale."""

    __slots__ = ("_vjp", "_norm", "log10_scale")

    def __init__(self, vjp, norm: float):
        self._vjp, self._norm, self.log10_scale = vjp, norm, np.nan

    def _apply(self, G: np.ndarray) -> np.ndarray:
        X, c = self._vjp(G)
        self.log10_scale = float(c)
        return X / self._norm

    def matrix(self, P: np.ndarray, J: np.ndarray, out: np.ndarray) -> None:
        out[...] = self._apply(P)

    def rows(self, Y: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        return self._apply(Y)

    def vector(self, v: np.ndarray) -> np.ndarray:
        return self._apply(v[None, :])[0]


class _FormedStep:
    """J = [M | the diagonal blocks D] formed by the cell (Cell.step_jacobians), divided by norm.

    M lives in its source's one buffer (no n_state x n_s array per step: a sketch keeps every
    step since its checkpoint, ~1 MB each for an LSTM at n_s = 256); a step whose M has been
    overwritten forms it again (only where a sketch catches up)."""

    __slots__ = ("_source", "t", "norm", "D", "n_s", "log10_scale")

    def __init__(self, source: FormedSteps, t: int, norm: float, D: np.ndarray | None):
        self._source, self.t, self.norm, self.D = source, t, norm, D
        self.n_s, self.log10_scale = source.n_s, 0.0

    def _apply(self, X: np.ndarray, out: np.ndarray) -> None:
        """out = X J for rows X (k, n_state); out must not share memory with X."""
        n_s, M = self.n_s, self._source.matrix_of(self)
        if self.D is None:
            np.matmul(X, M, out=out)
            return
        np.matmul(X, M, out=out[..., :n_s])             # (a strided out: no temporary)
        parts = self.D.shape[0]
        term = np.empty(X.shape[:-1] + (n_s,))
        for j in range(1, parts):
            col = out[..., j * n_s:(j + 1) * n_s]
            np.multiply(X[..., :n_s], self.D[0, j - 1], out=col)
            for i in range(1, parts):
                np.multiply(X[..., i * n_s:(i + 1) * n_s], self.D[i, j - 1], out=term)
                col += term

    def matrix(self, P: np.ndarray, J: np.ndarray, out: np.ndarray) -> None:
        self._apply(P, out)

    def rows(self, Y: np.ndarray, scratch: np.ndarray) -> np.ndarray:
        self._apply(Y, scratch)
        return scratch

    def vector(self, v: np.ndarray) -> np.ndarray:
        out = np.empty_like(v)
        self._apply(v, out)
        return out


class FormedSteps:
    """The steps of one batch element as the cell forms them: step_jacobian(t, out) = (M, D),
    M written into one buffer kept here (the step whose M it holds is `owner`)."""

    finite = True

    def __init__(self, step_jacobian, n: int, n_s: int, T: int):
        self._step, self.n, self.n_s, self.T = step_jacobian, n, n_s, T
        self._M = np.empty((n, n_s))
        self.owner: _FormedStep | None = None

    def step(self, t: int, norm: float):
        """J_t divided by norm, or NAN where it is not finite."""
        M, D = self._step(t, out=self._M, scale=1.0 / norm)
        if not np.isfinite(M.sum()) or (D is not None and not np.isfinite(D.sum())):
            return NAN            # (the entries are bounded by ~||W|| / norm: a sum cannot overflow)
        self.owner = _FormedStep(self, t, norm, D)
        return self.owner

    def matrix_of(self, step: _FormedStep) -> np.ndarray:
        """The step's M / norm, formed again where the buffer holds another step's."""
        if self.owner is not step:
            self._step(step.t, out=self._M, scale=1.0 / step.norm)
            self.owner = step
        return self._M


class FactorSteps:
    """The steps J_t = diag(exp(log_df[:, t])) W of one batch element."""

    def __init__(self, W: np.ndarray, log_df: np.ndarray):
        self.n, self.T = log_df.shape
        self.finite = bool(np.all(np.isfinite(W)))
        self.W, self.log_df = _flush(W.copy()) if self.finite else W, log_df

    def step(self, t: int, norm: float):
        """J_t divided by norm and its own largest f', or NAN / ZERO where there is none."""
        ld = self.log_df[:, t]
        ld_max = np.max(ld)
        if np.isnan(ld_max):
            return NAN                                      # NaN here and earlier
        if ld_max == -np.inf:                               # f' = 0: the Jacobian vanishes
            return ZERO
        d = np.exp(ld - ld_max)
        d[d < FLUSH] = 0.0
        return _DiagonalStep(d / norm, self.W, ld_max / LN10)


class VjpSteps:
    """The steps of one batch element through vjp(t, G) = (G J_t / 10**c, c)."""

    finite = True

    def __init__(self, vjp, n: int, T: int):
        self._vjp, self.n, self.T = vjp, n, T

    def step(self, t: int, norm: float):
        return _VjpStep(lambda G: self._vjp(t, G), norm)


def jacobian_products(steps, k: int, g_last: np.ndarray, should_stop, interrupted,
                      progress=None, n_read: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """log10 top-k singular values of every P_t (T, k) and log10 ||(P_t^T g_last)[:n_read]|| (T,).

    steps is FactorSteps, FormedSteps or VjpSteps. P_t is held as P * 10**c with ||P||_2 of order 1:
    P_t = P_{t+1} J_{t+1}, with the step's own scale and ||P_{t+1}|| moved into c, costs one
    n^3 product per step (or fewer once sketched, _jacobian.py). A step whose scale or product
    is non-finite makes it and all earlier steps NaN; an exactly zero product makes them -inf.
    n_read: the leading state entries whose gradient norm is reported (the read-out part; all
    when None). progress(t, log10_sv, log10_last), when given, is called once before the loop
    (t = T-1) and after each step t is filled in (rows t..T-1 final, earlier rows still NaN).
    """
    with np.errstate(all="ignore"):
        return _products(steps, k, g_last, should_stop, interrupted, progress,
                         steps.n if n_read is None else n_read)


def _products(steps, k, g_last, should_stop, interrupted, progress, n_read):
    n, T = steps.n, steps.T
    log10_sv = np.full((T, k), np.nan)
    log10_last = np.full(T, np.nan)
    log10_sv[T - 1] = 0.0                                   # P_{T-1} = I
    log10_last[T - 1] = log10_norms(g_last[:n_read, None])[0]
    if not steps.finite or T == 1:
        return log10_sv, log10_last
    top = _jacobian._TopSingularValues(n, k, g_last, T)     # holds P (or U^T P), g_last^T P
    c, norm = 0.0, 1.0
    if progress is not None:
        progress(T - 1, log10_sv, log10_last)
    for t in range(T - 2, -1, -1):
        if should_stop is not None and should_stop():
            raise interrupted(f"gradient flow stopped at step {t + 1}")
        step = steps.step(t + 1, norm)                      # J_{t+1}, scaled
        if step is NAN:
            break
        if step is ZERO:
            log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            break
        flush = t % FLUSH_EVERY == 0
        top.multiply(step, flush)
        c += step.log10_scale + np.log10(norm)
        sv = top()
        if not np.isfinite(sv[0]):
            break
        if sv[0] == 0:
            log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            break
        norm = sv[0]
        log10_sv[t] = c + np.log10(sv)
        log10_last[t] = c + _log10_norm(top.v[:n_read])
        if progress is not None:
            progress(t, log10_sv, log10_last)
    return log10_sv, log10_last
