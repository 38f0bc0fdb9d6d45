"""The GRU cell on the protocol: the stepwise oracle, finite differences, its one-step Jacobians,
float32, non-finite numbers, initialisation and argument checks."""

import warnings

import numpy as np
import pytest

from rnnviz.engine import stepwise
from rnnviz.engine.cells import CELLS, get_cell
from rnnviz.engine.cells import lstm as lstm_module
from rnnviz.engine.cells.gru import GRUCell

N_X, N_S, M, T = 3, 4, 2, 6


def problem(seed, n_x=N_X, n_s=N_S, m=M, T=T, scale=2.0):
    """A cell, parameters (PyTorch's init times scale), x (T, m, n_x), state0 and the loss weights
    R (T, m, n_s) of L = sum(R * s)."""
    rng = np.random.default_rng(seed)
    cell = GRUCell()
    p = {k: v * scale for k, v in cell.init_params(rng, n_x, n_s).items()}
    x = rng.normal(size=(T, m, n_x))
    state0 = {"s": rng.normal(scale=0.5, size=(m, n_s))}
    R = rng.normal(size=(T, m, n_s))
    return cell, p, x, state0, R


def seed_layout(r):
    """(T, m, n) -> (n, m, T), as the stepwise functions take and give."""
    return np.ascontiguousarray(np.transpose(r, (2, 1, 0)))


def oracle(p, x, state0, R):
    """The stepwise forward and backward (V, by unused by the backward: any will do)."""
    n_s = p["W"].shape[1]
    d = dict(p, V=np.ones((2, n_s)), by=np.zeros((2, 1)))
    s, _, caches = stepwise.gru_forward(seed_layout(x), state0["s"].T, d)
    return s, caches, stepwise.gru_backward(seed_layout(R), caches)


def numeric_gradient(f, a, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of a (changed in place)."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        up = f()
        a[idx] = keep - eps
        down = f()
        a[idx] = keep
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.fixture(params=[(False, None), (True, None), (False, 1900)],
                ids=["one-product", "per-gate", "chunked"])
def both_products(request, monkeypatch):
    """Run a test with the step's recurrent product done both ways (lstm.per_gate), and with
    backward's derivative factors in chunks of a few steps (3 or 4 here) instead of all at once."""
    blocks, chunk_bytes = request.param
    monkeypatch.setattr(lstm_module, "PER_GATE", blocks)
    if chunk_bytes is not None:
        monkeypatch.setattr(lstm_module, "CHUNK_BYTES", chunk_bytes)


def test_registered_with_the_protocol():
    cell = get_cell("gru")
    assert isinstance(cell, GRUCell) and CELLS["gru"] is GRUCell
    assert (cell.name, cell.label, cell.state_parts) == ("gru", "GRU", ("s",))
    assert cell.param_shapes(3, 5) == {"U": (15, 3), "W": (15, 5), "ba": (15, 1), "bs": (15, 1)}
    _, p, *_ = problem(0)
    blocks = cell.recurrent_matrices(p)
    assert list(blocks) == ["W_r", "W_z", "W_n"]
    np.testing.assert_array_equal(np.concatenate(list(blocks.values())), p["W"])
    assert cell.jacobian_factors(p, {}, 0) is None and cell.jacobian_bound(p) is None


def test_other_activations_are_refused():
    with pytest.raises(ValueError, match="activation"):
        GRUCell("relu")
    with pytest.raises(ValueError, match="activation"):
        get_cell("gru", activation="relu")


@pytest.mark.usefixtures("both_products")
@pytest.mark.parametrize("T, m", [(T, M), (1, 1)])
def test_forward_and_gradients_match_the_stepwise_oracle(T, m):
    cell, p, x, state0, R = problem(1, m=m, T=T)
    trace = cell.forward(p, x, state0)
    g = cell.backward(p, x, state0, trace, R)
    s, caches, og = oracle(p, x, state0, R)
    close = dict(rtol=0, atol=1e-12)
    np.testing.assert_allclose(seed_layout(trace["s"]), s, **close)
    for k, name in zip(range(2, 6), ("r", "z", "n", "hn")):     # the cache holds them at 2..5
        np.testing.assert_allclose(seed_layout(trace[name]), np.stack([ca[k] for ca in caches], -1),
                                   **close, err_msg=name)
    for name in ("dU", "dW", "dba", "dbs"):
        assert g[name].shape == p[name[1:]].shape
        np.testing.assert_allclose(g[name], og[name], **close, err_msg=name)
    np.testing.assert_allclose(seed_layout(g["dx"]), og["dx"], **close)
    np.testing.assert_allclose(g["dstate0"]["s"], og["ds0"].T, **close)
    # ds_t, the total dL/ds_t: R_t plus what the oracle sends back to s_t from the steps after t
    for t in range(T - 1):
        _, _, later = oracle(p, x[t + 1:], {"s": trace["s"][t]}, R[t + 1:])
        np.testing.assert_allclose(g["ds"][t], R[t] + later["ds0"].T, **close, err_msg=f"t={t}")
    np.testing.assert_allclose(g["ds"][T - 1], R[T - 1], **close)


@pytest.mark.usefixtures("both_products")
def test_gradients_match_central_differences():
    cell, p, x, state0, R = problem(3)
    p = {k: v.copy() for k, v in p.items()}
    g = cell.backward(p, x, state0, cell.forward(p, x, state0), R)

    def loss():
        return float(np.sum(R * cell.forward(p, x, state0)["s"]))

    checks = [(p[k], g["d" + k], k) for k in ("U", "W", "ba", "bs")]
    checks += [(state0["s"], g["dstate0"]["s"], "s0"), (x, g["dx"], "x")]
    for array, analytic, name in checks:
        np.testing.assert_allclose(analytic, numeric_gradient(loss, array), rtol=1e-6, atol=1e-8,
                                   err_msg=name)


@pytest.mark.parametrize("t", [0, 3, T - 1])
def test_step_and_input_vjp_match_finite_difference_jacobians(t):
    cell, p, x, state0, R = problem(4)
    trace = cell.forward(p, x, state0)
    n = N_S
    s_prev = (trace["s"][t - 1] if t else state0["s"]).copy()
    x_t = x[t].copy()
    G = np.random.default_rng(5).normal(size=(3, n))
    eps = 1e-6

    def step(xt, sp):
        return cell.forward(p, xt[None], {"s": sp})["s"][0]

    for b in range(M):
        J = np.zeros((n, n))                          # d s_t / d s_{t-1}, row b
        for j in range(n):
            up, down = s_prev.copy(), s_prev.copy()
            up[b, j] += eps
            down[b, j] -= eps
            J[:, j] = (step(x_t, up)[b] - step(x_t, down)[b]) / (2 * eps)
        K = np.zeros((n, N_X))                        # d s_t / d x_t, row b
        for j in range(N_X):
            up, down = x_t.copy(), x_t.copy()
            up[b, j] += eps
            down[b, j] -= eps
            K[:, j] = (step(up, s_prev)[b] - step(down, s_prev)[b]) / (2 * eps)
        out, scale = cell.step_vjp(p, trace, x, state0, t, b, G)
        assert scale == 0 and out.shape == (3, n) and out.dtype == np.float64
        np.testing.assert_allclose(out, G @ J, rtol=1e-6, atol=1e-8)
        out, scale = cell.input_vjp(p, trace, x, state0, t, b, G)
        assert scale == 0 and out.shape == (3, N_X)
        np.testing.assert_allclose(out, G @ K, rtol=1e-6, atol=1e-8)


def test_step_vjp_carries_backward_through_time():
    """Chained step_vjp from R_{T-1} back to the start, adding R_t on the way, is backward's ds
    and dstate0."""
    n, m, steps = 24, 3, 4
    cell, p, x, state0, R = problem(6, n_s=n, m=m, T=steps)
    trace = cell.forward(p, x, state0)
    g = cell.backward(p, x, state0, trace, R)
    for b in range(m):
        G = R[-1, b][None].copy()
        for t in range(steps - 1, 0, -1):
            G, _ = cell.step_vjp(p, trace, x, state0, t, b, G)
            G[0] += R[t - 1, b]
            np.testing.assert_allclose(G[0], g["ds"][t - 1, b], rtol=1e-12, atol=1e-14)
        G, _ = cell.step_vjp(p, trace, x, state0, 0, b, G)
        np.testing.assert_allclose(G[0], g["dstate0"]["s"][b], rtol=1e-12, atol=1e-14)


def test_float32_runs_in_float32_and_agrees_with_float64():
    cell, p, x, state0, R = problem(7, n_s=16, m=3, T=20)
    ref_trace = cell.forward(p, x, state0)
    ref = cell.backward(p, x, state0, ref_trace, R)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    s32 = {k: v.astype(np.float32) for k, v in state0.items()}
    x32, R32 = x.astype(np.float32), R.astype(np.float32)
    trace = cell.forward(p32, x32, s32)
    g = cell.backward(p32, x32, s32, trace, R32)
    for k in ("s", "r", "z", "n", "hn"):
        assert trace[k].dtype == np.float32
        np.testing.assert_allclose(trace[k], ref_trace[k], rtol=0,
                                   atol=2e-5 * max(1.0, np.abs(ref_trace[k]).max()), err_msg=k)
    for k in ("dU", "dW", "dba", "dbs", "ds", "dx"):
        assert g[k].dtype == np.float32
        np.testing.assert_allclose(g[k], ref[k], rtol=0, atol=1e-5 * np.abs(ref[k]).max(), err_msg=k)
    assert g["dstate0"]["s"].dtype == np.float32
    np.testing.assert_allclose(g["dstate0"]["s"], ref["dstate0"]["s"], rtol=0,
                               atol=1e-5 * np.abs(ref["dstate0"]["s"]).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nonfinite_numbers_never_raise_or_warn(dtype):
    cell, p, x, state0, R = problem(8, T=8)
    p = {k: v.astype(dtype) for k, v in p.items()}
    p["W"][0, 0] = 1e38 if dtype == np.float32 else 1e300      # exp and products overflow
    x = x.astype(dtype)
    x[5, 0, 0] = np.nan                                          # batch row 0 from step 5 on
    x[6, 1, 1] = np.inf
    state0 = {k: v.astype(dtype) for k, v in state0.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = cell.forward(p, x, state0)
        g = cell.backward(p, x, state0, trace, R.astype(dtype))
        cell.step_vjp(p, trace, x, state0, 6, 0, np.ones((1, N_S)))
        cell.input_vjp(p, trace, x, state0, 6, 1, np.ones((1, N_S)))
    assert np.isnan(trace["s"][5:, 0]).all()
    assert np.isfinite(trace["s"][:5, 0]).all()
    assert not np.isfinite(g["dW"]).all()
    # finite_from: wherever its arrays are finite, every array of the trace is
    assert cell.finite_from == ("s", "hn")
    shown = np.logical_and.reduce([np.isfinite(trace[k]) for k in cell.finite_from])
    for k in ("s", "r", "z", "n", "hn"):
        assert np.isfinite(trace[k][shown]).all(), k
    assert not shown.all()


def test_init_params_pytorch_default():
    cell = GRUCell()
    n_x, n_s = 5, 16
    k = 1 / np.sqrt(n_s)
    p = cell.init_params(np.random.default_rng(0), n_x, n_s)
    assert {name: a.shape for name, a in p.items()} == cell.param_shapes(n_x, n_s)
    for name, a in p.items():
        assert a.dtype == np.float64 and np.abs(a).max() <= k, name
        assert np.abs(a).max() > 0.8 * k, name                          # the whole range is used
    assert not np.allclose(p["ba"], p["bs"])
    p32 = cell.init_params(np.random.default_rng(0), n_x, n_s, dtype=np.float32)
    assert all(a.dtype == np.float32 for a in p32.values())
    np.testing.assert_allclose(p32["W"], p["W"], rtol=1e-7)


def test_init_params_orthogonal_blocks():
    cell = GRUCell()
    p = cell.init_params(np.random.default_rng(1), 3, 8, init="orthogonal")
    for name, Wk in cell.recurrent_matrices(p).items():
        np.testing.assert_allclose(Wk @ Wk.T, np.eye(8), atol=1e-12, err_msg=name)
    blocks = list(cell.recurrent_matrices(p).values())
    assert not np.allclose(blocks[0], blocks[1])                    # independent draws


def test_bad_arguments_name_themselves():
    cell, p, x, state0, R = problem(9)
    with pytest.raises(ValueError, match="init"):
        cell.init_params(np.random.default_rng(0), 3, 4, init="xavier")
    with pytest.raises(ValueError, match="'bs'"):
        cell.forward(dict(p, bs=p["bs"].astype(np.float32)), x, state0)
    with pytest.raises(ValueError, match="'bs'"):
        cell.forward({k: v for k, v in p.items() if k != "bs"}, x, state0)
    with pytest.raises(ValueError, match="'s'"):
        cell.forward(p, x, {"s": state0["s"].T})
    with pytest.raises(ValueError, match="dh_r"):
        cell.backward(p, x, state0, cell.forward(p, x, state0), R[:, :, :-1])
    with pytest.raises(ValueError, match="t"):
        cell.step_vjp(p, cell.forward(p, x, state0), x, state0, T, 0, np.ones((1, N_S)))
