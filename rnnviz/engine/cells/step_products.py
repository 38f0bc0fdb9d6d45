"""Products X J_t with a gated cell's step Jacobians J_t = d state_t / d state_{t-1}, for the
flow analysis (Cell.step_products; analysis/_products.ProductSteps multiplies them in).

Each object holds the factors of every step of one batch element, computed at once from the
trace; form(t, scale) writes the one n_s x n_s matrix step t needs into the object's buffer
(one pass over the recurrent blocks), and rows(X, out) then writes out = X (scale J_t) for rows
X (k, n_state), out not sharing memory with X. A later form overwrites the buffer.
"""

from __future__ import annotations

import numpy as np


def _finite_rows(*factors: np.ndarray) -> np.ndarray:
    """(T,) whether every factor's row t is finite."""
    return np.all(np.isfinite(np.concatenate([np.reshape(a, (a.shape[0], -1)) for a in factors],
                                             axis=1)), axis=1)


class LstmStepProducts:
    """X J_t for the LSTM, with J_t = d(h_t, c_t)/d(h_{t-1}, c_{t-1}):

        d c_t / d h_{t-1} = A_t = diag(g i (1-i)) W_i + diag(c_{t-1} f (1-f)) W_f + diag(i (1-g^2)) W_g
        d h_t / d h_{t-1} = diag(p) A_t + diag(tanh(c_t) o (1-o)) W_o,   p = o (1 - tanh^2 c_t)
        d c_t / d c_{t-1} = diag(f),  d h_t / d c_{t-1} = diag(p f)

    so for rows X = [X_h, X_c], with Z = X_h diag(p) + X_c:

        X J_t = [ [Z, X_h diag(d_o)] [A_t; W_o],  Z diag(f) ]

    one (k, 2n_s) x (2n_s, n_s) product, the buffer [A_t; W_o] formed by one einsum over W_i,
    W_f, W_g (W_o stays in place), and two passes over X: no n_state x n_state matrix.
    """

    def __init__(self, W: np.ndarray, i, f, g, o, c, c_prev):
        n_s = W.shape[1]
        self.n_s, self.n = n_s, 2 * n_s
        self._W3 = np.ascontiguousarray(W[:3 * n_s].reshape(3, n_s, n_s))     # W_i, W_f, W_g
        with np.errstate(all="ignore"):
            tc = np.tanh(c)
            self._p = o * (1 - tc * tc)
            self._d_o, self._f = tc * o * (1 - o), f
            self._dc3 = np.ascontiguousarray(                                  # (T, 3, n_s)
                np.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)], axis=1))
        self._finite = _finite_rows(self._p, self._d_o, self._f, self._dc3) & bool(
            np.all(np.isfinite(W)))
        self._K = np.empty((2 * n_s, n_s))
        self._K[n_s:] = W[3 * n_s:]
        self._t, self._scale = -1, 1.0

    def form(self, t: int, scale: float = 1.0) -> bool:
        """Form step t's A_t times scale; whether the step is finite."""
        self._t, self._scale = t, scale
        if not self._finite[t]:
            return False
        with np.errstate(all="ignore"):
            A = np.einsum("kij,ki->ij", self._W3, self._dc3[t] * scale, out=self._K[:self.n_s])
            return bool(np.isfinite(A.sum()))    # (entries ~||W|| / norm: a sum cannot overflow)

    def rows(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = X (scale J_t), t the step formed last; X, out (k, 2n_s)."""
        n_s, t, scale = self.n_s, self._t, self._scale
        ZX = np.empty_like(X)
        with np.errstate(all="ignore"):
            Z = np.multiply(X[:, :n_s], self._p[t], out=ZX[:, :n_s])
            Z += X[:, n_s:]
            np.multiply(X[:, :n_s], self._d_o[t] * scale, out=ZX[:, n_s:])
            np.matmul(ZX, self._K, out=out[:, :n_s])         # (a strided out: no temporary)
            np.multiply(Z, self._f[t] * scale, out=out[:, n_s:])
        return out


class GruStepProducts:
    """X J_t for the GRU, with J_t = d s_t / d s_{t-1}:

        J_t = diag(z) + diag(a_n hn r (1-r)) W_r + diag(a_z) W_z + diag(a_n r) W_n,
        a_z = (s_{t-1} - n) z (1-z),  a_n = (1-z)(1-n^2),  hn = W_n s_{t-1} + bs_n,

    formed by one einsum over the three blocks, then one (k, n_s) x (n_s, n_s) product.
    """

    def __init__(self, W: np.ndarray, r, z, n, hn, s_prev):
        n_s = W.shape[1]
        self.n = n_s
        self._W3 = np.ascontiguousarray(W.reshape(3, n_s, n_s))               # W_r, W_z, W_n
        with np.errstate(all="ignore"):
            a_n = (1 - z) * (1 - n * n)
            self._d3 = np.ascontiguousarray(                                   # (T, 3, n_s)
                np.stack([a_n * hn * r * (1 - r), (s_prev - n) * z * (1 - z), a_n * r], axis=1))
        self._z = z
        self._finite = _finite_rows(self._d3, z) & bool(np.all(np.isfinite(W)))
        self._J = np.empty((n_s, n_s))
        self._diagonal = np.diag_indices(n_s)

    def form(self, t: int, scale: float = 1.0) -> bool:
        """Form scale J_t; whether the step is finite."""
        if not self._finite[t]:
            return False
        with np.errstate(all="ignore"):
            J = np.einsum("kij,ki->ij", self._W3, self._d3[t] * scale, out=self._J)
            J[self._diagonal] += self._z[t] * scale
            return bool(np.isfinite(J.sum()))

    def rows(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = X (scale J_t), t the step formed last; X, out (k, n_s)."""
        with np.errstate(all="ignore"):
            return np.matmul(X, self._J, out=out)
