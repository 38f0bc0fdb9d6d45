"""The top singular values of the Jacobian products P_t = J_{T-1} ... J_{t+1} as P grows on the right.

P <- P J one step at a time, J a step object (analysis/_products.py): J = diag(dv) W for cells
whose Jacobians have that form, else a cell's step VJP. The analysis carries the log scale.
The sketched steps (U^T P and a Gaussian sketch of the rest, without P) are in _sketch.py.
A sketched step's values (start() ... finish()) may run on a second thread while the next step
is multiplied: they read only the Y they were given, and the refresh they choose is applied to
the newest Y (a change of basis on the left commutes with steps multiplied on the right).
"""

from __future__ import annotations

from concurrent.futures import Executor, Future

import numpy as np

from ._sketch import GRAM_RTOL, RITZ_RTOL, _flush, _Sketch

EXACT_SVD_MAX_N = 48     # up to this n_s a full SVD per step is cheaper than subspace iteration
SHORT_STEPS = 80         # ... and up to SHORT_EXACT_MAX_N for products of at most this many steps:
SHORT_EXACT_MAX_N = 96   # a basis and a sketch need more steps to pay off (n_s = 64, T = 40, the
                         # live-training preset: 11 ms a computation against 18)
OVERSAMPLE = 16          # subspace size k + OVERSAMPLE
MAX_ITERATIONS = 10      # subspace iterations per step before falling back to a full SVD
GUARD = 0.5              # iterate only while the mass outside the basis is below GUARD * S_k
SHRINK = 0.1             # shrink the certifying basis to a mass outside below this share
REFRESH_EVERY = 32       # certified steps between refreshes of a basis larger than k + OVERSAMPLE
# Sketched steps (_sketch.py): once the left basis has converged, P itself is no longer formed.
SKETCH_WIDEN = 32        # random columns added to the basis when a sketch starts ...
SKETCH_WIDEN_SHARE = 4   # ... or n / this, if more (flatter spectra, e.g. a GRU's, then keep
                         # their sketches: 0.62 -> 0.45 s CPU at n_s = 256, T = 500 with n / 8)
SKETCH_KEEP = 1e-15      # ... which then keeps its Ritz directions down to this times ||P||
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
SKETCH_SEED = 1811       # Omega from a fixed seed: the same input gives the same output


_FAILED = "failed"        # what _sketch_values gives where LAPACK refused (NaN or inf in Y)


def _sketch_values(sketch: _Sketch, k: int, Y: np.ndarray):
    """sketch.values(k, Y) (on the pool's thread: numpy's error state is per thread)."""
    try:
        with np.errstate(all="ignore"):
            return sketch.values(k, Y)
    except np.linalg.LinAlgError:
        return _FAILED


def _scale_estimate(Y: np.ndarray, q: int) -> float:
    """A scale for the next step, known before the values are: the largest of the first rows of
    U^T P, in Ritz order since the last refresh (so ~sigma_1, and at most it); any positive
    number would do, the analysis keeping the scale exactly. 1 where they are 0 or not finite
    (the values then say so)."""
    head = Y[:min(q, 4)]
    return _usable_scale(float(np.sqrt(np.max(np.einsum("ij,ij->i", head, head)))))


def _usable_scale(top: float) -> float:
    """top as the next step's scale, or 1 where it is 0 or not finite (the values say so)."""
    return top if 0.0 < top < np.inf else 1.0


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
    After each step certified with a basis, P itself is no longer formed: a _Sketch carries
    U^T P and a Gaussian sketch of the rest, (q + r) n^2 per step instead of n^3, until it no
    longer certifies the values; then P catches up from the factors kept. A sketch that fails
    within SKETCH_WAIT steps (its basis had not converged yet) is retried after a wait that
    doubles, up to SKETCH_WAIT_MAX steps. A sketch may also start from an exact step, where the
    top is still flat but P has few directions above SKETCH_RANK_FLOOR ||P|| (an LSTM's, a wide
    vanilla cell's first steps); for their first EXACT_PATIENCE steps exact steps go on to
    iterate only with the smallest block, so such a sketch gets its chance first.
    """

    def __init__(self, n: int, k: int, v: np.ndarray | None = None, steps: int | None = None,
                 pool: Executor | None = None):
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
        self.pool = pool                        # where sketched values run, beside the next
                                                # step (None: at once; may change between steps)
        self._started = None                    # for finish(): the values start() computed at
                                                # once, or sketched (result or Future, sketch,
                                                # len(pending), Y)
        self.scale = 1.0

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

    def _catch_up(self, at: int, v: np.ndarray) -> None:
        """Form P from the sketch's checkpoint and its first `at` factors (v: v^T P there), then
        drop the sketch; a sketch that failed early is tried again only after a wait (doubling
        while they fail)."""
        sketch, self.sketch = self.sketch, None
        self.v = v.copy()
        for step, flush in sketch.pending[:at]:
            self._multiply_P(step, flush)
        if sketch.from_exact:                           # no basis fit to iterate with yet
            self.U = None
        self.caught_up_steps += at
        early = at < SKETCH_WAIT
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

    def start(self) -> None:
        """Begin the top k singular values of P, descending (NaN if P is not finite); finish()
        returns them.

        With a sketch and a pool (a one-thread executor), its values run on the pool's thread,
        beside the next multiply (the caller's: the two share no memory, _Sketch.multiply);
        without, at once. Either way the same numbers come out. Sets scale: ||P|| (sketched: an
        estimate, at most ||P||, from U^T P's leading rows) for the next step's J."""
        sketch = self.sketch
        if sketch is None:
            self._started = self._values_of_p()
            self.scale = _usable_scale(float(self._started[0]))
            return
        Y = sketch.Y
        work = (self.pool.submit(_sketch_values, sketch, self.k, Y) if self.pool is not None
                else _sketch_values(sketch, self.k, Y))
        self._started = (work, sketch, len(sketch.pending), Y)
        self.scale = _scale_estimate(Y, sketch.q)

    def finish(self) -> np.ndarray:
        """The values start() began. Where the sketch no longer certifies them, P catches up to
        their step (the factors multiplied since are applied again after) and they come from P."""
        started, self._started = self._started, None
        if not isinstance(started, tuple):
            return started
        work, sketch, at, Y = started
        S = work.result() if isinstance(work, Future) else work
        if S is _FAILED:
            return np.full(self.k, np.nan)
        if S is not None:
            sketch.apply_rotation()
            self.calls += 1
            self.certified_steps += 1
            self.sketched_steps += 1
            self.svd_steps += sketch.by_svd
            self.leading_steps += sketch.by_leading
            return S
        since = sketch.pending[at:]
        self._catch_up(at, Y[-1])
        S = self._values_of_p()
        for step, flush in since:
            self.multiply(step, flush)
        return S

    def _values_of_p(self) -> np.ndarray:
        """The top k values from P itself: U^T P, the iteration, or an exact step."""
        try:
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
