"""The top singular values of the Jacobian products P_t = J_{T-1} ... J_{t+1} as P grows on the right.

P <- P J one step at a time, J a step object (analysis/_products.py): J = diag(dv) W for cells
whose Jacobians have that form, else a cell's step VJP. The analysis carries the log scale.
"""

from __future__ import annotations

import numpy as np

EXACT_SVD_MAX_N = 48     # up to this n_s a full SVD per step is cheaper than subspace iteration
SHORT_STEPS = 80         # ... and up to SHORT_EXACT_MAX_N for products of at most this many steps:
SHORT_EXACT_MAX_N = 96   # a basis and a sketch need more steps to pay off (n_s = 64, T = 40, the
                         # live-training preset: 11 ms a computation against 18)
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
# Sketched steps (_Sketch): once the left basis has converged, P itself is no longer formed.
SKETCH_ROWS = 16         # r Gaussian rows that bound the mass outside the basis without P
SKETCH_FACTOR = 5.0      # ||R||_2 <= FACTOR max_i ||omega_i^T R|| but with probability
                         # (sqrt(2/pi) / FACTOR)^r = 1.7e-13 per step (Halko, Martinsson, Tropp,
                         # SIAM Review 2011, Lemma 4.1)
SKETCH_VECTOR = 10.0     # ||R y|| <= VECTOR ||Omega^T R y|| / sqrt(r) for a fixed unit y but with
                         # probability P(chi2_16 < 0.16) ~ 1e-13
SKETCH_WIDEN = 32        # random columns added to the basis when a sketch starts ...
SKETCH_WIDEN_SHARE = 4   # ... or n / this, if more (flatter spectra, e.g. a GRU's, then keep
                         # their sketches: 0.62 -> 0.45 s CPU at n_s = 256, T = 500 with n / 8)
SKETCH_KEEP = 1e-15      # ... which then keeps its Ritz directions down to this times ||P||
SKETCH_MARGIN = 1e5      # a direction is dropped once its mass is this far below the certificate's
                         # allowance (dropped mass never fades again: it adds to R for good)
SKETCH_REFRESH = 8       # sketched steps between attempts to drop faded directions, doubling
SKETCH_REFRESH_MAX = 32  # up to this while they drop none (an LSTM's first ~50 steps keep all
                         # n_s cell-state directions: each refresh's eigh cost 3x an eigvalsh)
SKETCH_WAIT = 4          # steps before trying a sketch again after one failed early ...
SKETCH_WAIT_MAX = 32     # ... doubling while they keep failing, up to this
SKETCH_RANK_FLOOR = 1e-7  # a sketch may start from an exact step where the values above this
                          # times ||P|| (the Gram matrix resolves them, down to ~1e-8) ...
SKETCH_EXACT_WIDEN_SHARE = 8   # ... and n / this more (or SKETCH_WIDEN) ...
SKETCH_FROM_EXACT = 0.9  # ... are at most this share of n (a sketch step of q ~ 0.9 n rows and
                         # its q x q eigenproblem still cost less than an exact step's n^3 and Gram
                         # eigenproblem: 1.4 -> 1.0 s CPU at n_s = 512, T = 500 with 0.625)
EXACT_PATIENCE = 32      # exact steps that iterate only with the smallest block (q), waiting for
                         # such a sketch: large iterated blocks seldom certified sooner, cost about
                         # an exact step each and their sketches failed (13 -> 11 s at n_s = 1024)
LEADING_SHARE = 0.75     # values from the leading rows of U^T P alone only if they are at most
                         # this share of the basis (else the q x q eigenproblem is as cheap) ...
LEADING_MIN = 64         # ... and of at least this many directions (below, no gain: measured)
SKETCH_SEED = 1811       # Omega from a fixed seed: the same input gives the same output


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
        self.from_exact = False                              # started from an exact step (no basis)

    def multiply(self, step, flush: bool) -> None:
        """Y <- Y J, J the step's Jacobian."""
        self.pending.append((step, flush))
        out = step.rows(self.Y, self._scaled)
        if out is not self.Y:
            self.Y, self._scaled = out, self.Y
        if flush:                                            # (v on its own scale)
            _flush(self.Y[:-1])
            _flush(self.Y[-1])

    @property
    def v(self) -> np.ndarray:
        """The owner's v^T P."""
        return self.Y[-1]

    def values(self, k: int) -> np.ndarray | None:
        """The top k singular values of P if the sketch puts them within RITZ_RTOL ||P||, else None."""
        q = self.q
        B, C = self.Y[:q], self.Y[q:-1]
        self.steps += 1
        refresh = self.steps >= self._refresh_at and q > k
        rows = np.einsum("ij,ij->i", self.Y[:-1], self.Y[:-1])
        mass, c_rows = rows[:q], np.sqrt(rows[q:])            # ||u_j^T P||^2, ||omega_i^T P||
        E = C - self.omega_U @ B                              # Omega^T R
        e_rows = np.sqrt(np.einsum("ij,ij->i", E, E))
        bf = np.sqrt(np.sum(mass))                            # ||U^T P||_F
        err = GRAM_RTOL * (q + 2) * (c_rows + self.ou_rows * bf)  # rounding in each row of E
        r2 = (SKETCH_FACTOR * np.max(e_rows + err)) ** 2     # bound on ||R||_2^2
        slack = GRAM_RTOL * (B.shape[1] + q) * (bf * bf + r2)  # rounding in G and lam
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
        guess = RITZ_RTOL * np.max(mass) * self.ratio - r2 - 2.0 * slack
        fits = np.flatnonzero(tail[k:] <= guess)
        if not fits.size or k + int(fits[0]) > LEADING_SHARE * self.q:
            return None
        j = k + int(fits[0])
        B1 = B[:j]
        try:
            lam = np.linalg.eigvalsh(B1 @ B1.T)[::-1]
        except np.linalg.LinAlgError:
            return None
        S = np.sqrt(np.maximum(lam[:k], 0.0))
        if not r2 + tail[j] + 2.0 * slack <= 2.0 * RITZ_RTOL * S[0] * S[k - 1]:   # (or NaN)
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
        B = Z[:, :size].T @ self.Y[:self.q]          # (rotated even at the same size: the rows
        self.omega_U = self.omega_U @ Z[:, :size]    # ordered for _values_from_leading)
        self.ou_rows = np.sqrt(np.einsum("ij,ij->i", self.omega_U, self.omega_U))
        self.Y = np.vstack([B, self.Y[self.q:]])
        self._scaled = np.empty_like(self.Y)
        self.q = size


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
    After each step certified with a basis, P itself is no longer formed: a _Sketch carries
    U^T P and a Gaussian sketch of the rest, (q + r) n^2 per step instead of n^3, until it no
    longer certifies the values; then P catches up from the factors kept. A sketch that fails
    within SKETCH_WAIT steps (its basis had not converged yet) is retried after a wait that
    doubles, up to SKETCH_WAIT_MAX steps. A sketch may also start from an exact step, where the
    top is still flat but P has few directions above SKETCH_RANK_FLOOR ||P|| (an LSTM's, a wide
    vanilla cell's first steps); for their first EXACT_PATIENCE steps exact steps go on to
    iterate only with the smallest block, so such a sketch gets its chance first.
    """

    def __init__(self, n: int, k: int, v: np.ndarray | None = None, steps: int | None = None):
        self.n, self.k = n, k
        self.v = np.zeros(n) if v is None else np.array(v, dtype=np.float64)   # v^T P, carried like P
        self.q = min(n, k + OVERSAMPLE)         # smallest block
        self.q_max = max(self.q, n // 4)        # largest block worth iterating with
        short = steps is not None and steps <= SHORT_STEPS and n <= SHORT_EXACT_MAX_N
        self.exact = short or n <= max(EXACT_SVD_MAX_N, 2 * self.q)
        self.q_floor = min(self.q_max, max(self.q, 3 * n // 16))  # iterated blocks: large
        # enough that U^T P alone certifies the values soon (measured best at n = 256)
        self.U = None                           # None: exact SVDs until the spectrum has decayed
        self.P, self._P_next, self._J = np.eye(n), np.empty((n, n)), np.empty((n, n))  # P_{T-1} = I
        self.sketch: _Sketch | None = None      # while set, P stays at its checkpoint
        self._rng = np.random.default_rng(SKETCH_SEED)
        self.sketched_steps = 0                 # steps certified by the sketch (also counted below)
        self.caught_up_steps = 0                # n^3 products done late, where a sketch stopped
        self.svd_steps = 0                      # sketched steps certified by _values_from_svd
        self.leading_steps = 0                  # ... by _values_from_leading
        self.exact_sketches = 0                 # sketches started from an exact step
        self._sketch_wait, self._sketch_wait_next = 0, SKETCH_WAIT // 2   # steps to wait
        self.exact_steps = 0
        self.iterations = 0                     # half steps, for the benchmark
        self.certified_steps = 0                # steps certified by U^T P alone
        self.calls, self._advance_first, self._try_certify = 0, False, True

    def multiply(self, step, flush: bool) -> None:
        """P <- P J and v^T <- v^T J, J the step's Jacobian (or the sketch's U^T P, Omega^T P and
        v^T, while there is one)."""
        if self.sketch is not None:
            self.sketch.multiply(step, flush)
            self.v = self.sketch.v
            return
        self.v = step.vector(self.v)
        if flush:
            _flush(self.v)
        self._multiply_P(step, flush)

    def _multiply_P(self, step, flush: bool) -> None:
        step.matrix(self.P, self._J, self._P_next)
        self.P, self._P_next = self._P_next, self.P
        if flush:
            _flush(self.P)

    def _catch_up(self) -> None:
        """Form P from the sketch's checkpoint and the factors since, then drop the sketch; a
        sketch that failed early is tried again only after a wait (doubling while they fail)."""
        sketch, self.sketch = self.sketch, None
        self.v = sketch.v.copy()
        for step, flush in sketch.pending:
            self._multiply_P(step, flush)
        if sketch.from_exact:                           # no basis fit to iterate with yet
            self.U = None
        self.caught_up_steps += len(sketch.pending)
        early = len(sketch.pending) < SKETCH_WAIT
        self._sketch_wait = min(2 * self._sketch_wait_next, SKETCH_WAIT_MAX) if early else SKETCH_WAIT
        self._sketch_wait_next = self._sketch_wait

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
            largest = self.q if self.exact_steps <= EXACT_PATIENCE else self.q_max
            if size is not None and size <= largest:        # decayed enough: iterate from here
                U = np.linalg.eigh(G)[1][:, ::-1][:, :size]
                self.U = np.ascontiguousarray(U)
            elif self._sketch_wait > 0:
                self._sketch_wait -= 1
            else:
                self._maybe_sketch_from_exact(P, G, S)
        return S[:self.k]

    def _maybe_sketch_from_exact(self, P: np.ndarray, G: np.ndarray, S: np.ndarray) -> None:
        """Start a sketch from this exact step where P has few directions above
        SKETCH_RANK_FLOOR ||P|| (rank of them): its basis the leading rank + widen eigenvectors
        of G = P P^T, when that is at most SKETCH_FROM_EXACT n. Where the top values are not
        yet separated enough to iterate (a flat top: an LSTM's ~n_s slowly fading cell-state
        directions, a wide vanilla cell's first steps), this skips the iterated steps.
        Eigenvectors of G are accurate to ~eps ||P||^2 / (their gap to the rest) (Davis-Kahan),
        so the part of a direction of value sigma_i >= SKETCH_RANK_FLOOR ||P|| left outside the
        basis is below ~eps ||P||^2 / sigma_i: far inside the sketch's allowance (where G does
        not resolve the top k values, _start_sketch's iterations from random columns). The sketch's
        own bound decides whether it holds; where it fails, exact steps go on."""
        rank = int(np.sum(S > SKETCH_RANK_FLOOR * S[0]))
        widen = max(SKETCH_WIDEN, self.n // SKETCH_EXACT_WIDEN_SHARE)
        if rank + widen > SKETCH_FROM_EXACT * self.n:
            return
        size = min(self.n, max(rank, self.k) + widen)
        if S[self.k - 1] * RITZ_RTOL >= GRAM_RTOL * self.n * S[0]:   # G resolves the top k
            U = np.linalg.eigh(G)[1][:, ::-1][:, :size]     # (in Ritz order: leading rows first)
            self.sketch = _Sketch(P, np.ascontiguousarray(U), self._rng, self.v)
        else:          # (values below the Gram's reach, e.g. sigma_k = 0: Ritz vectors from P)
            self._start_sketch(P, np.empty((self.n, 0)), size)
        self.sketch.from_exact = True
        self.exact_sketches += 1

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

    def _maybe_sketch(self, P: np.ndarray) -> None:
        """After a step with a basis: start a sketch, unless one failed early not long ago."""
        if self._sketch_wait > 0:
            self._sketch_wait -= 1
        else:
            self._start_sketch(P, self.U, max(SKETCH_WIDEN, self.n // SKETCH_WIDEN_SHARE))

    def _start_sketch(self, P: np.ndarray, U: np.ndarray, widen: int) -> None:
        """Go on without P from the next step, from a basis much more accurate than U: U widened
        by `widen` random columns, two subspace-iteration steps orthonormalised on both
        sides (P^T X and P Y: no squared dynamic range, so directions down to ~eps ||P|| are
        resolved), its Ritz vectors kept down to SKETCH_KEEP ||P||."""
        extra = self._rng.standard_normal((self.n, min(widen, self.n - U.shape[1])))
        X = np.hstack([U, extra])
        for _ in range(2):
            Y = np.linalg.qr(P.T @ X)[0]
            X = np.linalg.qr(P @ Y)[0]
        Z, S, _ = np.linalg.svd(X.T @ P, full_matrices=False)
        size = max(self.k, int(np.sum(S > SKETCH_KEEP * S[0])))
        self.sketch = _Sketch(P, X @ Z[:, :size], self._rng, self.v)

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
        try:
            if self.sketch is not None:
                S = self.sketch.values(self.k)
                if S is not None:
                    self.calls += 1
                    self.certified_steps += 1
                    self.sketched_steps += 1
                    self.svd_steps += self.sketch.by_svd
                    self.leading_steps += self.sketch.by_leading
                    return S
                self._catch_up()
            P = self.P
            if self.U is not None:
                self.calls += 1
                B = _flush(P.T @ self.U)
                S = self._certified(P, B) if self._try_certify else None
                if S is None:
                    S = self._iterate(P, B)
                if S is not None:
                    self._maybe_sketch(P)
                    return S
                self.U = None
            return self._exact(P)
        except np.linalg.LinAlgError:                # LAPACK refuses NaN/inf input
            return np.full(self.k, np.nan)
