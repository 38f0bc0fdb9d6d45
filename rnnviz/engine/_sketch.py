"""The sketched steps of the Jacobian products (_jacobian.py): U^T P and a Gaussian sketch of the
rest carried forward once the left basis U has converged, and the bounds that certify the top
singular values of P from them without P itself.
"""

from __future__ import annotations

import numpy as np

RITZ_RTOL = 1e-11        # accept Ritz values when their error estimate is below this times ||P||
FLUSH = 1e-200           # entries below this times the largest are set to 0: subnormal
FLUSH_EVERY = 16         # numbers make BLAS/LAPACK ~100x slower and carry no information
                         # (singular values below ~1e-16 ||P|| are rounding noise anyway)
GRAM_RTOL = np.finfo(np.float64).eps  # rounding per term of a dot product (Gram matrices, norms)
SKETCH_ROWS = 16         # r Gaussian rows that bound the mass outside the basis without P
SKETCH_FACTOR = 5.0      # ||R||_2 <= FACTOR max_i ||omega_i^T R|| but with probability
                         # (sqrt(2/pi) / FACTOR)^r = 1.7e-13 per step (Halko, Martinsson, Tropp,
                         # SIAM Review 2011, Lemma 4.1)
SKETCH_VECTOR = 10.0     # ||R y|| <= VECTOR ||Omega^T R y|| / sqrt(r) for a fixed unit y but with
                         # probability P(chi2_16 < 0.16) ~ 1e-13
SKETCH_MARGIN = 1e5      # a direction is dropped once its mass is this far below the certificate's
                         # allowance (dropped mass never fades again: it adds to R for good)
SKETCH_REFRESH = 8       # sketched steps between attempts to drop faded directions, doubling
SKETCH_REFRESH_MAX = 32  # up to this while they drop none (an LSTM's first ~50 steps keep all
                         # n_s cell-state directions: each refresh's eigh cost 3x an eigvalsh)
LEADING_SHARE = 0.75     # values from the leading rows of U^T P alone only if they are at most
                         # this share of the basis (else the q x q eigenproblem is as cheap) ...
LEADING_SHARE_MAX = 0.95  # ... or this share while no such attempt failed since the last refresh
                         # (an LSTM's flat first ~60 steps certify from 0.87-0.92 of the rows;
                         # a failed attempt costs its eigenproblem on top of the full one)
LEADING_MIN = 64         # ... and of at least this many directions (below, no gain: measured)


def _gram_slack(n: int, size: int, frob2: float, top2: float) -> float:
    """A bound on the rounding in the eigenvalues of G = B B^T, B of `size` rows of length n:
    each entry is a dot product off by at most n eps ||b_i|| ||b_j|| (so ||dG||_2 <= n eps
    ||B||_F^2, frob2 at least ||B||_F^2), and eigvalsh adds ~size eps ||G||_2 (top2 at least
    ||G||_2). Charging size to ||B||_F^2 instead was ~50x looser where many rows carry mass
    (an LSTM's first sketched step: its flat top failed by 8 % and went to the SVD)."""
    return GRAM_RTOL * (n * frob2 + size * top2)


def _flush(X: np.ndarray) -> np.ndarray:
    """Set entries below FLUSH times the largest to 0 (in place): no subnormal numbers."""
    X[np.abs(X) < FLUSH * np.max(np.abs(X))] = 0.0
    return X


class _Sketch:
    """U^T P and Omega^T P carried forward without P itself, once the basis U has converged.

    P = U U^T P + R with R = (I - U U^T) P, so P^T P = (U^T P)^T (U^T P) + R^T R and by Weyl
    lam_i <= sigma_i^2 <= lam_i + ||R||_2^2, lam_i the eigenvalues of (U^T P)(U^T P)^T.
    ||R||_2 comes from a Gaussian sketch: for an n x r standard Gaussian Omega drawn independently
    of P, ||R||_2 <= SKETCH_FACTOR max_i ||omega_i^T R|| except with probability
    (sqrt(2/pi) / SKETCH_FACTOR)^r (Halko, Martinsson, Tropp, SIAM Review 2011, Lemma 4.1), and
    Omega^T R = Omega^T P - (Omega^T U)(U^T P). U^T P (q x n) and Omega^T P (r x n) grow on the
    right like P (Y <- Y J): one (q + r) x n x n product per step instead of n^3. The owner's
    vector v^T P rides along as Y's last row (one product instead of a second pass over J).
    The owner's P stays at the checkpoint; the factors since are kept, to catch up where the
    sketch no longer certifies the values (the owner then goes on with P itself).
    Where the trailing rows of U^T P are small enough to join R, the values come from its leading
    rows alone (_values_from_leading). Where sigma_k << sigma_1 Weyl's bound is too loose;
    _values_from_svd then bounds each value by how little of R its own right singular vector
    meets. Every SKETCH_REFRESH steps the basis is turned to the Ritz directions of U^T P and
    drops those whose mass has decayed below the sketch's budget (chosen from U^T P alone, so
    Omega stays independent of every R it bounds). The rounding of the propagated
    U^T P is that of P itself (~1e-14 ||P|| over 1000 steps, measured), far inside RITZ_RTOL.
    """

    def __init__(self, P: np.ndarray, U: np.ndarray, rng: np.random.Generator, v: np.ndarray):
        n, q = U.shape
        omega = rng.standard_normal((n, SKETCH_ROWS))
        self.omega_U = omega.T @ U                          # (r, q)
        self.ou_rows = np.sqrt(np.einsum("ij,ij->i", self.omega_U, self.omega_U))
        self.q = q
        self.Y = np.vstack([U.T @ P, omega.T @ P, v])       # [U^T P; Omega^T P; v^T], (q + r + 1, n)
        self._scaled = np.empty_like(self.Y)
        self.checkpoint = P                                  # the owner's P, left as it is
        self.pending: list[tuple[object, bool]] = []         # (step, flush) of each step since
        self.steps = 0
        self._refresh_every, self._refresh_at = SKETCH_REFRESH, SKETCH_REFRESH
        self.by_svd = False                                  # whether the last values came from there
        self.by_leading = False                              # ... or from the leading rows alone
        self.ratio = 0.0                                     # S_k / S_1 of the last values: no guess yet
        self._wide_failed = False                            # a leading attempt above LEADING_SHARE
                                                             # failed since the last refresh
        self.from_exact = False                              # started from an exact step (no basis)
        self.rotation: np.ndarray | None = None              # a refresh's basis change, to apply

    def multiply(self, step, flush: bool) -> None:
        """Y <- Y J, J the step's Jacobian, into the other buffer: the Y before stays as it was
        (values() may still be reading it on another thread) until the next multiply."""
        self.pending.append((step, flush))
        out = step.rows(self.Y, self._scaled)
        self.Y, self._scaled = out, self.Y
        if flush:                                            # (v on its own scale)
            _flush(self.Y[:-1])
            _flush(self.Y[-1])

    @property
    def v(self) -> np.ndarray:
        """The owner's v^T P."""
        return self.Y[-1]

    def values(self, k: int, Y: np.ndarray) -> np.ndarray | None:
        """The top k singular values of the P that Y holds (self.Y, or the one before it: this
        may run beside the next multiply) if the sketch puts them within RITZ_RTOL ||P||, else
        None. Y is only read. A refresh leaves its basis change to apply_rotation()."""
        q = self.q
        B, C = Y[:q], Y[q:-1]
        self.steps += 1
        refresh = self.steps >= self._refresh_at and q > k
        rows = np.einsum("ij,ij->i", Y[:-1], Y[:-1])
        mass, c_rows = rows[:q], np.sqrt(rows[q:])            # ||u_j^T P||^2, ||omega_i^T P||
        E = C - self.omega_U @ B                              # Omega^T R
        e_rows = np.sqrt(np.einsum("ij,ij->i", E, E))
        bf = np.sqrt(np.sum(mass))                            # ||U^T P||_F
        err = GRAM_RTOL * (q + 2) * (c_rows + self.ou_rows * bf)  # rounding in each row of E
        r2 = (SKETCH_FACTOR * np.max(e_rows + err)) ** 2     # bound on ||R||_2^2
        n = B.shape[1]
        frob2 = bf * bf + r2
        slack = _gram_slack(n, q, frob2, frob2)              # (before lam: ||G||_2 <= frob2)
        self.by_svd = self.by_leading = False
        if not refresh and q >= LEADING_MIN:
            S = self._values_from_leading(B, mass, r2, slack, k)
            if S is not None:
                self.by_leading = True
                return S
        G = B @ B.T
        try:
            if refresh:
                lam, Z = np.linalg.eigh(G)
                lam, Z = lam[::-1], Z[:, ::-1]
            else:
                lam = np.linalg.eigvalsh(G)[::-1]
        except np.linalg.LinAlgError:
            return None
        S = np.sqrt(np.maximum(lam, 0.0))
        slack = _gram_slack(n, q, frob2, min(lam[0] + slack, frob2) + r2)   # rounding in G and lam
        self.by_svd = not r2 + 2.0 * slack <= 2.0 * RITZ_RTOL * S[0] * S[k - 1]   # (or NaN)
        if self.by_svd:
            S = self._values_from_svd(B, E, float(np.sqrt(np.sum(err * err))), r2, k)
            if S is None:
                return None
        allowed = 2.0 * RITZ_RTOL * S[0] * S[k - 1]
        if refresh:
            self._shrink(lam, Z, k, allowed / (SKETCH_FACTOR ** 2 * SKETCH_MARGIN))
        self.ratio = S[k - 1] / S[0]
        return S[:k]

    def _values_from_leading(self, B: np.ndarray, mass: np.ndarray, r2: float, slack: float,
                             k: int) -> np.ndarray | None:
        """The top k values from the leading rows B_1 of B = U^T P alone, where the rest B_2
        (rows j and on) is small enough to join R: with U = [U_1, U_2], P = U_1 B_1 + R' and
        R' = U_2 B_2 + R, U_2 and R orthogonal to U_1 and to each other, so
        P^T P = B_1^T B_1 + R'^T R' and ||R'||_2^2 <= ||B_2||_F^2 + ||R||_2^2 (Weyl as in
        values, a j x j eigenproblem instead of q x q). The rows are ordered by their Ritz
        values at the last refresh, so the tail mass falls fast; j is chosen to leave B_2 half
        the allowance, S_1^2 guessed as the largest row mass and S_k / S_1 as the last step's
        (only a guess: the bound decides). None where it does not certify."""
        tail = np.cumsum(mass[::-1])[::-1]                    # tail[j] = ||rows j.. of B||_F^2
        top2 = float(np.max(mass))                            # <= ||G||_2, the diagonal's largest
        frob2 = float(np.sum(mass)) + r2
        guess = (RITZ_RTOL * top2 * self.ratio - r2
                 - 2.0 * _gram_slack(B.shape[1], self.q, frob2, top2 + r2))
        fits = np.flatnonzero(tail[k:] <= guess)
        share = LEADING_SHARE if self._wide_failed else LEADING_SHARE_MAX
        if not fits.size or k + int(fits[0]) > share * self.q:
            return None
        j = k + int(fits[0])
        wide = j > LEADING_SHARE * self.q
        B1 = B[:j]
        try:
            lam = np.linalg.eigvalsh(B1 @ B1.T)[::-1]
        except np.linalg.LinAlgError:
            return None
        S = np.sqrt(np.maximum(lam[:k], 0.0))
        slack = _gram_slack(B.shape[1], j, frob2, min(lam[0] + slack, frob2) + r2)
        if not r2 + tail[j] + 2.0 * slack <= 2.0 * RITZ_RTOL * S[0] * S[k - 1]:   # (or NaN)
            self._wide_failed = self._wide_failed or wide
            return None
        self.ratio = S[k - 1] / S[0]
        return S

    @staticmethod
    def _values_from_svd(B: np.ndarray, E: np.ndarray, e_err: float, r2: float,
                         k: int) -> np.ndarray | None:
        """The top k values where Weyl's bound is too loose (sigma_k << sigma_1, or rounding in
        the Gram matrix), from the SVD of B = U^T P = X diag(S) Y^T (values off by at most
        ~(q + n) eps ||B||: the argument below holds exactly for P + U dB, whose singular values
        are within ||dB|| of P's) and a bound that uses how little of R each right vector y_i meets.

        A = P^T P = B^T B + R^T R has the Rayleigh quotient rho_i = S_i^2 + ||R y_i||^2 at y_i
        and residual norm <= ||R|| ||R y_i||. Its other eigenvalues lie in [S_j^2, S_j^2 + ||R||^2]
        (Weyl), outside (S_{i+1}^2 + ||R||^2, S_{i-1}^2), which holds sigma_i^2 alone; so by
        Kato-Temple S_i^2 <= sigma_i^2 <= rho_i + ||R||^2 ||R y_i||^2 / (S_i^2 - S_{i+1}^2 - ||R||^2).
        ||R y_i|| is bounded from the sketch (E = Omega^T R, off by e_err in Frobenius norm):
        ||Omega^T z||^2 / ||z||^2 is chi-squared with r degrees of freedom for any z fixed
        independently of Omega (y_i comes from B alone). r2 bounds ||R||_2^2.
        """
        try:
            _, S, Yt = np.linalg.svd(B, full_matrices=False)
        except np.linalg.LinAlgError:
            return None
        svd_err = GRAM_RTOL * sum(B.shape) * S[0]       # ||dB||: S, Y are exact for B + dB
        lam = np.append(S * S, 0.0)                         # S_q^2 = 0 past the basis
        ry = np.sqrt(np.sum((E @ Yt[:k].T) ** 2, axis=0)) + e_err
        ry2 = (SKETCH_VECTOR * ry) ** 2 / E.shape[0]        # ||R y_i||^2
        above = np.append(np.inf, lam[:k - 1]) - lam[:k] - r2
        below = lam[:k] - lam[1:k + 1] - r2
        if not (np.all(above > 0) and np.all(below > 0)):
            return None
        shift = ry2 + r2 * ry2 / below                      # sigma_i^2 - S_i^2 at most (P + U dB)
        if not np.all(shift <= 2.0 * S[:k] * (RITZ_RTOL * S[0] - svd_err)):
            return None
        return S

    def _shrink(self, lam: np.ndarray, Z: np.ndarray, k: int, budget: float) -> None:
        """Keep the leading Ritz directions of U^T P whose dropped mass stays within budget."""
        tail = np.append(np.cumsum(np.maximum(lam, 0.0)[::-1])[::-1], 0.0)  # tail[j] = sum lam[j:]
        size = k + int(np.flatnonzero(tail[k:] <= budget)[0])
        self._refresh_every = (SKETCH_REFRESH if size < self.q
                               else min(2 * self._refresh_every, SKETCH_REFRESH_MAX))
        self._refresh_at = self.steps + self._refresh_every
        self._wide_failed = False
        self.rotation = Z[:, :size]                  # (rotated even at the same size: the rows
        self.omega_U = self.omega_U @ self.rotation  # ordered for _values_from_leading)
        self.ou_rows = np.sqrt(np.einsum("ij,ij->i", self.omega_U, self.omega_U))

    def apply_rotation(self) -> None:
        """Turn the basis of the newest Y as the last refresh chose (U <- U Z, so U^T P <- Z^T U^T P).
        A left factor commutes with the steps that grow P on the right: the Y of a step
        multiplied since the values that chose it is turned just the same."""
        if self.rotation is None:
            return
        Z, self.rotation = self.rotation, None
        self.Y = np.vstack([Z.T @ self.Y[:self.q], self.Y[self.q:]])
        self._scaled = np.empty_like(self.Y)
        self.q = Z.shape[1]
