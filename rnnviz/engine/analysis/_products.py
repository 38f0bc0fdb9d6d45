"""The Jacobian products P_t = J_{T-1} ... J_{t+1} of every step, carried in log scale.

A step J is given either as factors, J_t = diag(exp(log_df[:, t])) W (the fast path: the
diagonal stays in log scale, exact where f' underflows), through the products the cell forms
from the step's saved values (Cell.step_products: gated cells), or through a cell's step VJP
(G -> G J_t / 10**c). Both are multiplied into P (and the sketch of _jacobian.py) the same way.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np

from .. import _jacobian
from .._sketch import FLUSH, FLUSH_EVERY, _flush

LN10 = np.log(10.0)
NAN, ZERO = "nan", "zero"      # what a step source gives where a step is not finite / vanishes
PIPELINE_MIN_N = 384           # n_state from which a sketched step's values run on a second thread


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

    def rows(self, Y: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = Y J (Y is left as it was)."""
        return np.matmul(Y * self.dv, self.W, out=out)

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

    def rows(self, Y: np.ndarray, out: np.ndarray) -> np.ndarray:
        out[...] = self._apply(Y)
        return out

    def vector(self, v: np.ndarray) -> np.ndarray:
        return self._apply(v[None, :])[0]


class _ProductStep:
    """J_t / norm through the cell's products (Cell.step_products), held by its ProductSteps."""

    __slots__ = ("_source", "t", "norm", "log10_scale")

    def __init__(self, source: ProductSteps, t: int, norm: float):
        self._source, self.t, self.norm, self.log10_scale = source, t, norm, 0.0

    def matrix(self, P: np.ndarray, J: np.ndarray, out: np.ndarray) -> None:
        self._source.apply(self, P, out)

    def rows(self, Y: np.ndarray, out: np.ndarray) -> np.ndarray:
        return self._source.apply(self, Y, out)

    def vector(self, v: np.ndarray) -> np.ndarray:
        out = np.empty((1, v.size))
        return self._source.apply(self, v[None, :], out)[0]


class ProductSteps:
    """The steps of one batch element as the cell multiplies them (Cell.step_products).

    The cell forms one step at a time in one buffer (no n_state x n_s array per step: a sketch
    keeps every step since its checkpoint, ~1 MB each for an LSTM at n_s = 256); the step it
    holds is `owner`, and a step applied after a later one was formed (only where a sketch
    catches up) is formed again."""

    finite = True

    def __init__(self, products, T: int):
        self._products, self.n, self.T = products, products.n, T
        self.owner: _ProductStep | None = None

    def step(self, t: int, norm: float):
        """J_t divided by norm, or NAN where it is not finite."""
        self.owner = None
        if not self._products.form(t, 1.0 / norm):
            return NAN
        self.owner = _ProductStep(self, t, norm)
        return self.owner

    def apply(self, step: _ProductStep, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = X J (J the step's, divided by its norm); out must not share memory with X."""
        if self.owner is not step:
            self._products.form(step.t, 1.0 / step.norm)
            self.owner = step
        return self._products.rows(X, out)


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

    steps is FactorSteps, ProductSteps or VjpSteps. P_t is held as P * 10**c with ||P||_2 of order 1:
    P_t = P_{t+1} J_{t+1}, with the step's own scale and ||P_{t+1}|| moved into c, costs one
    n^3 product per step (or fewer once sketched, _jacobian.py). A step whose scale or product
    is non-finite makes it and all earlier steps NaN; an exactly zero product makes them -inf.
    n_read: the leading state entries whose gradient norm is reported (the read-out part; all
    when None). progress(t, log10_sv, log10_last), when given, is called once before the loop
    (t = T-1) and after each step t is filled in (rows t..T-1 final, earlier rows still NaN).
    From n >= PIPELINE_MIN_N a sketched step's values (the certificate: a Gram matrix and its
    eigenvalues) may run on a second thread beside the next step's product (_PoolChoice). The
    numbers are the same either way (the same operations on the same arrays;
    tests/engine/test_analysis.py checks them equal).
    """
    n_read = steps.n if n_read is None else n_read
    pool = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="rnnviz-values")
            if steps.n >= PIPELINE_MIN_N else nullcontext())
    with np.errstate(all="ignore"), pool as pool:
        return _products(steps, k, g_last, should_stop, interrupted, progress, n_read, pool)


class _PoolChoice:
    """Whether the sketched steps' values run on the pool, chosen by timing both in the run.

    Beside the next product they save up to ~20 % of the wall time where the pool's thread has
    a core to itself, and cost as much where it has not (a busy or shared machine: the two
    threads then slow each other down). So in every WINDOW sketched steps, the first TRIAL
    alternate between the two ways in blocks of BLOCK, and the rest go the way whose steps took
    less time in all. The numbers are the same either way."""

    WINDOW, TRIAL, BLOCK = 64, 16, 4

    def __init__(self, pool):
        self.pool = pool
        self.steps, self.pooled = 0, True
        self.times = {True: 0.0, False: 0.0}
        self.choice = True
        self.began: float | None = None         # when the step being timed began

    def next(self) -> ThreadPoolExecutor | None:
        """The pool for the coming step's values, or None (at once); its time starts now."""
        i = self.steps % self.WINDOW
        self.pooled = (i // self.BLOCK) % 2 == 0 if i < self.TRIAL else self.choice
        self.began = time.perf_counter()
        return self.pool if self.pooled else None

    def not_counted(self, seconds: float) -> None:
        """Time inside the step that is a cost of neither way (should_stop waiting for the UI)."""
        if self.began is not None:
            self.began += seconds

    def done(self) -> None:
        """The step timed since next() is done: its values collected and the next product made."""
        if self.began is None:
            return
        seconds, self.began = time.perf_counter() - self.began, None
        self.took(seconds)

    def took(self, seconds: float) -> None:
        """The coming step, multiplied and its values collected, took this long."""
        i = self.steps % self.WINDOW
        if i < self.TRIAL:
            self.times[self.pooled] += seconds
            if i == self.TRIAL - 1:
                self.choice = self.times[True] <= self.times[False]
                self.times = {True: 0.0, False: 0.0}
        self.steps += 1


def _products(steps, k, g_last, should_stop, interrupted, progress, n_read, pool):
    """The loop of jacobian_products. Step t's values are collected after step t-1's product
    (which they may overlap, on the pool): the step's own scale is top.scale, known before them."""
    n, T = steps.n, steps.T
    log10_sv = np.full((T, k), np.nan)
    log10_last = np.full(T, np.nan)
    log10_sv[T - 1] = 0.0                                   # P_{T-1} = I
    log10_last[T - 1] = log10_norms(g_last[:n_read, None])[0]
    if not steps.finite or T == 1:
        return log10_sv, log10_last
    top = _jacobian._TopSingularValues(n, k, g_last, T, pool)   # holds P (or U^T P), g_last^T P
    c, norm = 0.0, 1.0
    if progress is not None:
        progress(T - 1, log10_sv, log10_last)
    in_flight = None                                        # (t, c_t, log10 of v's norm at t)
    choice = _PoolChoice(pool) if pool is not None else None

    def collect() -> bool:
        """Fill in the step in flight from its values; False where the steps before it end."""
        t, c_t, log10_v = in_flight
        sv = top.finish()
        if not np.isfinite(sv[0]):
            return False
        if sv[0] == 0:
            log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            return False
        log10_sv[t] = c_t + np.log10(sv)
        log10_last[t] = log10_v
        if progress is not None:
            progress(t, log10_sv, log10_last)
        return True

    for t in range(T - 2, -1, -1):
        if should_stop is not None:
            polled = time.perf_counter()
            if should_stop():
                raise interrupted(f"gradient flow stopped at step {t + 1}")
            if choice is not None:                          # (it may wait for the UI)
                choice.not_counted(time.perf_counter() - polled)
        step = steps.step(t + 1, norm)                      # J_{t+1}, scaled
        if step is NAN or step is ZERO:
            if in_flight is not None and not collect():
                break
            if step is ZERO:
                log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            break
        flush = t % FLUSH_EVERY == 0
        top.multiply(step, flush)                           # (beside the values in flight)
        c += step.log10_scale + np.log10(norm)
        log10_v = c + _log10_norm(top.v[:n_read])
        if in_flight is not None and not collect():
            break
        if choice is not None:
            choice.done()                   # the last step's values and this product, timed
            if top.sketch is not None:
                top.pool = choice.next()
        top.start()
        in_flight, norm = (t, c, log10_v), top.scale
    else:
        collect()
    return log10_sv, log10_last
