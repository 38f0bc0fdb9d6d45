"""Cells on the protocol and the two losses: central finite differences for every array, the
flow against explicit products of dense Jacobians, connectivity against finite differences."""

import warnings

import numpy as np
import pytest

from rnnviz.engine import ACTIVATIONS, Parameters, backward, forward, get_cell, loss_and_gradients
from rnnviz.engine.analysis import (
    connectivity,
    gradient_flow,
    last_loss_gradient,
    recurrent_spectra,
    step_shares,
)
from rnnviz.engine.init import init_cell_parameters
from tests.cells_for_tests import CoupledCell, SymmetricCell, registered, with_test_cells  # noqa: F401

pytestmark = pytest.mark.usefixtures("with_test_cells")      # the test cells, registered per test

ACTS = sorted(ACTIVATIONS)
# (cell, activation) pairs: the vanilla cell with each activation, the test cells
SETUPS = [("vanilla", a) for a in ACTS] + [("test_symmetric", "tanh"), ("test_symmetric", "linear"),
                                           ("test_symmetric_vjp", "tanh"), ("test_coupled", "tanh")]
VANILLA_OPTIONS = dict(kind="gaussian", spectral_radius=0.9, u_scale=1.0, ba_scale=0.3)


def problem(cell, act, seed=0, n_x=3, n_s=4, n_y=3, m=3, T=6, loss="cross_entropy"):
    """Parameters, x, s0, c0 (None unless the cell has a c state) and targets with some steps
    not scored (-1 classes, NaN outputs)."""
    rng = np.random.default_rng(seed)
    options = VANILLA_OPTIONS if cell == "vanilla" else {}
    p = init_cell_parameters(rng, cell, n_x, n_s, n_y, v_scale=1.0, by_scale=0.2, **options)
    x = rng.standard_normal((n_x, m, T))
    s0 = 0.5 * rng.standard_normal((n_s, m))
    c0 = 0.5 * rng.standard_normal((n_s, m)) if "c" in get_cell(cell, act).state_parts else None
    if loss == "mse":
        targets = rng.standard_normal((n_y, m, T))
        targets[rng.random((n_y, m, T)) < 0.3] = np.nan
    else:
        targets = rng.integers(0, n_y, size=(m, T))
        targets[rng.random((m, T)) < 0.3] = -1
    return p, x, s0, c0, targets


def central_difference(array, objective, eps=1e-6):
    grad = np.zeros_like(array)
    for idx in np.ndindex(array.shape):
        keep = array[idx]
        array[idx] = keep + eps
        plus = objective()
        array[idx] = keep - eps
        minus = objective()
        array[idx] = keep
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("cell,act", SETUPS)
def test_every_gradient_matches_central_differences(cell, act, loss):
    p, x, s0, c0, targets = problem(cell, act, seed=3, loss=loss)
    d = p.as_dict()
    value, grads = loss_and_gradients(x, s0, d, targets, act, cell=cell, c0=c0, loss=loss)
    objective = lambda: loss_and_gradients(x, s0, d, targets, act, cell=cell, c0=c0, loss=loss)[0]  # noqa: E731
    arrays = {"d" + n: a for n, a in d.items()} | {"ds0": s0, "dx": x}
    if c0 is not None:
        arrays["dc0"] = c0
    assert set(grads) == set(arrays)
    if act == "relu":     # clear of the kink
        assert np.abs(forward(p, x, s0, act).a).min() > 1e-4
    for name, array in arrays.items():
        num = central_difference(array, objective)
        err = np.abs(num - grads[name]).max() / max(np.abs(num).max(), 1e-8)
        assert err < 1e-7, f"{cell} {act} {loss} {name}: relative error {err:.1e}"


@pytest.mark.parametrize("cell,act", SETUPS)
def test_losses_follow_their_formulas(cell, act):
    """cross-entropy: the scored -log y / m; mse: the scored (z - target)^2 / m, y = z."""
    p, x, s0, c0, tg = problem(cell, act, seed=4)
    tr = forward(p, x, s0, act, c0=c0)
    g = backward(p, tr, tg)
    b, t = np.nonzero(tg >= 0)
    want = -np.log(tr.y[tg[b, t], b, t])
    assert np.all(g.loss_t[tg < 0] == 0)
    np.testing.assert_allclose(g.loss_t[b, t], want, rtol=1e-14)
    assert g.loss == pytest.approx(want.sum() / 3, rel=1e-14)
    p, x, s0, c0, tg = problem(cell, act, seed=4, loss="mse")
    tr = forward(p, x, s0, act, c0=c0, loss="mse")
    np.testing.assert_array_equal(tr.y, tr.z)
    assert tr.loss == "mse"
    g = backward(p, tr, tg)
    sq = np.where(np.isnan(tg), 0.0, (tr.z - np.nan_to_num(tg)) ** 2)
    np.testing.assert_allclose(g.loss_t, sq.sum(axis=0), rtol=1e-14)
    assert g.loss == pytest.approx(sq.sum() / 3, rel=1e-14)


def test_unscored_steps_contribute_nothing():
    p, x, s0, _, tg = problem("vanilla", "tanh", seed=5)
    tg[:] = -1
    g = backward(p, forward(p, x, s0), tg)
    assert g.loss == 0.0 and np.all(g.loss_t == 0)
    for name, value in g.as_dict().items():
        assert np.all(value == 0), name
    nan = np.full((p.n_y,) + x.shape[1:], np.nan)
    g = backward(p, forward(p, x, s0, loss="mse"), nan)
    assert g.loss == 0.0 and np.all(g.dW == 0)


def test_an_unscored_nonfinite_output_does_not_reach_the_gradient(recwarn):
    """a_1 = 1e300 is finite but z_1 = V s_1 overflows and y_1 is nan: with step 1 not scored,
    it adds 0 (not nan) to dL/dz: the loss and ds stay finite, no gradient is nan (dW
    overflows honestly: da_2 s_1^T ~ 1e10 * 1e300)."""
    p = Parameters(U=np.ones((1, 1)), W=np.zeros((1, 1)), V=np.array([[1e10], [0.0]]),
                   ba=np.zeros((1, 1)), by=np.zeros((2, 1)))
    tr = forward(p, np.array([[[1.0, 1e300, 1.0]]]), np.zeros((1, 1)), "linear")
    assert np.isnan(tr.y[:, 0, 1]).all()
    g = backward(p, tr, np.array([[0, -1, 1]]))
    assert np.isfinite(g.loss) and g.nonfinite_steps.size == 0
    assert np.isfinite(g.ds).all() and np.isfinite(g.dV).all() and np.isfinite(g.dby).all()
    for name, value in g.as_dict().items():
        assert not np.isnan(value).any(), name
    assert len(recwarn) == 0


def dense_jacobians(cell, p, trace, b):
    """J_t = d state_t / d state_{t-1} of element b, written out from each cell's formula."""
    T = trace.T
    if cell == "vanilla":
        df = get_cell("vanilla", trace.activation).act.df(trace.a[:, b], trace.s[:, b])
        return [df[:, t][:, None] * p.W for t in range(T)]
    if cell.startswith("test_symmetric"):
        A = SymmetricCell.matrix(p.as_dict())
        df = 1 - trace.s[:, b] ** 2 if trace.activation == "tanh" else np.ones_like(trace.s[:, b])
        return [df[:, t][:, None] * A for t in range(T)]
    D = 1 - trace.h[:, b] ** 2
    zero = np.zeros_like(p.R)
    return [np.block([[D[:, t][:, None] * p.K, D[:, t][:, None] * p.R], [zero, p.R]]) for t in range(T)]


def test_coupled_dense_jacobian_is_the_derivative_of_one_step():
    """The block formula used as the flow's oracle, against differences of one step's map."""
    p, x, s0, c0, _ = problem("test_coupled", "tanh", seed=6, T=3)
    tr = forward(p, x, s0, c0=c0)
    J = dense_jacobians("test_coupled", p, tr, 1)[2]
    state = np.concatenate([tr.h[:, 1, 1], tr.c[:, 1, 1]])

    def step(v):
        h, c = v[:p.n_s], v[p.n_s:]
        c_new = p.R @ c + p.B @ x[:, 1, 2] + p.d[:, 0]
        return np.concatenate([np.tanh(c_new + p.K @ h), c_new])
    num = np.column_stack([(step(state + 1e-6 * e) - step(state - 1e-6 * e)) / 2e-6
                           for e in np.eye(2 * p.n_s)])
    np.testing.assert_allclose(J, num, atol=1e-9)


@pytest.mark.parametrize("cell,act", SETUPS)
def test_flow_matches_explicit_products_of_dense_jacobians(cell, act):
    p, x, s0, c0, tg = problem(cell, act, seed=7, n_s=5, T=12, m=2)
    tr = forward(p, x, s0, act, c0=c0)
    g = backward(p, tr, tg)
    b, k = 1, 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = gradient_flow(p, tr, g, tg, b=b, k=k)
    Js = dense_jacobians(cell, p, tr, b)
    n = Js[0].shape[0]
    P = np.eye(n)
    # dL_T/d state_{T-1}: the readout's gradient on h, 0 on the other parts
    g_last = np.zeros(n)
    g_last[:p.n_s] = last_loss_gradient(p, tr, tg).ds[:, b, -1]
    for t in range(tr.T - 1, -1, -1):
        if t < tr.T - 1:
            P = P @ Js[t + 1]
        sv = np.linalg.svd(P, compute_uv=False)[:k]
        np.testing.assert_allclose(flow.jacobian_top_sv[t], sv, rtol=0, atol=1e-12 * sv[0])
        last = (P.T @ g_last)[:p.n_s]
        assert flow.last_loss_grad_norm[t] == pytest.approx(np.linalg.norm(last), rel=1e-10, abs=1e-300)
    np.testing.assert_allclose(flow.grad_norm, np.linalg.norm(g.ds[:, b, :], axis=0), rtol=1e-14)
    if cell == "test_coupled":                 # no bound: the curve is NaN
        assert np.isnan(flow.bound).all() and np.isnan(flow.log10_bound).all()
    else:
        assert np.all(flow.log10_jacobian_norm <= flow.log10_bound + 1e-10)


def test_vjp_path_equals_the_factor_path():
    """The same cell with and without its factors: the step-VJP products give the same curves,
    also over long sequences (sketched steps) and where f' underflows."""
    p, x, s0, _, tg = problem("test_symmetric", "tanh", seed=8, n_s=40, T=300, m=1)
    p.B[:] *= 30.0                                          # saturate some steps
    tr = forward(p, x, s0)
    g = backward(p, tr, tg)
    fast = gradient_flow(p, tr, g, tg)
    q = Parameters(cell="test_symmetric_vjp", **p.as_dict())
    tr2 = forward(q, x, s0)
    generic = gradient_flow(q, tr2, backward(q, tr2, tg), tg)
    assert fast.log10_jacobian_norm[0] < -30
    np.testing.assert_allclose(generic.log10_jacobian_norm, fast.log10_jacobian_norm, rtol=0, atol=1e-10)
    relative = [10 ** (f.log10_jacobian_top_sv - f.log10_jacobian_norm[:, None]) for f in (generic, fast)]
    np.testing.assert_allclose(relative[0], relative[1], rtol=0, atol=1e-10)   # to 1e-10 of ||P_t||
    np.testing.assert_allclose(generic.log10_last_loss_grad_norm, fast.log10_last_loss_grad_norm,
                               rtol=0, atol=1e-10)
    for t in (150, 299):
        np.testing.assert_allclose(connectivity(q, tr2, t), connectivity(p, tr, t), rtol=1e-10)


@pytest.mark.parametrize("cell,act", SETUPS)
def test_connectivity_matches_finite_differences(cell, act):
    p, x, s0, c0, _ = problem(cell, act, seed=9, T=7, m=2)
    tr = forward(p, x, s0, act, c0=c0)
    b, t, k, h = 1, 5, 2, 1e-6
    conn = connectivity(p, tr, t, b=b, k=k)
    for tp in range(tr.T):
        grad = np.zeros(p.n_x)
        for i in range(p.n_x):
            xp, xm = x.copy(), x.copy()
            xp[i, b, tp] += h
            xm[i, b, tp] -= h
            grad[i] = (forward(p, xp, s0, act, c0=c0).z[k, b, t]
                       - forward(p, xm, s0, act, c0=c0).z[k, b, t]) / (2 * h)
        assert abs(conn[tp] - np.linalg.norm(grad)) <= 1e-7 * max(np.abs(conn).max(), 1e-6)
    assert np.all(conn[t + 1:] == 0)


def step_gradients_by_differences(p, x, s0, c0, tg, t):
    """The gradient of L with respect to the recurrent matrices used at step t alone (R and K
    of the coupled cell), by central differences of a plain forward loop."""
    m, T = tg.shape

    def loss(R_t, K_t):
        h, c, total = s0, c0, 0.0
        for k in range(T):
            R, K = (R_t, K_t) if k == t else (p.R, p.K)
            c = R @ c + p.B @ x[:, :, k] + p.d
            h = np.tanh(c + K @ h)
            z = p.V @ h + p.by
            logp = z - z.max(axis=0) - np.log(np.exp(z - z.max(axis=0)).sum(axis=0))
            total -= logp[tg[:, k], np.arange(m)].sum()
        return total / m
    R_t, K_t = p.R.copy(), p.K.copy()
    return (central_difference(R_t, lambda: loss(R_t, K_t)),
            central_difference(K_t, lambda: loss(R_t, K_t)))


def test_step_shares_of_a_two_matrix_cell():
    p, x, s0, c0, tg = problem("test_coupled", "tanh", seed=10, n_s=3, T=5, m=2)
    tg[tg < 0] = 0
    tr = forward(p, x, s0, c0=c0)
    g = backward(p, tr, tg)
    norms = []
    for t in range(5):
        dR, dK = step_gradients_by_differences(p, x, s0, c0, tg, t)
        norms.append(np.sqrt(np.sum(dR ** 2) + np.sum(dK ** 2)))
    norms = np.array(norms)
    np.testing.assert_allclose(step_shares(p, tr, g), norms / norms.sum(), rtol=1e-7)


def test_step_shares_refuse_a_cell_without_its_terms():
    class Plain(CoupledCell):
        name = "test_plain"

        def recurrent_gradient_factors(self, params, trace, state0, ds_r):
            return None
    with registered(Plain):
        p, x, s0, c0, tg = problem("test_plain", "tanh", seed=11)
        tr = forward(p, x, s0, c0=c0)
        with pytest.raises(ValueError, match="^trace: expected a trace of a cell that gives"):
            step_shares(p, tr, backward(p, tr, np.maximum(tg, 0)))


def last_loss_of_state(p, x, tg, t, state_t, loss):
    """L_T (the last step's loss / m) with the state at step t replaced by state_t ({part:
    (n_s, m)}): the network re-runs the recurrence from step t+1; -1 / NaN targets not scored."""
    T, m = x.shape[2], x.shape[1]
    first = "s" if "s" in state_t else "h"
    h = state_t[first]
    if t < T - 1:
        h = forward(p, x[:, :, t + 1:], h, c0=state_t.get("c")).s[:, :, -1]
    z = p.V @ h + p.by
    if loss == "mse":
        return np.nansum((z - tg[:, :, -1]) ** 2) / m
    logp = z - z.max(axis=0) - np.log(np.exp(z - z.max(axis=0)).sum(axis=0))
    scored = tg[:, -1] >= 0
    return -logp[tg[scored, -1], np.flatnonzero(scored)].sum() / m


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("cell", ["test_coupled", "test_symmetric", "vanilla"])
def test_last_loss_gradient_matches_differences(cell, loss):
    """last_loss_gradient (the test cells: the default sweep, backward with the last step's
    gradient alone) and backward(with_last_loss=True) (the default: two sweeps; vanilla: fused)
    against differences of L_T in the read-out state h_t (c_t held)."""
    p, x, s0, c0, tg = problem(cell, "tanh", seed=12, T=5, m=3, loss=loss)
    tr = forward(p, x, s0, c0=c0, loss=loss)
    both = backward(p, tr, tg, with_last_loss=True)
    alone = last_loss_gradient(p, tr, tg)
    np.testing.assert_allclose(both.ds_last, alone.ds, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(both.ds, backward(p, tr, tg).ds, rtol=1e-14, atol=1e-16)
    parts = get_cell(cell).state_parts
    for t in range(tr.T):
        state = {part: np.array(tr.parts[part][:, :, t]) for part in parts}
        fd = central_difference(state[parts[0]],
                                lambda t=t, state=state: last_loss_of_state(p, x, tg, t, state, loss))
        np.testing.assert_allclose(alone.ds[:, :, t], fd, rtol=0, atol=1e-8)


def test_parameters_of_another_cell():
    p, x, s0, c0, tg = problem("test_coupled", "tanh", seed=13)
    assert p.cell == "test_coupled" and p.names == ("R", "K", "B", "d", "V", "by")
    assert (p.n_x, p.n_s, p.n_y) == (3, 4, 3)
    assert p.as_dict()["R"] is p.R                         # the same arrays, not copies
    assert p.copy().R is not p.R and p.astype(np.float32).R.dtype == np.float32
    for bad, message in [
        (dict(K=p.K[:3]), "K: expected shape (n_s=4, n_s=4), got (3, 4)"),
        (dict(B=p.B[:2]), "B: expected shape (n_s=4, n_x=3), got (2, 3)"),
        (dict(W=p.R), "parameters: expected keys R, K, B, d, V, by, got unknown W"),
    ]:
        with pytest.raises(ValueError) as info:
            Parameters(cell="test_coupled", **{**p.as_dict(), **bad})
        assert message in str(info.value)
    with pytest.raises(ValueError, match="parameters: expected keys R, K, B, d, V, by, got missing d"):
        Parameters.from_dict({n: a for n, a in p.as_dict().items() if n != "d"}, cell="test_coupled")
    with pytest.raises(ValueError, match="^cell: expected one of"):
        Parameters(cell="gru_not_here", **p.as_dict())
    tr = forward(p, x, s0, c0=c0)
    assert tr.cell == "test_coupled" and tr.h is tr.s and tr.c.shape == (4, 3, 6)
    np.testing.assert_array_equal(tr.state0["c"], c0)
    g = backward(p, tr, tg)
    assert g.dR.shape == (4, 4) and g.dstate0["c"].shape == (4, 3)
    assert set(g.as_dict()) == {"dR", "dK", "dB", "dd", "dV", "dby", "ds0", "dc0", "dx"}
    with pytest.raises(AttributeError):
        tr.f                                                # noqa: B018
    spectra = recurrent_spectra(p)
    assert set(spectra) == {"R", "K"}
    assert spectra["K"].sigma_max == pytest.approx(np.linalg.norm(p.K, 2), rel=1e-14)


def test_bad_arguments_for_cells_and_losses():
    p, x, s0, c0, tg = problem("test_coupled", "tanh", seed=14)
    v, vx, vs0, _, vtg = problem("vanilla", "tanh", seed=14)
    tr = forward(v, vx, vs0)
    calls = [
        (lambda: forward(p, x, s0, "relu", c0=c0), "activation: the coupled test RNN cell takes 'tanh'"),
        (lambda: forward(p, x, s0, c0=c0[:2]), "c0: expected shape (n_s=4, m=3), got (2, 3)"),
        (lambda: forward(v, vx, vs0, c0=vs0), "c0: expected None"),
        (lambda: forward(v, vx, vs0, loss="hinge"), "loss: expected one of 'cross_entropy', 'mse'"),
        (lambda: backward(v, tr, vtg.astype(float)), "targets: expected an integer array"),
        (lambda: backward(v, forward(v, vx, vs0, loss="mse"), vtg), "targets: expected a float array"),
        (lambda: backward(v, forward(v, vx, vs0, loss="mse"), np.zeros((3, 3, 5))),
         "targets: expected shape (n_y=3, m=3, T=6), got (3, 3, 5)"),
        (lambda: backward(v, forward(v, vx, vs0, loss="mse"), np.full((3, 3, 6), np.inf)),
         "targets: expected finite target outputs"),
        (lambda: backward(p, tr, vtg), "trace: expected a Trace computed with these parameters"),
        (lambda: gradient_flow(p, forward(p, x, s0, c0=c0), None, tg, sigma_max=1.0), "sigma_max"),
    ]
    for call, message in calls:
        with pytest.raises(ValueError) as info:
            call()
        assert message in str(info.value), (message, str(info.value))
