"""The Jacobian products P_t = J_{T-1} ... J_{t+1} of every step, carried in log scale (for analysis)."""

from __future__ import annotations

import numpy as np

LN10 = np.log(10.0)
EXACT_SVD_MAX_N = 48     # up to this n_s a full SVD per step is cheaper than subspace iteration
RITZ_RTOL = 1e-11        # accept Ritz values when their error estimate is below this times ||P||
OVERSAMPLE = 16          # subspace size k + OVERSAMPLE
MAX_ITERATIONS = 10      # subspace iterations per step before falling back to a full SVD
GUARD = 0.5              # iterate only while the mass outside the basis is below GUARD * S_k
FLUSH = 1e-200           # entries below this times the largest are set to 0: subnormal
FLUSH_EVERY = 16         # numbers make BLAS/LAPACK ~100x slower and carry no information
                         # (singular values below ~1e-16 ||P|| are rounding noise anyway)


def log_derivative(act, a: np.ndarray) -> np.ndarray:
    """log|f'(a)| (natural log), exact where f' is below the float range; never above log gamma.

    tanh: log sech^2 a = 2 (log 2 - |a| - log1p(e^{-2|a|})); sigmoid: -|a| - 2 log1p(e^{-|a|});
    relu: 0 for a > 0, -inf otherwise; linear: 0 everywhere (even where a overflowed).
    NaN in a gives NaN (except for linear, whose Jacobian does not depend on a).
    """
    with np.errstate(all="ignore"):
        mag = np.abs(a)
        if act.name == "tanh":
            out = 2.0 * (np.log(2.0) - mag - np.log1p(np.exp(-2.0 * mag)))
        elif act.name == "sigmoid":
            out = -mag - 2.0 * np.log1p(np.exp(-mag))
        elif act.name == "relu":
            out = np.where(a > 0, 0.0, -np.inf)
            out[np.isnan(a)] = np.nan
        else:
            out = np.zeros_like(a, dtype=np.float64)
        return np.minimum(out, np.log(act.gamma))


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


def _flush(X: np.ndarray) -> np.ndarray:
    """Set entries below FLUSH times the largest to 0 (in place): no subnormal numbers."""
    X[np.abs(X) < FLUSH * np.max(np.abs(X))] = 0.0
    return X


def _converged(S: np.ndarray, res: np.ndarray, k: int) -> bool:
    """Whether the first k Ritz values S are within RITZ_RTOL * S[0] of singular values.

    Error estimate min(||r||, ||r||^2 / gap) (Saad, Numerical Methods for Large Eigenvalue
    Problems, Thm 3.8 for the augmented symmetric matrix), the gap of a Ritz value being its
    distance to the nearest other Ritz value further away than its residual (a cluster of
    equal values counts as one value).
    """
    dist = np.abs(S[:k, None] - S[None, :])
    dist[dist <= res[:, None]] = np.inf
    gap = np.min(dist, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.minimum(res, res ** 2 / gap)
    return bool(np.all(err <= RITZ_RTOL * S[0]))


class _TopSingularValues:
    """Top-k singular values of a sequence of matrices whose left singular subspace drifts slowly.

    Two-sided subspace iteration with Rayleigh-Ritz at every half step: from an orthonormal
    left basis U, B = P^T U = X S Y^T gives Ritz values S and a right basis X; C = P X = U' S' Z^T
    gives the next Ritz values and left basis. Each half step costs one n x n x q product and one
    n x q SVD; the left basis is kept as the warm start for the next matrix.
    Ritz values are accepted when (a) their residual error estimate is below RITZ_RTOL ||P|| and
    (b) the mass of P outside the basis, eps = ||P - U U^T P||_F (>= ||U_perp^T P||_2, which
    bounds any singular value the basis could have missed), is below GUARD * S_k, so no singular
    value above S_k can be missing. Where (b) fails (a flat spectrum, as in the first steps of a
    product or for orthogonal W), the step uses an exact SVD instead.
    """

    def __init__(self, n: int, k: int):
        self.k = k
        self.q = min(n, k + OVERSAMPLE)         # smallest block
        self.q_max = max(self.q, n // 4)        # largest block worth iterating with
        self.exact = n <= max(EXACT_SVD_MAX_N, 2 * self.q)
        self.U = None                           # None: exact SVDs until the spectrum has decayed
        self.exact_steps = 0
        self.iterations = 0                     # half steps, for the benchmark

    def _block_size(self, mass: np.ndarray, outside: float) -> int | None:
        """The smallest block (>= q) whose outside mass passes the guard with a factor 2 to spare."""
        allowed = 0.5 * (GUARD * np.sqrt(mass[self.k - 1])) ** 2 - outside
        tail = np.cumsum(mass[::-1])[::-1]                     # tail[j] = sum of mass[j:]
        fits = np.flatnonzero(np.append(tail, 0.0)[self.q:] <= allowed)
        return self.q + int(fits[0]) if fits.size else None

    def _exact(self, P: np.ndarray) -> np.ndarray:
        self.exact_steps += 1
        S = np.linalg.svd(P, compute_uv=False)
        if not self.exact:
            size = self._block_size(S ** 2, 0.0)
            if size is not None and size <= self.q_max:     # decayed enough: iterate from here
                self.U = np.linalg.svd(P)[0][:, :size].copy()
        return S[:self.k]

    def _iterate(self, P: np.ndarray) -> np.ndarray | None:
        k, U = self.k, self.U
        B = _flush(P.T @ U)
        for _ in range(MAX_ITERATIONS):
            self.iterations += 1
            X, S, Yt = np.linalg.svd(B, full_matrices=False)
            C = _flush(P @ X)
            res = np.linalg.norm(C[:, :k] - (U @ Yt[:k].T) * S[:k], axis=0)
            if _converged(S, res, k):
                U, mass = U @ Yt.T, S ** 2
                break
            self.iterations += 1
            U, S, Zt = np.linalg.svd(C, full_matrices=False)
            B = _flush(P.T @ U)
            res = np.linalg.norm(B[:, :k] - (X @ Zt[:k].T) * S[:k], axis=0)
            if _converged(S, res, k):
                mass = np.sum(B * B, axis=0)             # ||P^T u_j||^2
                break
        else:
            return None
        outside = np.vdot(P, P) - np.vdot(B, B)      # ||P||_F^2 - ||U^T P||_F^2
        if not outside <= (GUARD * S[k - 1]) ** 2:
            return None
        size = self._block_size(mass, outside)      # shrink the block as the spectrum decays
        self.U = U[:, :size] if size is not None else U
        return S[:k]

    def __call__(self, P: np.ndarray) -> np.ndarray:
        """The top k singular values of P, descending (NaN if P is not finite)."""
        try:
            if self.U is not None:
                S = self._iterate(P)
                if S is not None:
                    return S
                self.U = None
            return self._exact(P)
        except np.linalg.LinAlgError:                # LAPACK refuses NaN/inf input
            return np.full(self.k, np.nan)


def jacobian_products(W: np.ndarray, log_df: np.ndarray, k: int, g_last: np.ndarray,
                      should_stop, interrupted, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """log10 top-k singular values of every P_t (T, k) and log10 ||P_t^T g_last|| (T,).

    P_t is held as P * 10**c with ||P||_2 of order 1: P_t = P_{t+1} diag(f'(a_{t+1})) W, with
    f' divided by its largest entry and by ||P_{t+1}|| (both moved into c), costs one n^3
    product per step. A step whose f' or product is non-finite makes it and all earlier steps
    NaN; an exactly zero product makes them -inf. progress(t, log10_sv, log10_last), when
    given, is called once before the loop (t = T-1) and after each step t is filled in (rows
    t..T-1 are final, earlier rows still NaN).
    """
    n, T = log_df.shape
    log10_sv = np.full((T, k), np.nan)
    log10_last = np.full(T, np.nan)
    log10_sv[T - 1] = 0.0                                   # P_{T-1} = I
    log10_last[T - 1] = log10_norms(g_last[:, None])[0]
    if not np.all(np.isfinite(W)) or T == 1:
        return log10_sv, log10_last
    W = _flush(W.copy())
    top = _TopSingularValues(n, k)
    P, c, norm = np.eye(n), 0.0, 1.0
    J, P_next = np.empty((n, n)), np.empty((n, n))
    if progress is not None:
        progress(T - 1, log10_sv, log10_last)
    for t in range(T - 2, -1, -1):
        if should_stop is not None and should_stop():
            raise interrupted(f"gradient flow stopped at step {t + 1}")
        ld = log_df[:, t + 1]
        ld_max = np.max(ld)
        if np.isnan(ld_max):
            break                                           # NaN here and earlier
        if ld_max == -np.inf:                               # f' = 0: the Jacobian vanishes
            log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            break
        d = np.exp(ld - ld_max)
        d[d < FLUSH] = 0.0
        np.multiply((d / norm)[:, None], W, out=J)
        np.matmul(P, J, out=P_next)
        c += ld_max / LN10 + np.log10(norm)
        if t % FLUSH_EVERY == 0:
            _flush(P_next)
        sv = top(P_next)
        if not np.isfinite(sv[0]):
            break
        if sv[0] == 0:
            log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            break
        P, P_next, norm = P_next, P, sv[0]
        with np.errstate(divide="ignore"):
            log10_sv[t] = c + np.log10(sv)
        log10_last[t] = c + log10_norms((g_last @ P)[:, None])[0]
        if progress is not None:
            progress(t, log10_sv, log10_last)
    return log10_sv, log10_last
