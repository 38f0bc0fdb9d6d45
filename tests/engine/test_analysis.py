"""Gradient-flow analysis against exact cases and independent brute-force oracles."""

import warnings
from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.engine import Parameters, backward, forward, get_activation
from rnnviz.engine.analysis import Interrupted, connectivity, gradient_flow, last_loss_gradient, spectrum, step_shares
from rnnviz.engine.data import make_inputs, make_targets
from rnnviz.engine.init import init_parameters

ACTS = ("tanh", "relu", "sigmoid", "linear")


def setup(seed, n_x=3, n_s=5, n_y=3, m=2, T=12, act="tanh", kind="gaussian", radius=1.1,
          pattern="gaussian", ba=0.3):
    rng = np.random.default_rng(seed)
    p = init_parameters(rng, n_x, n_s, n_y, kind=kind, spectral_radius=radius, u_scale=1.0,
                        v_scale=1.0, ba_scale=ba, by_scale=0.2)
    x = make_inputs(rng, pattern, n_x, m, T)
    s0 = rng.uniform(-0.5, 0.5, size=(n_s, m))
    targets = make_targets(rng, "random", x, n_y)
    trace = forward(p, x, s0, act)
    return p, x, s0, targets, trace, backward(p, trace, targets)


def brute_jacobians(p, trace, b):
    """ds_{T-1}/ds_t for every t as explicit products J_{T-1} ... J_{t+1}."""
    act = get_activation(trace.activation)
    df = act.df(trace.a[:, b, :], trace.s[:, b, :])
    T = df.shape[1]
    P, out = np.eye(p.n_s), [None] * T
    out[T - 1] = P
    for t in range(T - 2, -1, -1):
        P = P @ (df[:, t + 1][:, None] * p.W)
        out[t] = P
    return out


def normal_matrix(rng, n, rho):
    """A symmetric W = Q diag(lam) Q^T with spectral radius rho and spread-out eigenvalues."""
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    lam = rng.uniform(-1, 1, n)
    lam[0] = 1.0
    lam *= rho
    return (Q * lam) @ Q.T, np.sort(np.abs(lam))[::-1]


@pytest.mark.parametrize("n_s", [6, 60])          # the exact path and the subspace-iteration path
@pytest.mark.parametrize("rho,T", [(0.9, 200), (1.3, 300), (0.5, 2000)])
def test_linear_normal_W_gives_rho_powers(n_s, rho, T):
    rng = np.random.default_rng(n_s)
    W, moduli = normal_matrix(rng, n_s, rho)
    p = Parameters(U=np.zeros((n_s, 2)), W=W, V=rng.standard_normal((2, n_s)),
                   ba=np.zeros((n_s, 1)), by=np.zeros((2, 1)))
    x, s0 = np.zeros((2, 1, T)), rng.standard_normal((n_s, 1))
    targets = np.zeros((1, T), dtype=np.int64)
    trace = forward(p, x, s0, "linear")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = gradient_flow(p, trace, backward(p, trace, targets), targets, k=3)
    powers = np.arange(T - 1, -1, -1)
    expected = powers * np.log10(rho)               # 0.5^1999 = 1e-602: only the log is finite
    np.testing.assert_allclose(flow.log10_jacobian_norm, expected, rtol=1e-10, atol=1e-10)
    # the other singular values relative to the norm (those below ~1e-16 are rounding noise,
    # as in any float64 product, so they are compared to 1e-8 of the norm)
    expected_sv = powers[:, None] * np.log10(moduli[:3] / rho)[None, :]
    np.testing.assert_allclose(10 ** (flow.log10_jacobian_top_sv - expected[:, None]),
                               10 ** expected_sv, rtol=0, atol=1e-8)
    np.testing.assert_allclose(flow.log10_bound, expected, rtol=1e-10, atol=1e-10)
    assert abs(flow.rate_per_step - rho) <= 1e-10 * rho


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n_s,kind,radius", [(5, "gaussian", 1.2), (50, "gaussian", 0.9),
                                             (50, "sparse", 1.5), (64, "orthogonal", 1.0)])
def test_jacobian_matches_brute_force_svd(act, n_s, kind, radius):
    p, x, s0, targets, trace, grads = setup(n_s, n_s=n_s, act=act, kind=kind, radius=radius,
                                            T=40, pattern="symbols")
    b = 1
    flow = gradient_flow(p, trace, grads, targets, b=b, k=4)
    assert flow.jacobian_top_sv.shape == (40, 4)
    for t, P in enumerate(brute_jacobians(p, trace, b)):
        sv = np.linalg.svd(P, compute_uv=False)[:4]
        assert abs(flow.jacobian_norm[t] - sv[0]) <= 1e-8 * sv[0]
        np.testing.assert_allclose(flow.jacobian_top_sv[t], sv, rtol=0, atol=1e-8 * sv[0])
    assert flow.jacobian_norm[-1] == 1.0


def counted_flow(monkeypatch, p, trace, targets, grads):
    """gradient_flow with the _TopSingularValues instance kept, to see which paths it took."""
    from rnnviz.engine import _jacobian
    made = []
    original = _jacobian._TopSingularValues

    class Counting(original):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)
    monkeypatch.setattr(_jacobian, "_TopSingularValues", Counting)
    return gradient_flow(p, trace, grads, targets, k=3), made[0]


def assert_matches_explicit_products(p, trace, flow, atol=1e-10):
    """Top-3 singular values of every P_t against np.linalg.svd of the explicit product (scaled
    by its norm, the scale tracked in log10), to atol relative to ||P_t||."""
    c, T = 0.0, trace.T
    df = get_activation(trace.activation).df(trace.a[:, 0, :], trace.s[:, 0, :])
    P = np.eye(p.n_s)
    for t in range(T - 2, -1, -1):
        P = P @ (df[:, t + 1][:, None] * p.W)
        norm = np.linalg.norm(P, 2)
        P, c = P / norm, c + np.log10(norm)
        sv = np.linalg.svd(P, compute_uv=False)[:3]
        np.testing.assert_allclose(10 ** (flow.log10_jacobian_top_sv[t] - c), sv, rtol=0, atol=atol)


@pytest.mark.parametrize("act,radius,certified", [("tanh", 1.0, 50), ("relu", 1.2, 0),
                                                   ("sigmoid", 3.0, 50)])
def test_subspace_iteration_matches_brute_force_on_a_larger_case(act, radius, certified,
                                                                 monkeypatch):
    """n_s = 96 over 200 steps: after a few exact steps, the iteration and (tanh, sigmoid: the
    spectrum decays far enough) U^T P alone."""
    p, x, s0, targets, trace, grads = setup(11, n_x=8, n_s=96, n_y=8, T=200, act=act,
                                            radius=radius, pattern="symbols", m=1)
    flow, top = counted_flow(monkeypatch, p, trace, targets, grads)
    assert top.exact_steps < 40 and top.calls > 150 and top.certified_steps >= certified
    assert_matches_explicit_products(p, trace, flow)


def sketch_case(act, radius, seed, n_s=128, T=300):
    """Like the benchmark: Gaussian W at the radius, one-hot symbols, one sequence."""
    return setup(seed, n_x=8, n_s=n_s, n_y=8, T=T, act=act, radius=radius, pattern="symbols",
                 m=1, ba=0.1)


@pytest.mark.parametrize("act,radius,seed,by_svd", [("tanh", 1.0, 0, 100), ("relu", 1.0, 3, 0),
                                                    ("sigmoid", 4.0, 1, 0)])
def test_sketched_steps_match_explicit_products(act, radius, seed, by_svd, monkeypatch):
    """Once the basis has converged P is no longer formed (U^T P and a Gaussian sketch of the
    rest carry on): every value still agrees with the SVD of the explicit product, including
    (tanh) the steps certified through _values_from_svd (sigma_3 far below sigma_1)."""
    p, x, s0, targets, trace, grads = sketch_case(act, radius, seed)
    flow, top = counted_flow(monkeypatch, p, trace, targets, grads)
    assert top.sketched_steps > 200 and top.svd_steps >= by_svd
    assert_matches_explicit_products(p, trace, flow)


def test_vanilla_sketch_from_an_exact_step_matches_explicit_products(monkeypatch):
    """n_s = 192: the first steps' spectrum is flat, so exact steps go on until P has few
    enough directions above SKETCH_RANK_FLOOR ||P||; the sketch then starts from the
    eigenvectors of P P^T (no iterated steps, none caught up), its values in part from the
    leading rows of U^T P: every value agrees with the SVD of the explicit product."""
    p, x, s0, targets, trace, grads = sketch_case("tanh", 1.0, 1, n_s=192, T=120)
    flow, top = counted_flow(monkeypatch, p, trace, targets, grads)
    assert top.exact_sketches == 1 and top.iterations == 0 and top.caught_up_steps == 0
    assert top.exact_steps < 25 and top.sketched_steps > 90 and top.leading_steps > 20
    assert_matches_explicit_products(p, trace, flow)


def test_a_sketch_that_stops_certifying_catches_up_with_p(monkeypatch):
    """A sketch made to fail mid-way (the 40th check of any sketch) hands over to P formed from
    the factors kept since its checkpoint: the values stay right, the late products are
    counted, and a new sketch takes over again."""
    from rnnviz.engine import _jacobian
    p, x, s0, targets, trace, grads = sketch_case("tanh", 1.0, 0)
    original, calls = _jacobian._Sketch.values, []

    def values(self, k, Y):
        calls.append(k)
        return None if len(calls) == 40 else original(self, k, Y)
    monkeypatch.setattr(_jacobian._Sketch, "values", values)
    flow, top = counted_flow(monkeypatch, p, trace, targets, grads)
    assert top.caught_up_steps >= 40 and top.sketched_steps > 200
    assert_matches_explicit_products(p, trace, flow)


def test_sketched_flow_is_deterministic():
    p, x, s0, targets, trace, grads = sketch_case("tanh", 1.0, 2, n_s=96, T=200)
    first = gradient_flow(p, trace, grads, targets)
    second = gradient_flow(p, trace, grads, targets)
    np.testing.assert_array_equal(first.log10_jacobian_top_sv, second.log10_jacobian_top_sv)


def flows_with_and_without_the_second_thread(monkeypatch, flow_of, always=True):
    """flow_of() with the sketched values beside the next product (on the pool's thread: every
    sketched step's where `always`, else as _PoolChoice times them, both ways in turn), then one
    step after another; each pipelined run is checked to have used the pool."""
    from concurrent import futures

    from rnnviz.engine.analysis import _products
    submitted = []
    real_submit = futures.ThreadPoolExecutor.submit

    def submit(self, fn, *args, **kwargs):
        submitted.append(fn)
        return real_submit(self, fn, *args, **kwargs)
    monkeypatch.setattr(futures.ThreadPoolExecutor, "submit", submit)
    monkeypatch.setattr(_products, "PIPELINE_MIN_N", 1)
    if always:
        monkeypatch.setattr(_products._PoolChoice, "next", lambda self: self.pool)
    piped = flow_of()
    assert len(submitted) > (100 if always else 20)  # the sketched steps' values, on the pool
    monkeypatch.setattr(_products, "PIPELINE_MIN_N", 10 ** 9)
    submitted.clear()
    alone = flow_of()
    assert submitted == []
    return piped, alone


@pytest.mark.parametrize("fail_at,always", [(None, True), (40, True), (None, False)])
def test_values_beside_the_next_product_give_the_same_numbers(fail_at, always, monkeypatch):
    """A sketched step's values run on a second thread while the next step is multiplied: the
    curves are identical to the last bit to those of one step after another, also where a
    sketch stops certifying (its 40th check made to fail: P catches up to that step, and the
    step multiplied meanwhile is multiplied again) and where the steps go both ways in turn
    (_PoolChoice's trials), and both match the explicit products."""
    from rnnviz.engine import _jacobian
    p, x, s0, targets, trace, grads = sketch_case("tanh", 1.0, 0)
    original, calls = _jacobian._Sketch.values, []

    def values(self, k, Y):
        calls.append(k)
        return None if len(calls) == fail_at else original(self, k, Y)
    monkeypatch.setattr(_jacobian._Sketch, "values", values)

    def flow():
        calls.clear()
        return gradient_flow(p, trace, grads, targets)
    piped, alone = flows_with_and_without_the_second_thread(monkeypatch, flow, always)
    assert fail_at is None or len(calls) > fail_at
    for name in ("log10_jacobian_top_sv", "log10_last_loss_grad_norm", "nonfinite_steps"):
        np.testing.assert_array_equal(getattr(piped, name), getattr(alone, name), err_msg=name)
    assert_matches_explicit_products(p, trace, piped)


def test_the_pool_is_kept_for_a_window_only_where_its_steps_took_less_time():
    """_PoolChoice: each window of WINDOW sketched steps begins with TRIAL steps in blocks of
    BLOCK, pooled and not in turn; the rest of the window goes the way that took less time."""
    from rnnviz.engine.analysis._products import _PoolChoice
    pool = object()
    choice = _PoolChoice(pool)
    W, TRIAL, BLOCK = _PoolChoice.WINDOW, _PoolChoice.TRIAL, _PoolChoice.BLOCK

    def window(pooled_s, alone_s):
        ways = []
        for _ in range(W):
            ways.append(choice.next() is pool)
            choice.took(pooled_s if ways[-1] else alone_s)
        return ways
    trial = [(i // BLOCK) % 2 == 0 for i in range(TRIAL)]
    assert window(2e-3, 1e-3) == trial + [False] * (W - TRIAL)     # alone was faster
    assert window(1e-3, 2e-3) == trial + [True] * (W - TRIAL)      # tried again: pooled now
    assert window(1e-3, 1e-3) == trial + [True] * (W - TRIAL)      # a tie keeps the pool


def linear_case(W, T, seed=0):
    n = W.shape[0]
    rng = np.random.default_rng(seed)
    p = Parameters(U=np.zeros((n, 2)), W=W, V=rng.standard_normal((2, n)),
                   ba=np.zeros((n, 1)), by=np.zeros((2, 1)))
    x, s0 = np.zeros((2, 1, T)), rng.standard_normal((n, 1))
    targets = np.zeros((1, T), dtype=np.int64)
    trace = forward(p, x, s0, "linear")
    return p, trace, targets, backward(p, trace, targets)


@pytest.mark.parametrize("top_moduli", [(1.0, -1.0, 0.999),      # equal, then clustered values
                                        (1.0, 1.0, 1.0),         # three equal values
                                        (1.0, 0.5, 0.0)])        # rank-deficient beyond 2
def test_certified_values_with_equal_clustered_and_zero_singular_values(top_moduli, monkeypatch):
    """W = Q diag(lam) Q^T: P_t = W^(T-1-t) has singular values |lam|^(T-1-t), with ties."""
    rng = np.random.default_rng(3)
    n, T = 80, 160
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    lam = rng.uniform(-0.6, 0.6, n)
    lam[:3] = top_moduli
    if top_moduli[2] == 0.0:
        lam[3:] = 0.0                                   # rank 2: sigma_3 = 0 exactly
    p, trace, targets, grads = linear_case((Q * lam) @ Q.T, T)
    flow, top = counted_flow(monkeypatch, p, trace, targets, grads)
    assert top.exact_steps < T - 1
    expected = np.sort(np.abs(lam))[::-1][:3]
    powers = np.arange(T - 1, -1, -1)
    want = expected[None, :] ** powers[:, None]
    np.testing.assert_allclose(flow.jacobian_top_sv, want, rtol=0, atol=1e-10)
    assert_matches_explicit_products(p, trace, flow)


def test_orthogonal_W_keeps_a_flat_spectrum_and_exact_steps(monkeypatch):
    """All singular values stay 1: no basis can certify them, every step is exact."""
    rng = np.random.default_rng(5)
    W = np.linalg.qr(rng.standard_normal((64, 64)))[0]
    p, trace, targets, grads = linear_case(W, 60)
    flow, top = counted_flow(monkeypatch, p, trace, targets, grads)
    assert top.exact_steps == 59 and top.certified_steps == 0
    np.testing.assert_allclose(flow.jacobian_top_sv, 1.0, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), act=st.sampled_from(ACTS), n_s=st.integers(1, 60),
       T=st.integers(1, 40),
       # below ~1e-100 the products of two entries of W are subnormal floats and lose digits
       # (seen: 5.8e-11 of log10 above the bound at rho = 2.8e-157): no lecture goes there
       radius=st.one_of(st.just(0.0), st.floats(1e-100, 3.0)),
       kind=st.sampled_from(("gaussian", "orthogonal", "identity", "sparse")))
def test_jacobian_never_exceeds_its_bound(seed, act, n_s, T, radius, kind):
    p, x, s0, targets, trace, grads = setup(seed, n_s=n_s, T=T, act=act, kind=kind,
                                            radius=radius, m=1)
    flow = gradient_flow(p, trace, grads, targets)
    finite = np.isfinite(flow.log10_jacobian_norm)
    assert np.all(flow.log10_jacobian_norm[finite]
                  <= flow.log10_bound[finite] + np.log10(1 + 1e-10))
    assert flow.jacobian_norm[T - 1] == 1.0 and flow.bound[T - 1] == 1.0
    for name in ("grad_norm", "last_loss_grad_norm", "jacobian_norm", "bound"):
        assert getattr(flow, name).shape == (T,)


def test_grad_norm_is_the_norm_of_ds():
    p, x, s0, targets, trace, grads = setup(1, T=15)
    flow = gradient_flow(p, trace, grads, targets, b=1)
    np.testing.assert_allclose(flow.grad_norm, np.linalg.norm(grads.ds[:, 1, :], axis=0),
                               rtol=1e-14)


def last_step_loss_from(p, trace, targets, b, t, s_t, act):
    """-log y_{T-1}[target] / m when the state at step t is replaced by s_t (plain loop)."""
    f = get_activation(act).f
    s = s_t
    for k in range(t + 1, trace.T):
        s = f(p.U @ trace.x[:, b, k] + p.W @ s + p.ba[:, 0])
    z = p.V @ s + p.by[:, 0]
    z = z - z.max()
    return -(z[targets[b, -1]] - np.log(np.sum(np.exp(z)))) / trace.m


@pytest.mark.parametrize("act", ACTS)
def test_last_loss_gradient_matches_finite_differences(act):
    p, x, s0, targets, trace, grads = setup(2, T=8, act=act, m=3)
    b, h = 2, 1e-6
    flow = gradient_flow(p, trace, grads, targets, b=b)
    for t in range(trace.T):
        s_t = trace.s[:, b, t]
        fd = np.array([(last_step_loss_from(p, trace, targets, b, t, s_t + h * e, act)
                        - last_step_loss_from(p, trace, targets, b, t, s_t - h * e, act)) / (2 * h)
                       for e in np.eye(p.n_s)])
        assert abs(flow.last_loss_grad_norm[t] - np.linalg.norm(fd)) <= 1e-7 * max(np.linalg.norm(fd), 1e-3)
    assert flow.last_loss_grad_norm[-1] == pytest.approx(flow.grad_norm[-1], rel=1e-12)


# ----- dL_T/ds_t per unit, all batch elements (last_loss_gradient) ------------------------------
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n_s,T,radius", [(5, 12, 1.1), (40, 60, 0.9), (24, 40, 1.4)])
def test_last_loss_gradient_norms_equal_the_jacobian_path(act, n_s, T, radius):
    """Its per-step norms are GradientFlow's ||dL_T/ds_t||, computed by Jacobian products."""
    p, x, s0, targets, trace, grads = setup(11, n_s=n_s, T=T, act=act, radius=radius, m=3)
    g = last_loss_gradient(p, trace, targets)
    assert g.ds.shape == (n_s, 3, T) and g.nonfinite_steps.size == 0
    for b in range(3):
        flow = gradient_flow(p, trace, grads, targets, b=b)
        norms = np.linalg.norm(g.ds[:, b, :], axis=0)
        live = flow.last_loss_grad_norm > 1e-250      # dead relu steps are exactly 0 in both
        np.testing.assert_allclose(norms[live], flow.last_loss_grad_norm[live], rtol=1e-10)
        assert np.all(norms[~live] < 1e-250)
    # at the last step only the last loss feeds dL/ds: the total gradient's last column
    np.testing.assert_allclose(g.ds[:, :, -1], grads.ds[:, :, -1], rtol=1e-14, atol=0)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n_s,T,radius,ba", [(5, 1, 1.1, 0.3), (40, 60, 0.9, 0.3),
                                             (24, 900, 2.5, 0.0)])
def test_backward_fills_in_the_last_loss_gradient_in_the_same_sweep(act, n_s, T, radius, ba):
    """backward(with_last_loss=True): ds_last equals last_loss_gradient's dL_T/ds_t (the
    separate recurrence) to rounding, and every other gradient equals a plain backward's;
    overflowing steps (linear, radius 2.5, T = 900) agree too, without warnings."""
    p, x, s0, targets, trace, grads = setup(12, n_s=n_s, T=T, act=act, radius=radius, m=3, ba=ba)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = backward(p, trace, targets, with_last_loss=True)
    alone = last_loss_gradient(p, trace, targets).ds
    assert both.ds_last.shape == alone.shape and grads.ds_last is None
    finite = np.isfinite(alone)
    assert finite.all() == (act != "linear" or T < 900)     # 2.5^900 leaves the float range
    np.testing.assert_array_equal(np.isfinite(both.ds_last), finite)
    np.testing.assert_allclose(both.ds_last[finite], alone[finite], rtol=1e-12,
                               atol=1e-13 * np.max(np.abs(alone[finite]), initial=0.0))
    for name in ("ds", "dU", "dW", "dV", "dba", "dby", "ds0", "dx"):
        # to rounding: the sweep stacks both gradients into one product, whose BLAS kernel
        # may sum in another order (AVX-512 OpenBLAS: 3e-17 apart on an entry of 8e-6)
        ours, plain = getattr(both, name), getattr(grads, name)
        scale = np.max(np.abs(plain[np.isfinite(plain)]), initial=0.0)
        np.testing.assert_allclose(ours, plain, rtol=1e-12, atol=1e-15 * scale + 1e-300,
                                   equal_nan=True, err_msg=name)


def last_loss_of_state(p, x, targets, t, s_t, act):
    """L_T = -(1/m) sum_b log y_{T-1}[target] with the state at step t set to s_t (n_s, m):
    the fast engine re-runs the recurrence from step t+1."""
    T = x.shape[2]
    s_last = s_t if t == T - 1 else forward(p, x[:, :, t + 1:], s_t, act).s[:, :, -1]
    z = p.V @ s_last + p.by
    z = z - z.max(axis=0)
    log_y = z - np.log(np.exp(z).sum(axis=0))
    m = x.shape[1]
    return -log_y[targets[:, -1], np.arange(m)].sum() / m


@pytest.mark.parametrize("act", ACTS)
def test_last_loss_gradient_matches_finite_differences_entrywise(act):
    p, x, s0, targets, trace, grads = setup(12, n_s=6, T=9, act=act, m=2, radius=1.2)
    g = last_loss_gradient(p, trace, targets).ds
    h = 1e-6
    for t in range(trace.T):
        fd = np.zeros((p.n_s, trace.m))
        for i in range(p.n_s):
            for b in range(trace.m):
                s_t = np.array(trace.s[:, :, t])
                s_t[i, b] += h
                up = last_loss_of_state(p, x, targets, t, s_t, act)
                s_t[i, b] -= 2 * h
                down = last_loss_of_state(p, x, targets, t, s_t, act)
                fd[i, b] = (up - down) / (2 * h)
        # 1e-7 relative, plus the difference quotient's own rounding (~eps |L_T| / h per entry:
        # 1e-10 here, which matters only where sigmoid's gradient has faded to ~1e-6)
        rounding = 10 * np.finfo(float).eps * abs(last_loss_of_state(
            p, x, targets, t, trace.s[:, :, t], act)) / h
        assert np.abs(g[:, :, t] - fd).max() <= 1e-7 * np.abs(fd).max() + rounding, (act, t)


def test_last_loss_gradient_fades_where_the_total_gradient_does_not():
    """The point of it: at rho < 1 dL_T/ds_t vanishes going back, dL/ds_t stays level."""
    p, x, s0, targets, trace, grads = setup(13, n_s=32, T=60, radius=0.6, m=2)
    g = last_loss_gradient(p, trace, targets).ds
    last = np.linalg.norm(g[:, 0, :], axis=0)
    total = np.linalg.norm(grads.ds[:, 0, :], axis=0)
    assert last[0] < 1e-8 * last[-1]
    assert total[0] > 1e-2 * total[-1]


def test_last_loss_gradient_overflow_is_reported_without_warnings():
    """Linear, rho = 2, zero input and state: the forward pass stays 0 (finite), while the
    gradient grows ~2x per step back and leaves the float range after ~1000 steps."""
    rng = np.random.default_rng(6)
    n_s, T = 32, 1200
    p = init_parameters(rng, 2, n_s, 3, kind="gaussian", spectral_radius=2.0, u_scale=1.0,
                        v_scale=1.0, ba_scale=0.0, by_scale=0.0)
    trace = forward(p, np.zeros((2, 1, T)), np.zeros((n_s, 1)), "linear")
    targets = np.zeros((1, T), dtype=np.int64)
    assert trace.nonfinite_steps.size == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = last_loss_gradient(p, trace, targets)
    bad = g.nonfinite_steps
    assert bad.size and 0 < bad.max() < T - 100
    np.testing.assert_array_equal(bad, np.arange(bad.max() + 1))     # every step further back
    assert np.all(np.isfinite(g.ds[:, :, bad.max() + 1:]))
    assert not np.isfinite(g.ds[:, :, bad.max()]).all()


def test_last_loss_gradient_single_step_float32_and_bad_arguments():
    p, x, s0, targets, trace, grads = setup(14, T=1)
    np.testing.assert_array_equal(last_loss_gradient(p, trace, targets).ds, grads.ds)
    p32 = p.astype(np.float32)
    _, x, s0, targets, _, _ = setup(14, T=7)
    trace32 = forward(p32, x.astype(np.float32), s0.astype(np.float32))
    g32 = last_loss_gradient(p32, trace32, targets).ds
    g64 = last_loss_gradient(p, forward(p, x, s0), targets).ds
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-6)
    for call, name in ((lambda: last_loss_gradient(p.as_dict(), trace, targets), "params"),
                       (lambda: last_loss_gradient(p, grads, targets), "trace"),
                       (lambda: last_loss_gradient(p32, trace, targets[:, :1]), "trace"),
                       (lambda: last_loss_gradient(p, trace, targets + 5), "targets"),
                       (lambda: last_loss_gradient(p, trace, targets[:, :0]), "targets")):
        with pytest.raises(ValueError, match=rf"^{name}: expected"):
            call()


@pytest.mark.parametrize("act", ACTS)
def test_connectivity_matches_finite_differences(act):
    p, x, s0, targets, trace, grads = setup(3, T=9, act=act, m=2)
    b, t, k, h = 1, 6, 2, 1e-6
    conn = connectivity(p, trace, t, b=b, k=k)
    for tp in range(trace.T):
        grad = np.zeros(p.n_x)
        for i in range(p.n_x):
            xp, xm = x.copy(), x.copy()
            xp[i, b, tp] += h
            xm[i, b, tp] -= h
            grad[i] = (forward(p, xp, s0, act).z[k, b, t] - forward(p, xm, s0, act).z[k, b, t]) / (2 * h)
        assert abs(conn[tp] - np.linalg.norm(grad)) <= 1e-7 * max(np.abs(conn).max(), 1e-6)
    assert np.all(conn[t + 1:] == 0)


def test_connectivity_defaults_to_the_argmax_class():
    p, x, s0, targets, trace, grads = setup(4, T=6)
    k = int(np.argmax(trace.y[:, 0, 4]))
    np.testing.assert_array_equal(connectivity(p, trace, 4), connectivity(p, trace, 4, k=k))


def test_step_shares_split_dW_into_steps():
    p, x, s0, targets, trace, grads = setup(5, T=10, act="tanh", m=3)
    df = get_activation("tanh").df(trace.a, trace.s)
    da = grads.ds * df
    s_prev = np.concatenate([s0[:, :, None], trace.s[:, :, :-1]], axis=2)
    dW_t = [da[:, :, t] @ s_prev[:, :, t].T for t in range(10)]
    np.testing.assert_allclose(sum(dW_t), grads.dW, rtol=1e-10, atol=1e-14)
    norms = np.array([np.linalg.norm(d) for d in dW_t])
    np.testing.assert_allclose(step_shares(p, trace, grads), norms / norms.sum(), rtol=1e-10)
    norms_b = np.array([np.linalg.norm(np.outer(da[:, 1, t], s_prev[:, 1, t])) for t in range(10)])
    np.testing.assert_allclose(step_shares(p, trace, grads, b=1), norms_b / norms_b.sum(), rtol=1e-10)


def test_spectrum():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((7, 7))
    spec = spectrum(W)
    lam = np.linalg.eigvals(W)
    np.testing.assert_allclose(np.abs(spec.eigenvalues), np.sort(np.abs(lam))[::-1], rtol=1e-12)
    assert spec.spectral_radius == pytest.approx(np.max(np.abs(lam)), rel=1e-14)
    assert spec.sigma_max == pytest.approx(np.linalg.svd(W, compute_uv=False)[0], rel=1e-14)
    given = spectrum(W, eigenvalues=lam)          # W's eigenvalues already known: no solve
    np.testing.assert_array_equal(given.eigenvalues, spec.eigenvalues)
    assert given.sigma_max == spec.sigma_max
    W[1, 2] = np.nan
    bad = spectrum(W)
    assert np.isnan(bad.spectral_radius) and np.isnan(bad.sigma_max) and bad.eigenvalues.shape == (7,)


def test_exploding_linear_regime_is_finite_in_log_space_without_warnings():
    p, x, s0, targets, trace, grads = setup(6, n_s=32, T=1000, act="linear", radius=2.0, m=1,
                                            pattern="gaussian", ba=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = gradient_flow(p, trace, grads, targets)
        shares = step_shares(p, trace, grads)
        conn = connectivity(p, trace, 999)
    assert np.all(np.isfinite(flow.log10_jacobian_norm)) and np.all(np.isfinite(flow.log10_bound))
    assert 250 < flow.log10_jacobian_norm[0] <= flow.log10_bound[0]
    assert flow.rate_per_step == pytest.approx(10 ** (flow.log10_jacobian_norm[0] / 999))
    assert shares.shape == conn.shape == (1000,)


def test_overflowing_states_are_reported_not_raised():
    p, x, s0, targets, trace, grads = setup(7, n_s=20, T=1000, act="linear", radius=3.0, m=1)
    assert trace.nonfinite_steps.size                    # the forward pass overflowed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow = gradient_flow(p, trace, grads, targets)
        shares = step_shares(p, trace, grads)
        connectivity(p, trace, 999)
    assert flow.nonfinite_steps.size
    assert np.all(np.isfinite(flow.log10_jacobian_norm))   # linear: the Jacobian is W^k anyway
    assert np.isnan(shares).any()


def test_saturated_tanh_stays_exact_in_log_space():
    """One unit, inputs driving |a| far beyond where 1 - tanh(a)^2 rounds to 0."""
    a_values = [25.0, -40.0, 300.0, 5.0]
    T, w = len(a_values) + 1, 0.5
    p = Parameters(U=np.ones((1, 1)), W=np.full((1, 1), w), V=np.ones((1, 1)),
                   ba=np.zeros((1, 1)), by=np.zeros((1, 1)))
    x = np.zeros((1, 1, T))
    x[0, 0, 1:] = a_values                          # s is in [-1, 1], so a_t = x_t + w s_{t-1}
    trace = forward(p, x, np.zeros((1, 1)), "tanh")
    targets = np.zeros((1, T), dtype=np.int64)
    flow = gradient_flow(p, trace, backward(p, trace, targets), targets)
    getcontext().prec = 50
    expected = Decimal(0)
    for t in range(T - 2, -1, -1):
        a = Decimal(float(trace.a[0, 0, t + 1]))
        sech2 = 4 / (a.exp() + (-a).exp()) ** 2
        expected += (sech2 * Decimal(w)).log10()
        assert flow.log10_jacobian_norm[t] == pytest.approx(float(expected), rel=1e-12)
    assert flow.log10_jacobian_norm[0] < -250


def test_should_stop_interrupts():
    p, x, s0, targets, trace, grads = setup(8, T=30)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) >= 5

    with pytest.raises(Interrupted):
        gradient_flow(p, trace, grads, targets, should_stop=stop)
    assert len(calls) == 5
    gradient_flow(p, trace, grads, targets, should_stop=lambda: False)


def test_single_step_and_dead_relu():
    p, x, s0, targets, trace, grads = setup(9, T=1)
    flow = gradient_flow(p, trace, grads, targets)
    assert flow.jacobian_norm.tolist() == [1.0] and np.isnan(flow.rate_per_step)
    p, x, s0, targets, trace, grads = setup(9, T=6, act="relu", ba=0.0)
    p.ba[:] = -100.0                                   # every unit dead: f' = 0
    trace = forward(p, x, s0, "relu")
    grads = backward(p, trace, targets)
    flow = gradient_flow(p, trace, grads, targets)
    assert np.all(flow.jacobian_norm[:-1] == 0) and flow.rate_per_step == 0.0
    assert np.all(flow.log10_jacobian_norm[:-1] == -np.inf) and flow.nonfinite_steps.size == 0


def test_a_known_sigma_max_gives_the_same_flow_without_its_own_svd(monkeypatch):
    p, _, _, targets, trace, grads = setup(4, n_s=6)
    default = gradient_flow(p, trace, grads, targets, b=1)
    sigma = float(np.linalg.norm(p.W, 2))
    calls = []
    real_norm = np.linalg.norm
    monkeypatch.setattr(np.linalg, "norm", lambda *a, **k: calls.append(a[1:]) or real_norm(*a, **k))
    given = gradient_flow(p, trace, grads, targets, b=1, sigma_max=sigma)
    assert 2 not in [c[0] for c in calls if c]          # no spectral norm computed
    for field in ("log10_bound", "bound", "log10_jacobian_norm", "grad_norm", "jacobian_top_sv",
                  "last_loss_grad_norm", "nonfinite_steps"):
        np.testing.assert_array_equal(getattr(given, field), getattr(default, field))
    assert given.rate_per_step == default.rate_per_step
    doubled = gradient_flow(p, trace, grads, targets, b=1, sigma_max=2 * sigma)
    steps_back = np.arange(trace.a.shape[2] - 1, -1, -1)
    np.testing.assert_allclose(doubled.log10_bound, default.log10_bound + steps_back * np.log10(2),
                               rtol=0, atol=1e-13)


@pytest.mark.parametrize("call,name", [
    (lambda s: gradient_flow(s[0], s[4], s[5], s[3], b=2), "b"),
    (lambda s: gradient_flow(s[0], s[4], s[5], s[3], k=0), "k"),
    (lambda s: gradient_flow(s[0], s[4], s[5], s[3][:, :3]), "targets"),
    (lambda s: gradient_flow(s[0].as_dict(), s[4], s[5], s[3]), "params"),
    (lambda s: gradient_flow(s[0], s[4], s[5], s[3], sigma_max=-1.0), "sigma_max"),
    (lambda s: gradient_flow(s[0], s[4], s[5], s[3], sigma_max=np.nan), "sigma_max"),
    (lambda s: gradient_flow(s[0], s[4], s[5], s[3], sigma_max="2"), "sigma_max"),
    (lambda s: connectivity(s[0], s[4], 12), "t"),
    (lambda s: connectivity(s[0], s[4], 3, k=3), "k"),
    (lambda s: spectrum(np.zeros((2, 3))), "W"),
    (lambda s: spectrum(np.eye(3), eigenvalues=np.ones(2)), "eigenvalues"),
])
def test_bad_arguments_name_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: expected"):
        call(setup(10))
