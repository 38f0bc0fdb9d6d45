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
SHRINK = 0.1             # shrink the certifying basis to a mass outside below this share
REFRESH_EVERY = 32       # certified steps between refreshes of a basis larger than k + OVERSAMPLE
GRAM_RTOL = np.finfo(np.float64).eps  # rounding per term of a dot product (Gram matrices, norms)


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
    tol = RITZ_RTOL * S[0]
    if np.all(res <= tol):                          # err <= res: no need for the gaps
        return True
    dist = np.abs(S[:k, None] - S[None, :])
    dist[dist <= res[:, None]] = np.inf
    gap = np.min(dist, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.minimum(res, res ** 2 / gap)
    return bool(np.all(err <= tol))


def _ritz(B: np.ndarray, k: int):
    """B = X diag(S) Y^T (thin SVD, S descending), from the eigenvalues of B^T B where that is
    accurate for the top k values (error ~ eps S_1^2 / S_k), else from np.linalg.svd."""
    lam, Y = np.linalg.eigh(B.T @ B)
    lam, Y = lam[::-1], Y[:, ::-1]
    S = np.sqrt(np.maximum(lam, 0.0))
    if S[k - 1] * RITZ_RTOL >= GRAM_RTOL * B.shape[0] * S[0]:
        return B @ (Y / S), S, Y.T
    return np.linalg.svd(B, full_matrices=False)


class _TopSingularValues:
    """The product P and its top-k singular values, as P grows on the right (P <- P J).

    With an orthonormal left basis U (n x q), B = P^T U costs one n x n x q product. Where the
    spectrum has decayed, U^T P certifies the values alone:
    P^T P = (U^T P)^T (U^T P) + R^T R with R = (I - U U^T) P, so by Weyl the eigenvalues
    lam_i of (U^T P)(U^T P)^T satisfy lam_i <= sigma_i^2 <= lam_i + ||R||_F^2, and
    ||R||_F^2 = ||P||_F^2 - ||U^T P||_F^2 costs one dot product. For products growing on the
    right the left singular subspace converges (Oseledets), so one basis serves many steps.
    Where that bound is too loose: two-sided subspace iteration with Rayleigh-Ritz from U, accepted
    when (a) the residual error estimate of the Ritz values is below RITZ_RTOL ||P|| and
    (b) the mass of P outside the basis (>= ||U_perp^T P||_2, which bounds any singular value the
    basis could have missed) is below GUARD * S_k; it leaves the advanced basis for the next step.
    Where (b) fails (a flat spectrum, as in the first steps of a product or for orthogonal W),
    the step uses an exact eigen-decomposition of P P^T (or an SVD where that loses accuracy).
    """

    def __init__(self, n: int, k: int):
        self.n, self.k = n, k
        self.q = min(n, k + OVERSAMPLE)         # smallest block
        self.q_max = max(self.q, n // 4)        # largest block worth iterating with
        self.exact = n <= max(EXACT_SVD_MAX_N, 2 * self.q)
        self.q_floor = min(self.q_max, max(self.q, 3 * n // 16))  # iterated blocks: large
        # enough that U^T P alone certifies the values soon (measured best at n = 256)
        self.U = None                           # None: exact SVDs until the spectrum has decayed
        self.P, self._P_next = np.eye(n), np.empty((n, n))     # P_{T-1} = I
        self.exact_steps = 0
        self.iterations = 0                     # half steps, for the benchmark
        self.certified_steps = 0                # steps certified by U^T P alone
        self.calls, self._advance_first, self._try_certify = 0, False, True

    def multiply(self, J: np.ndarray, flush: bool) -> np.ndarray:
        """P <- P J; returns P."""
        np.matmul(self.P, J, out=self._P_next)
        self.P, self._P_next = self._P_next, self.P
        return _flush(self.P) if flush else self.P

    def _block_size(self, mass: np.ndarray, outside: float) -> int | None:
        """The smallest block (>= q) whose outside mass passes the guard with a factor 2 to spare."""
        allowed = 0.5 * (GUARD * np.sqrt(mass[self.k - 1])) ** 2 - outside
        tail = np.cumsum(mass[::-1])[::-1]                     # tail[j] = sum of mass[j:]
        fits = np.flatnonzero(np.append(tail, 0.0)[self.q:] <= allowed)
        return self.q + int(fits[0]) if fits.size else None

    def _exact(self, P: np.ndarray) -> np.ndarray:
        self.exact_steps += 1
        G = P @ P.T
        lam = np.linalg.eigvalsh(G)[::-1]
        S = np.sqrt(np.maximum(lam, 0.0))
        if not S[self.k - 1] * RITZ_RTOL >= GRAM_RTOL * self.n * S[0]:
            S = np.linalg.svd(P, compute_uv=False)          # the Gram matrix lost the small values
        if not self.exact:
            size = self._block_size(S ** 2, 0.0)
            if size is not None and size <= self.q_max:     # decayed enough: iterate from here
                U = np.linalg.eigh(G)[1][:, ::-1][:, :size]
                self.U = np.ascontiguousarray(U)
        return S[:self.k]

    def _certified(self, P: np.ndarray, B: np.ndarray) -> np.ndarray | None:
        """The top k values from B = P^T U alone where Weyl's bound puts them within RITZ_RTOL ||P||."""
        q = self.U.shape[1]
        G = B.T @ B
        lam = np.linalg.eigvalsh(G)[::-1]
        S = np.sqrt(np.maximum(lam, 0.0))
        pf2 = np.vdot(P, P)
        slack = GRAM_RTOL * (self.n + q) * pf2              # rounding in ||P||_F^2, G and lam
        outside = max(pf2 - np.trace(G), 0.0) + 2.0 * slack
        allowed = 2.0 * RITZ_RTOL * S[0] * S[self.k - 1]     # sigma_i - S_i <= outside / (2 S_i)
        if not outside <= allowed:
            self._try_certify = False
            return None
        self.certified_steps += 1
        if q > self.q and self.certified_steps % REFRESH_EVERY == 0:
            self._shrink(P, B, allowed)
        return S[:self.k]

    def _shrink(self, P: np.ndarray, B: np.ndarray, allowed: float) -> None:
        """One subspace-iteration step, then the smallest block whose mass outside stays below
        SHRINK * allowed (the spectrum keeps decaying: a smaller basis soon suffices)."""
        self.iterations += 1
        U = np.linalg.qr(_flush(P @ B))[0]
        B = _flush(P.T @ U)
        lam, Y = np.linalg.eigh(B.T @ B)
        lam, Y = lam[::-1], Y[:, ::-1]
        outside = np.vdot(P, P) - np.sum(lam) + 2.0 * GRAM_RTOL * (self.n + U.shape[1]) * np.vdot(P, P)
        tail = np.append(np.cumsum(lam[::-1])[::-1], 0.0)   # tail[j] = sum of lam[j:]
        fits = np.flatnonzero(outside + tail[self.q:] <= SHRINK * allowed)
        size = self.q + int(fits[0]) if fits.size else U.shape[1]
        self.U = np.ascontiguousarray(U @ Y[:, :size])

    def _iterate(self, P: np.ndarray, B: np.ndarray) -> np.ndarray | None:
        """Subspace iteration U <- orth(P P^T U) until the top k Ritz values pass _converged and
        the guard (no value above S_k outside the basis).

        Where the last step needed an iteration, this one starts with one (the previous basis
        fits the new P only to first order in sigma_{q+1} / sigma_k).
        """
        k, U = self.k, self.U
        pf2 = np.vdot(P, P)
        for i in range(MAX_ITERATIONS):
            if i > 0 or self._advance_first:
                self.iterations += 1
                U = np.linalg.qr(_flush(P @ B))[0]
                B = _flush(P.T @ U)
            X, S, Yt = _ritz(B, k)                       # Ritz values of U^T P
            res = np.linalg.norm(P @ X[:, :k] - (U @ Yt[:k].T) * S[:k], axis=0)
            if _converged(S, res, k):
                mass = np.sum(B * B, axis=0)             # ||P^T u_j||^2
                outside = self._outside(P, pf2, U, B, mass, max(GUARD * S[k - 1], RITZ_RTOL * S[0]))
                if outside is not None:
                    break
        else:
            return None
        self._advance_first = i > 0 or (self._advance_first and self.calls % 16 != 0)
        self._try_certify = outside <= 2.0 * RITZ_RTOL * S[0] * S[k - 1]
        size = max(self._block_size(mass, outside) or U.shape[1], min(self.q_floor, U.shape[1]))
        self.U = np.ascontiguousarray(U[:, :size])
        return S[:k]

    def _outside(self, P, pf2, U, B, mass, bound) -> float | None:
        """||P - U U^T P||_F^2 if it is below bound^2 (so no singular value above bound lies outside
        the basis: it bounds ||U_perp^T P||_2), with its rounding error; else None."""
        outside = pf2 - np.sum(mass)                     # ||P||_F^2 - ||U^T P||_F^2
        slack = 2.0 * GRAM_RTOL * (self.n + U.shape[1]) * pf2    # its rounding error
        limit = bound ** 2
        if outside - slack <= limit < outside + slack:   # too close to call: measure it directly
            R = P - U @ B.T                              # (entries off by ~eps q |P|)
            outside = np.vdot(R, R)
            slack = GRAM_RTOL * U.shape[1] * (2.0 * np.sqrt(outside * pf2)
                                              + GRAM_RTOL * U.shape[1] * pf2)
        return outside if outside + slack <= limit else None

    def __call__(self) -> np.ndarray:
        """The top k singular values of P, descending (NaN if P is not finite)."""
        P = self.P
        try:
            if self.U is not None:
                self.calls += 1
                B = _flush(P.T @ self.U)
                S = self._certified(P, B) if self._try_certify else None
                if S is None:
                    S = self._iterate(P, B)
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
    with np.errstate(all="ignore"):
        return _products(W, log_df, k, g_last, should_stop, interrupted, progress)


def _products(W, log_df, k, g_last, should_stop, interrupted, progress):
    n, T = log_df.shape
    log10_sv = np.full((T, k), np.nan)
    log10_last = np.full(T, np.nan)
    log10_sv[T - 1] = 0.0                                   # P_{T-1} = I
    log10_last[T - 1] = log10_norms(g_last[:, None])[0]
    if not np.all(np.isfinite(W)) or T == 1:
        return log10_sv, log10_last
    W = _flush(W.copy())
    top = _TopSingularValues(n, k)                          # holds P (and U^T P)
    c, norm = 0.0, 1.0
    J = np.empty((n, n))
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
        P = top.multiply(J, flush=t % FLUSH_EVERY == 0)
        c += ld_max / LN10 + np.log10(norm)
        sv = top()
        if not np.isfinite(sv[0]):
            break
        if sv[0] == 0:
            log10_sv[:t + 1], log10_last[:t + 1] = -np.inf, -np.inf
            break
        norm = sv[0]
        log10_sv[t] = c + np.log10(sv)
        log10_last[t] = c + _log10_norm(g_last @ P)
        if progress is not None:
            progress(t, log10_sv, log10_last)
    return log10_sv, log10_last


def _log10_norm(v: np.ndarray) -> float:
    """log10 ||v||_2 of a vector: one dot product unless it over- or underflows (then log10_norms)."""
    sq = float(v @ v)
    if 0.0 < sq < np.inf:
        return 0.5 * np.log10(sq)
    return float(log10_norms(v[:, None])[0])
