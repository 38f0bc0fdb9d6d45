"""The LSTM cell, as PyTorch's nn.LSTM defines it (gate blocks i, f, g, o).

    i = sigmoid(U_i x_t + W_i h_{t-1} + ba_i)      f, o alike
    g = tanh(U_g x_t + W_g h_{t-1} + ba_g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

U (4n_s, n_x) is PyTorch's weight_ih_l0, W (4n_s, n_s) its weight_hh_l0, and ba (4n_s, 1) the
sum bias_ih_l0 + bias_hh_l0 of its two biases (they only ever enter as a sum).

Inside, the blocks are reordered to g, i, f, o (the three sigmoid gates side by side) and the
sigmoid blocks of U, W, ba negated, so that one exp of the product gives e^-a for all three and
1 / (1 + e^-a) finishes them. Each step's gates are kept as contiguous (m, n_s) blocks: numpy's
elementwise loops on strided (m, n_s) views of an (m, 4n_s) row ran ~4x slower (measured).
The helpers before the class (argument checks, buffers, initialisers, per_gate) serve gru.py too.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._checks import check_choice, check_dtype, check_number, check_rng, check_size, fail
from .._layout import buffers
from ..draws import recurrent_matrix
from .base import Arrays, Cell
from .registry import register_cell
from .step_products import LstmStepProducts

PERM = (2, 0, 1, 3)        # internal block k holds PyTorch's block PERM[k]: g, i, f, o
INV = (1, 2, 0, 3)         # PyTorch's block p is internal block INV[p]
SIGN = (1.0, -1.0, -1.0, -1.0)
CHUNK_BYTES = 1 << 20      # backward: derivative factors are computed for chunks of steps this big
SMALL_GEMM = 1_000_000     # OpenBLAS's small-matrix kernels take products up to this many MACs
PER_GATE: bool | None = None   # force per_gate's choice (tests run both paths); None: by size
INITS = ("pytorch", "orthogonal")


def per_gate(m: int, n_s: int, blocks: int) -> bool:
    """Whether a step's recurrent product runs as one (m, n_s) @ (n_s, n_s) product per gate block
    instead of one (m, n_s) @ (n_s, blocks n_s): when the one product would leave OpenBLAS's
    small-matrix path and each block's stays on it. Measured single-threaded: 54 -> 38 us at
    (m, n_s) = (16, 128), 100 -> 39 us at (4, 256), 46 -> 38 us at (64, 64) for 4 blocks; elsewhere
    the one product is as fast or up to ~7 % faster."""
    if PER_GATE is not None:
        return PER_GATE
    return blocks * m * n_s * n_s > SMALL_GEMM >= m * n_s * n_s


def take(dtype, *shapes):
    """Uninitialised arrays from the engine's buffer recycler (_layout.buffers: no page faults)."""
    return buffers.take(dtype, *shapes)


def flat(r: np.ndarray) -> np.ndarray:
    """(T, m, n) -> (T*m, n) (a view when r is contiguous)."""
    return r.reshape(-1, r.shape[-1])


def check_params(cell: Cell, params: Arrays) -> list[np.ndarray]:
    """The cell's arrays in param_shapes order, checked: names, shapes, one float dtype."""
    if not isinstance(params, Mapping):
        raise fail("params", "a mapping of parameter names to arrays", type(params).__name__)
    U, W = params.get("U"), params.get("W")
    if not isinstance(U, np.ndarray) or not isinstance(W, np.ndarray) or U.ndim != 2 or W.ndim != 2:
        raise fail("params", "2-d arrays 'U' and 'W'", f"keys {sorted(params)}")
    shapes = cell.param_shapes(U.shape[1], W.shape[1])
    dtype = W.dtype
    if dtype not in (np.float32, np.float64):
        raise fail("params['W']", "dtype float32 or float64", dtype.name)
    out = []
    for name, shape in shapes.items():
        a = params.get(name)
        if not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != dtype:
            got = f"shape {a.shape}, dtype {a.dtype.name}" if isinstance(a, np.ndarray) else repr(a)
            raise fail(f"params[{name!r}]", f"shape {shape}, dtype {dtype.name}", got)
        out.append(a)
    return out


def check_rows(x_r, n_x: int, dtype) -> np.ndarray:
    """x in row layout (T, m, n_x) as an array of the parameters' dtype."""
    x_r = np.asarray(x_r)
    if x_r.ndim != 3 or x_r.shape[2] != n_x or x_r.shape[0] < 1 or x_r.shape[1] < 1:
        raise fail("x_r", f"shape (T, m, n_x={n_x})", x_r.shape)
    return x_r.astype(dtype, copy=False)


def check_state(state0: Arrays, part: str, m: int, n_s: int, dtype) -> np.ndarray:
    """state0[part] (m, n_s) in the parameters' dtype; zeros when the part is missing or None."""
    s = None if state0 is None else state0.get(part)
    if s is None:
        return np.zeros((m, n_s), dtype=dtype)
    s = np.asarray(s)
    if s.shape != (m, n_s):
        raise fail(f"state0[{part!r}]", f"shape (m={m}, n_s={n_s})", s.shape)
    return s.astype(dtype, copy=False)


def chunk_steps(T: int, step_bytes: int) -> int:
    """How many steps' derivative factors backward computes at once (they then stay in cache)."""
    return max(1, min(T, CHUNK_BYTES // max(step_bytes, 1)))


def uniform(rng: np.random.Generator, n_s: int, shape) -> np.ndarray:
    """PyTorch's default for every RNN array: uniform(-1/sqrt(n_s), 1/sqrt(n_s))."""
    k = 1.0 / np.sqrt(n_s)
    return rng.uniform(-k, k, size=shape)


def orthogonal_blocks(rng: np.random.Generator, n_s: int, blocks: int) -> np.ndarray:
    """(blocks n_s, n_s): each block an independent random orthogonal matrix (Saxe et al. 2013)."""
    return np.concatenate([recurrent_matrix(rng, n_s, "orthogonal", 1.0)
                           for _ in range(blocks)])


def _internal_T(M: np.ndarray, n_s: int) -> np.ndarray:
    """M (4n_s, k) in PyTorch's block order -> (k, 4n_s): the blocks in internal order, signed,
    transposed (contiguous), so that rows @ result is the product of every block at once."""
    k = M.shape[1]
    out = np.empty((k, 4 * n_s), dtype=M.dtype)
    sign = np.array(SIGN, dtype=M.dtype)[None, :, None]
    np.multiply(M.reshape(4, n_s, k)[list(PERM)].transpose(2, 0, 1), sign,
                out=out.reshape(k, 4, n_s))
    return out


@register_cell
class LSTMCell(Cell):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers 2000)."""

    name = "lstm"
    label = "LSTM"
    state_parts = ("h", "c")
    activations = ("tanh",)
    carry_gate, carry_part = "f", "c"      # the carousel: c_t = f c_{t-1} + ...
    # where h_t and c_t are finite so are the gates: a non-finite gate makes c (or, o, makes h)
    # non-finite, even times a 0 (for the network's non-finite screen, where it reads this)
    finite_from = ("h", "c")

    def param_shapes(self, n_x: int, n_s: int) -> dict[str, tuple[int, int]]:
        """U (4n_s, n_x), W (4n_s, n_s), ba (4n_s, 1); blocks i, f, g, o."""
        return {"U": (4 * n_s, n_x), "W": (4 * n_s, n_s), "ba": (4 * n_s, 1)}

    def init_params(self, rng: np.random.Generator, n_x: int, n_s: int, dtype=np.float64,
                    init: str = "pytorch", forget_bias: float = 1.0) -> dict[str, np.ndarray]:
        """PyTorch's default (every weight uniform(-1/sqrt(n_s), 1/sqrt(n_s)); ba the sum of two
        such draws, as bias_ih + bias_hh is), or "orthogonal": each W_i, W_f, W_g, W_o a random
        orthogonal matrix. forget_bias is added to ba_f (Gers et al. 2000; Jozefowicz et al. 2015
        recommend 1); PyTorch itself adds nothing (forget_bias=0)."""
        check_rng("rng", rng)
        n_x, n_s = check_size("n_x", n_x), check_size("n_s", n_s)
        dt = check_dtype("dtype", dtype)
        kind = check_choice("init", init, INITS)
        forget_bias = check_number("forget_bias", forget_bias)
        U = uniform(rng, n_s, (4 * n_s, n_x))
        W = uniform(rng, n_s, (4 * n_s, n_s)) if kind == "pytorch" else orthogonal_blocks(rng, n_s, 4)
        ba = uniform(rng, n_s, (4 * n_s, 1)) + uniform(rng, n_s, (4 * n_s, 1))
        ba[n_s:2 * n_s] += forget_bias
        return {"U": U.astype(dt), "W": W.astype(dt), "ba": ba.astype(dt)}

    def recurrent_matrices(self, params: Arrays) -> dict[str, np.ndarray]:
        """The gate blocks of W (views): W_i, W_f, W_g, W_o, each (n_s, n_s)."""
        W = params["W"]
        n_s = W.shape[1]
        return {f"W_{k}": W[j * n_s:(j + 1) * n_s] for j, k in enumerate("ifgo")}

    # ----- a whole sequence ----------------------------------------------------------------
    def forward(self, params: Arrays, x_r: np.ndarray, state0: Arrays) -> dict[str, np.ndarray]:
        """h, c and the gates i, f, g, o (after their sigmoid / tanh), each (T, m, n_s).

        state0: {"h": h0, "c": c0}, (m, n_s) each; a missing or None part is zeros.
        """
        U, W, ba = check_params(self, params)
        dt, n_s = W.dtype, W.shape[1]
        x_r = check_rows(x_r, U.shape[1], dt)
        T, m, _ = x_r.shape
        h0 = check_state(state0, "h", m, n_s, dt)
        c0 = check_state(state0, "c", m, n_s, dt)
        G, C, H = take(dt, (T, 4, m, n_s), (T, m, n_s), (T, m, n_s))
        A, tmp4, tmp = take(dt, (T, m, 4 * n_s), (m, 4 * n_s), (m, n_s))      # scratch
        UT, WT = _internal_T(U, n_s), _internal_T(W, n_s)
        b = _internal_T(ba, n_s)[0]
        if per_gate(m, n_s, 4):                             # h W_k^T per block: (4, m, n_s)
            WT = np.ascontiguousarray(WT.reshape(n_s, 4, n_s).transpose(1, 0, 2))
            prod = prodv = np.empty((4, m, n_s), dtype=dt)
        else:                                               # h W^T at once: (m, 4 n_s)
            prod = tmp4
            prodv = tmp4.reshape(m, 4, n_s).transpose(1, 0, 2)
        matmul, add, multiply, divide, exp, tanh = (np.matmul, np.add, np.multiply, np.divide,
                                                    np.exp, np.tanh)
        with np.errstate(all="ignore"):
            np.matmul(flat(x_r), UT, out=flat(A))         # U x_t for every t in one product
            A += b
            AV = A.reshape(T, m, 4, n_s).transpose(0, 2, 1, 3)     # (T, 4, m, n_s) block views
            h_prev, c_prev = h0, c0
            for a_t, g_t, c_t, h_t in zip(AV, G, C, H):     # only the recurrence loops
                matmul(h_prev, WT, prod)
                add(a_t, prodv, g_t)                        # a_g, -a_i, -a_f, -a_o
                tanh(g_t[0], g_t[0])                        # g
                s = g_t[1:]
                exp(s, s)
                add(s, 1, s)
                divide(1, s, s)                             # i, f, o = 1 / (1 + e^-a)
                multiply(g_t[2], c_prev, c_t)
                multiply(g_t[1], g_t[0], tmp)
                add(c_t, tmp, c_t)                          # c = f c_prev + i g
                tanh(c_t, tmp)
                multiply(g_t[3], tmp, h_t)                  # h = o tanh(c)
                h_prev, c_prev = h_t, c_t
        return {"h": H, "c": C, "i": G[:, 1], "f": G[:, 2], "g": G[:, 0], "o": G[:, 3]}

    def backward(self, params: Arrays, x_r: np.ndarray, state0: Arrays, trace: Arrays,
                 dh_r: np.ndarray) -> dict:
        """BPTT from dL/dh_t (T, m, n_s) of the readout: dU, dW, dba, ds (the total dL/dh_t),
        dstate0 {"h": dL/dh0, "c": dL/dc0}, dx (T, m, n_x)."""
        U, W, ba = check_params(self, params)
        dt, n_s = W.dtype, W.shape[1]
        x_r = check_rows(x_r, U.shape[1], dt)
        T, m, n_x = x_r.shape
        h0 = check_state(state0, "h", m, n_s, dt)
        c0 = check_state(state0, "c", m, n_s, dt)
        H, C = trace["h"], trace["c"]
        gi, gf, gg, go = trace["i"], trace["f"], trace["g"], trace["o"]
        if np.shape(dh_r) != (T, m, n_s) or H.shape != (T, m, n_s):
            raise fail("dh_r", f"shape (T={T}, m={m}, n_s={n_s}) like trace['h']", np.shape(dh_r))
        (DS,) = take(dt, (T, m, n_s))
        (D,) = take(dt, (T, m, 4 * n_s))                   # dL/da_t, internal block order
        K = chunk_steps(T, 7 * m * n_s * dt.itemsize)
        Q, P, TC, CP, dc, carry, tmp = take(dt, (4, K, m, n_s), (K, m, n_s), (K, m, n_s),
                                             (K, m, n_s), (m, n_s), (m, n_s), (m, n_s))
        W_int = W.reshape(4, n_s, n_s)[list(PERM)]          # (4, n_s, n_s), internal order
        blocks = per_gate(m, n_s, 4)
        if blocks:
            prod = np.empty((4, m, n_s), dtype=dt)
        else:
            W_int = W_int.reshape(4 * n_s, n_s)
        DV = D.reshape(T, m, 4, n_s).transpose(0, 2, 1, 3)          # (T, 4, m, n_s) block views
        multiply, add, matmul, subtract = np.multiply, np.add, np.matmul, np.subtract
        with np.errstate(all="ignore"):
            np.copyto(DS, dh_r)                              # becomes the total dL/dh_t in place
            dc.fill(0)
            for t1 in range(T, 0, -K):
                t0 = max(0, t1 - K)
                k = t1 - t0
                i_, f_, g_, o_ = gi[t0:t1], gf[t0:t1], gg[t0:t1], go[t0:t1]
                if t0 > 0:
                    cp = C[t0 - 1:t1 - 1]
                else:
                    cp = CP[:k]
                    cp[0] = c0
                    cp[1:] = C[:t1 - 1]
                # the derivative factors of this chunk's steps, all at once:
                # P = o (1 - tanh^2 c) (dh -> dc), and dc or dh -> da for the blocks g, i, f, o:
                # Q_g = i (1 - g^2), Q_i = g i (1 - i), Q_f = c_prev f (1 - f), Q_o = tanh(c) o (1 - o)
                tc, p = TC[:k], P[:k]
                q_g, q_i, q_f, q_o = Q[0, :k], Q[1, :k], Q[2, :k], Q[3, :k]
                np.tanh(C[t0:t1], out=tc)
                multiply(tc, tc, p)
                subtract(1, p, p)
                multiply(p, o_, p)
                multiply(g_, g_, q_g)
                subtract(1, q_g, q_g)
                multiply(q_g, i_, q_g)
                for q, s, partner in ((q_i, i_, g_), (q_f, f_, cp), (q_o, o_, tc)):
                    subtract(1, s, q)
                    multiply(q, s, q)
                    multiply(q, partner, q)
                for t in range(t1 - 1, t0 - 1, -1):          # only the recurrence loops
                    j = t - t0
                    dh = DS[t]
                    if t < T - 1:
                        add(dh, carry, dh)                   # dh_t += W^T da_{t+1}
                    multiply(dh, p[j], tmp)
                    add(dc, tmp, dc)                         # dc_t = dc from c_{t+1} + dh o tanh'
                    dv = DV[t]
                    multiply(Q[:3, j], dc, dv[:3])           # da_g, da_i, da_f
                    multiply(q_o[j], dh, dv[3])              # da_o
                    multiply(dc, f_[j], dc)                  # dc_{t-1}: the cell-state path
                    if blocks:                               # dh_{t-1} from the gates
                        matmul(dv, W_int, prod)
                        add(prod[0], prod[1], carry)
                        add(carry, prod[2], carry)
                        add(carry, prod[3], carry)
                    else:
                        matmul(D[t], W_int, carry)
            D2 = flat(D)
            if T > 1:
                dW = (flat(H[:-1]).T @ flat(D[1:])).T        # (H^T D)^T: 8-20 % faster (measured)
                if h0.any() or not np.isfinite(D[0].sum()):  # the h0 term is +0 otherwise
                    dW += D[0].T @ h0
            else:
                dW = D[0].T @ h0
            dU = (flat(x_r).T @ D2).T                       # (X^T D)^T: the long dimension last
            dba = D2.sum(axis=0)[:, None]
            U_int = U.reshape(4, n_s, n_x)[list(PERM)].reshape(4 * n_s, n_x)
            dx = (D2 @ U_int).reshape(T, m, n_x)
        inv = list(INV)
        return {"dU": dU.reshape(4, n_s, n_x)[inv].reshape(4 * n_s, n_x),
                "dW": dW.reshape(4, n_s, n_s)[inv].reshape(4 * n_s, n_s),
                "dba": dba.reshape(4, n_s, 1)[inv].reshape(4 * n_s, 1),
                "ds": DS, "dstate0": {"h": carry.copy(), "c": dc.copy()}, "dx": dx}

    # ----- one step ------------------------------------------------------------------------
    def _step_da(self, params, trace, state0, t, b, G):
        """For rows G = [G_h, G_c] (k, 2n_s): the rows e = G_h o tanh'(c) + G_c and
        G (d state_t / d a_t) in PyTorch's block order, float64."""
        n_s = params["W"].shape[1]
        G = np.asarray(G, dtype=np.float64)
        if G.ndim != 2 or G.shape[1] != 2 * n_s:
            raise fail("G", f"shape (k, 2 n_s = {2 * n_s})", G.shape)
        if not 0 <= t < trace["h"].shape[0]:
            raise fail("t", f"a step in [0, {trace['h'].shape[0]})", t)
        if not 0 <= b < trace["h"].shape[1]:
            raise fail("b", f"a batch element in [0, {trace['h'].shape[1]})", b)
        i, f, g, o, c = (np.asarray(trace[k][t, b], dtype=np.float64) for k in "ifgoc")
        if t > 0:
            c_prev = np.asarray(trace["c"][t - 1, b], dtype=np.float64)
        else:
            c_prev = check_state(state0, "c", trace["h"].shape[1], n_s, np.float64)[b]
        with np.errstate(all="ignore"):
            tc = np.tanh(c)
            Gh, Gc = G[:, :n_s], G[:, n_s:]
            e = Gh * (o * (1 - tc * tc)) + Gc
            da = np.concatenate([e * (g * i * (1 - i)), e * (c_prev * f * (1 - f)),
                                 e * (i * (1 - g * g)), Gh * (tc * o * (1 - o))], axis=1)
        return e, f, da

    def step_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                 t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """G J_t with J_t = d(h_t, c_t)/d(h_{t-1}, c_{t-1}) (2n_s x 2n_s) for batch element b;
        the scale is 0: the gated cell's factors (gates, tanh') are all bounded by 1.

        G J_t = [(G_h d_h + G_c d_c) W, e f], d_h, d_c the gates' partial derivatives, e the
        rows' gradient at c_t: the same products as one backward step.
        """
        e, f, da = self._step_da(params, trace, state0, t, b, G)
        with np.errstate(all="ignore"):
            out = np.concatenate([da @ params["W"].astype(np.float64), e * f], axis=1)
        return out, 0.0

    def input_vjp(self, params: Arrays, trace: Arrays, x_r: np.ndarray, state0: Arrays,
                  t: int, b: int, G: np.ndarray) -> tuple[np.ndarray, float]:
        """G K_t with K_t = d(h_t, c_t)/d x_t (2n_s x n_x) for batch element b; scale 0."""
        _, _, da = self._step_da(params, trace, state0, t, b, G)
        with np.errstate(all="ignore"):
            return da @ params["U"].astype(np.float64), 0.0

    def step_products(self, params: Arrays, trace: Arrays, state0: Arrays, b: int):
        """The products X J_t with the steps' Jacobians of batch element b (float64), from the
        factors saved by forward (step_products.LstmStepProducts)."""
        i, f, g, o, c = (np.asarray(trace[k][:, b], dtype=np.float64) for k in "ifgoc")
        c_prev = np.concatenate([check_state(state0, "c", trace["h"].shape[1], c.shape[1],
                                             np.float64)[b:b + 1], c[:-1]])
        return LstmStepProducts(np.asarray(params["W"], dtype=np.float64), i, f, g, o, c, c_prev)
