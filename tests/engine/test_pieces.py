"""The pieces under the network: Parameters' forms, the activations' log-derivatives, the recycler."""

import dataclasses
import pickle
import warnings
from decimal import Decimal, getcontext

import numpy as np
import pytest

from rnnviz.engine import ACTIVATIONS, Parameters, backward, forward, get_activation
from rnnviz.engine._layout import Recycler
from rnnviz.engine.analysis import gradient_flow, last_loss_gradient


def vanilla(n_x=2, n_s=3, n_y=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"U": rng.standard_normal((n_s, n_x)), "W": rng.standard_normal((n_s, n_s)),
            "V": rng.standard_normal((n_y, n_s)), "ba": rng.standard_normal((n_s, 1)),
            "by": rng.standard_normal((n_y, 1))}


def test_vanilla_parameters_in_every_form():
    d = vanilla()
    by_name, by_position = Parameters(**d), Parameters(*(d[n] for n in ("U", "W", "V", "ba", "by")))
    from_dict = Parameters.from_dict({**d, "note": "ignored"})
    for p in (by_name, by_position, from_dict):
        assert p.cell == "vanilla" and p.names == ("U", "W", "V", "ba", "by")
        assert (p.n_x, p.n_s, p.n_y, p.dtype) == (2, 3, 2, np.float64)
        for n in p.names:
            assert getattr(p, n) is d[n] and p.as_dict()[n] is d[n]
    W2 = np.eye(3)
    q = dataclasses.replace(by_name, W=W2)               # how state/ swaps one matrix
    assert q.W is W2 and q.U is d["U"] and q.cell == "vanilla"
    with pytest.raises(ValueError, match=r"^W: expected shape \(n_s=3, n_s=3\), got \(2, 2\)"):
        dataclasses.replace(by_name, W=np.eye(2))
    with pytest.raises(AttributeError, match="checked on construction"):
        by_name.W = W2
    with pytest.raises(AttributeError, match="has no array 'R'"):
        by_name.R                                         # noqa: B018
    again = pickle.loads(pickle.dumps(by_name))
    np.testing.assert_array_equal(again.W, d["W"])
    assert again.n_s == 3 and "W=(3, 3)" in repr(again)
    with pytest.raises(ValueError, match="^parameters: expected positional arrays only for the vanilla"):
        Parameters(d["U"], cell="test_coupled")


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_log_derivatives_are_the_logs_of_the_derivatives(name):
    act = get_activation(name)
    a = np.linspace(-4, 4, 161)                  # where f' itself keeps its relative precision
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ld = act.log_df(a)
        ld_nan = act.log_df(np.array([np.nan, np.inf, -np.inf]))
    with np.errstate(divide="ignore"):
        want = np.log(act.df(a, act.f(a)))
    np.testing.assert_allclose(ld, want, rtol=1e-10, atol=1e-12)
    assert ld.dtype == np.float64 and np.all(ld <= np.log(act.gamma))
    if name == "linear":
        np.testing.assert_array_equal(ld_nan, [0.0, 0.0, 0.0])  # f' = 1 wherever a is
    else:
        assert np.isnan(ld_nan[0])


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_log_derivatives_stay_exact_where_the_derivative_underflows(name):
    act = get_activation(name)
    getcontext().prec = 50
    for a in (400.0, -400.0, 800.0):
        x = Decimal(a)
        if name == "tanh":
            exact = (4 / (x.exp() + (-x).exp()) ** 2).ln()
        else:
            exact = ((-x).exp() / (1 + (-x).exp()) ** 2).ln()
        a = np.array([a])
        assert act.df(a, act.f(a))[0] == 0.0
        assert act.log_df(a)[0] == pytest.approx(float(exact), rel=1e-14)


def test_recycler_keeps_few_bases_and_reuses_free_ones():
    pool = Recycler()
    sizes = [(2000 + 500 * i, 40) for i in range(20)]       # 20 sizes, each > MIN_BYTES
    for shape in sizes:
        (a,) = pool.take(np.float64, shape)
        a.fill(1.0)
        del a
    kept = pool._local.pool
    assert len(kept) <= Recycler.KEEP and sum(b.nbytes for b in kept) <= Recycler.KEEP_BYTES
    (a,) = pool.take(np.float64, sizes[-1])
    (b,) = pool.take(np.float64, sizes[-1])
    assert a.base is not b.base                              # a live base is never handed out
    address = a.base.ctypes.data
    del a
    (c,) = pool.take(np.float64, sizes[-1])
    assert c.base.ctypes.data == address                     # ... a free one is


def test_float32_losses_with_unscored_steps():
    rng = np.random.default_rng(1)
    p = Parameters(**vanilla(n_x=3, n_s=4, n_y=3, seed=1)).astype(np.float32)
    x = rng.standard_normal((3, 2, 7)).astype(np.float32)
    s0 = np.zeros((4, 2), np.float32)
    classes = rng.integers(-1, 3, (2, 7))
    outputs = np.where(rng.random((3, 2, 7)) < 0.3, np.nan, rng.standard_normal((3, 2, 7)))
    for loss, targets in (("cross_entropy", classes), ("mse", outputs)):
        tr = forward(p, x, s0, loss=loss)
        g = backward(p, tr, targets, with_last_loss=True)
        g64 = backward(p.astype(np.float64), forward(p.astype(np.float64), x.astype(np.float64),
                                                      s0.astype(np.float64), loss=loss), targets)
        for arr in (tr.z, tr.y, g.loss_t, g.dW, g.dV, g.ds, g.ds_last):
            assert arr.dtype == np.float32
        assert g.loss == pytest.approx(g64.loss, rel=1e-5)
        np.testing.assert_allclose(g.dW, g64.dW, rtol=1e-4, atol=1e-5)
        flow = gradient_flow(p, tr, g, targets)
        np.testing.assert_allclose(flow.last_loss_grad_norm,
                                   np.linalg.norm(last_loss_gradient(p, tr, targets).ds[:, 0], axis=0),
                                   rtol=1e-5, atol=1e-30)
