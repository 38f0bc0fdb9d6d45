"""Optimisers and clipping against hand-derived values of torch.optim's documented rules."""

import json
import math

import numpy as np
import pytest

from rnnviz.engine import Parameters
from rnnviz.engine.optim import (
    SGD,
    Adam,
    RMSprop,
    clip_grad_norm,
    clip_grad_value,
    gradient_norms,
    make_optimizer,
)

GRADS = [0.5, -1.0, 2.0, 0.25]          # the gradient of one scalar parameter at steps 1..4


def run(opt, p0=1.0, grads=GRADS, extra=None):
    """Step a one-element parameter {"p": [p0]} through the gradients; its values after each step."""
    params = {"p": np.array([p0])}
    out = []
    for g in grads:
        opt.step(params, {"dp": np.array([g]), **(extra or {})})
        out.append(float(params["p"][0]))
    return out


# ---- SGD -----------------------------------------------------------------------------------------

def test_sgd_plain_by_hand():
    # theta <- theta - lr g: 1 - 0.05 = 0.95, + 0.1 = 1.05, - 0.2 = 0.85, - 0.025 = 0.825
    assert run(SGD(lr=0.1)) == pytest.approx([0.95, 1.05, 0.85, 0.825], rel=1e-15)


def test_sgd_momentum_dampening_by_hand():
    # b_1 = g_1 = 0.5 (no dampening at the first step)    -> p = 1 - 0.05          = 0.95
    # b_2 = 0.9 * 0.5 + 0.9 * (-1)       = -0.45           -> p = 0.95 + 0.045      = 0.995
    # b_3 = 0.9 * (-0.45) + 0.9 * 2      = 1.395           -> p = 0.995 - 0.1395    = 0.8555
    # b_4 = 0.9 * 1.395 + 0.9 * 0.25     = 1.4805          -> p = 0.8555 - 0.14805  = 0.70745
    got = run(SGD(lr=0.1, momentum=0.9, dampening=0.1))
    assert got == pytest.approx([0.95, 0.995, 0.8555, 0.70745], rel=1e-14)


def test_sgd_nesterov_by_hand():
    # b_1 = 0.5, g' = 0.5 + 0.9 * 0.5 = 0.95         -> p = 1 - 0.095 = 0.905
    # b_2 = 0.45 - 1 = -0.55, g' = -1 - 0.495 = -1.495 -> p = 0.905 + 0.1495 = 1.0545
    got = run(SGD(lr=0.1, momentum=0.9, nesterov=True), grads=GRADS[:2])
    assert got == pytest.approx([0.905, 1.0545], rel=1e-14)


def test_sgd_weight_decay_goes_into_the_gradient_and_the_buffer():
    # g_1 = 0.5 + 0.1 * 1 = 0.6, b_1 = 0.6                 -> p = 1 - 0.06 = 0.94
    # g_2 = -1 + 0.1 * 0.94 = -0.906, b_2 = 0.54 - 0.906 = -0.366 -> p = 0.94 + 0.0366 = 0.9766
    got = run(SGD(lr=0.1, momentum=0.9, weight_decay=0.1), grads=GRADS[:2])
    assert got == pytest.approx([0.94, 0.9766], rel=1e-14)


# ---- Adam ----------------------------------------------------------------------------------------

def adam_reference(grads, p, lr, b1, b2, eps, wd=0.0):
    """The docstring's rule, one scalar at a time in plain floats."""
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr / (1 - b1 ** t) * m / (math.sqrt(v) / math.sqrt(1 - b2 ** t) + eps)
        out.append(p)
    return out


def test_adam_first_step_is_lr_times_the_sign():
    # m_hat_1 = g, v_hat_1 = g^2: the first step is lr g / (|g| + eps), whatever the betas
    got = run(Adam(lr=0.01, betas=(0.7, 0.95), eps=1e-8), grads=[-3.0])
    assert got == pytest.approx([1 + 0.01 * 3 / (3 + 1e-8)], rel=1e-15)


@pytest.mark.parametrize("hyper", [
    {"lr": 1e-3},
    {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3},
    {"lr": 0.1, "betas": (0.3, 0.5), "eps": 0.0},           # beta1 < 0.5: lerp's other formula
    {"lr": 0.05, "weight_decay": 0.2},
])
def test_adam_matches_its_rule(hyper):
    full = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, **hyper}
    want = adam_reference(GRADS, 1.0, full["lr"], *full["betas"], full["eps"], full["weight_decay"])
    assert run(Adam(**hyper)) == pytest.approx(want, rel=1e-14)


def test_adam_eps_sits_outside_the_square_root_after_bias_correction():
    # one step, g = 1e-4, eps = 1e-4: v_hat = 1e-8, so the step is lr g / (1e-4 + 1e-4) = lr / 2
    # (eps inside the root, sqrt(v_hat + eps), would give lr g / sqrt(1.0001e-4) ~ lr / 100)
    got = run(Adam(lr=0.1, eps=1e-4), grads=[1e-4])
    assert got == pytest.approx([1 - 0.05], rel=1e-12)


# ---- RMSprop -------------------------------------------------------------------------------------

def rmsprop_reference(grads, p, lr, alpha, eps, wd=0.0, momentum=0.0, centered=False):
    v = a = b = 0.0
    out = []
    for g in grads:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            d = math.sqrt(v - a * a) + eps
        else:
            d = math.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / d
            p = p - lr * b
        else:
            p = p - lr * g / d
        out.append(p)
    return out


def test_rmsprop_first_step_by_hand():
    # v_1 = 0.01 * 0.25 = 0.0025, sqrt = 0.05: p = 1 - 0.01 * 0.5 / (0.05 + 1e-8)
    assert run(RMSprop(), grads=[0.5]) == pytest.approx([1 - 0.005 / (0.05 + 1e-8)], rel=1e-15)


def test_rmsprop_centered_first_step_by_hand():
    # v_1 = 0.1 g^2, a_1 = 0.1 g: v - a^2 = 0.09 g^2, d = 0.3 |g| + eps
    got = run(RMSprop(lr=0.01, alpha=0.9, eps=0.0, centered=True), grads=[2.0])
    assert got == pytest.approx([1 - 0.01 * 2 / 0.6], rel=1e-15)


@pytest.mark.parametrize("hyper", [
    {},
    {"lr": 0.1, "alpha": 0.9, "eps": 1e-3},
    {"lr": 0.1, "momentum": 0.8},
    {"lr": 0.1, "centered": True},
    {"lr": 0.1, "alpha": 0.3, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
])
def test_rmsprop_matches_its_rule(hyper):
    full = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, **hyper}
    want = rmsprop_reference(GRADS, 1.0, full["lr"], full["alpha"], full["eps"], full.get("weight_decay", 0.0),
                             full.get("momentum", 0.0), full.get("centered", False))
    assert run(RMSprop(**hyper)) == pytest.approx(want, rel=1e-14)


# ---- what all three share ------------------------------------------------------------------------

def test_defaults_are_torchs():
    assert SGD(lr=0.1).hyperparameters() == {"lr": 0.1, "momentum": 0.0, "dampening": 0.0,
                                             "weight_decay": 0.0, "nesterov": False}
    assert Adam().hyperparameters() == {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}
    assert RMSprop().hyperparameters() == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                                           "momentum": 0.0, "centered": False}


def test_step_updates_the_parameters_arrays_in_place(make_problem):
    p = make_problem(0).params
    arrays = p.as_dict()
    before = {k: v.copy() for k, v in arrays.items()}
    grads = {"d" + k: np.ones_like(v) for k, v in arrays.items()}
    grads.update(ds0=np.full((4, 2), np.nan), dx=np.full((3, 2, 5), np.nan))   # ignored
    SGD(lr=0.5).step(p, grads)
    for k, v in p.as_dict().items():
        assert v is arrays[k]
        np.testing.assert_array_equal(v, before[k] - 0.5)


def test_parameter_names_are_not_assumed():
    params = {"W_f": np.ones((2, 2)), "b_f": np.zeros((2, 1)), "float32": np.ones(3, dtype=np.float32)}
    grads = {"dW_f": np.ones((2, 2)), "db_f": np.ones((2, 1)), "dfloat32": np.ones(3, dtype=np.float32)}
    for opt in (SGD(lr=0.1, momentum=0.5), Adam(), RMSprop(centered=True, momentum=0.1)):
        opt.step(params, grads)
        assert set(opt.state) == set(params)
    assert params["float32"].dtype == np.float32


def test_hyperparameters_edited_between_steps_take_effect_and_keep_the_state():
    opt = SGD(lr=0.1, momentum=0.9)
    params = {"p": np.array([1.0])}
    opt.step(params, {"dp": np.array([0.5])})            # b = 0.5, p = 0.95
    opt.lr = 1.0
    opt.momentum = 0.5
    opt.step(params, {"dp": np.array([1.0])})            # b = 0.25 + 1 = 1.25, p = 0.95 - 1.25
    assert params["p"][0] == pytest.approx(-0.3, rel=1e-15)


@pytest.mark.parametrize("cls,hyper", [(SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.2}),
                                       (Adam, {"lr": 0.01, "weight_decay": 0.1}),
                                       (RMSprop, {"momentum": 0.3, "centered": True})])
def test_state_saved_through_json_continues_identically(cls, hyper):
    rng = np.random.default_rng(0)
    grads = [{"dA": rng.normal(size=(3, 2)), "db": rng.normal(size=(3, 1))} for _ in range(6)]
    params = {"A": rng.normal(size=(3, 2)), "b": rng.normal(size=(3, 1))}
    opt = cls(**hyper)
    for g in grads[:3]:
        opt.step(params, g)
    saved = json.loads(json.dumps(opt.state_dict(), default=lambda a: a.tolist()))
    copy = {k: v.copy() for k, v in params.items()}
    restored = cls(lr=123.0)
    restored.load_state_dict(saved)
    assert restored.hyperparameters() == opt.hyperparameters()
    for g in grads[3:]:
        opt.step(params, g)
        restored.step(copy, g)
    for k in params:
        np.testing.assert_array_equal(copy[k], params[k])


def test_load_state_dict_refuses_another_optimizers_state():
    with pytest.raises(ValueError, match="state_dict.*'adam'"):
        Adam().load_state_dict(SGD(lr=0.1).state_dict())


@pytest.mark.parametrize("build,match", [
    (lambda: SGD(lr=-1.0), "lr: expected a number >= 0"),
    (lambda: SGD(lr=0.1, momentum=-0.5), "momentum"),
    (lambda: SGD(lr=0.1, nesterov=True), "nesterov: expected momentum > 0 and dampening == 0"),
    (lambda: SGD(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda: SGD(lr=0.1, nesterov="yes"), "nesterov: expected True or False"),
    (lambda: Adam(betas=(0.9, 1.0)), r"betas: expected two numbers in \[0, 1\)"),
    (lambda: Adam(eps=float("nan")), "eps: expected a finite number"),
    (lambda: RMSprop(alpha=-0.1), "alpha"),
    (lambda: make_optimizer("adagrad", 0.1), "optimizer: expected one of 'sgd', 'adam', 'rmsprop'"),
    (lambda: make_optimizer("adam", 0.1, momentum=0.9), "hyper-parameters of adam"),
])
def test_bad_hyperparameters_raise_naming_them(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_an_edit_that_breaks_a_combination_is_refused_at_the_next_step():
    opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    opt.momentum = 0.0
    with pytest.raises(ValueError, match="nesterov"):
        opt.step({"p": np.ones(1)}, {"dp": np.ones(1)})


def test_unknown_attribute_and_bad_grads_raise():
    opt = Adam()
    with pytest.raises(AttributeError, match="no hyper-parameter 'momentum'"):
        opt.momentum = 0.9
    with pytest.raises(ValueError, match="grads: expected a key 'dW'"):
        opt.step({"W": np.ones((2, 2))}, {"dU": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"grads\['dW'\]: expected shape \(2, 2\)"):
        opt.step({"W": np.ones((2, 2))}, {"dW": np.ones((2, 3))})
    with pytest.raises(ValueError, match="params"):
        opt.step({"W": [1.0, 2.0]}, {"dW": np.ones(2)})


# ---- clipping ------------------------------------------------------------------------------------

def test_clip_grad_norm_by_hand():
    grads = {"dU": np.array([3.0]), "dW": np.array([[4.0]]), "ds0": np.array([100.0]), "dx": np.array([7.0])}
    total = clip_grad_norm(grads, 1.0)
    assert total == 5.0                                   # ds0, dx are not parameter gradients
    c = 1.0 / (5.0 + 1e-6)
    assert grads["dU"][0] == 3.0 * c and grads["dW"][0, 0] == 4.0 * c
    assert grads["ds0"][0] == 100.0 and grads["dx"][0] == 7.0


def test_clip_grad_norm_leaves_small_gradients_alone_and_takes_given_names():
    grads = {"dU": np.array([3.0]), "dW": np.array([4.0]), "dV": np.array([12.0])}
    assert clip_grad_norm(grads, 5.0, ["U", "W"]) == 5.0  # 5 / (5 + 1e-6) < 1: scaled
    assert grads["dV"][0] == 12.0
    grads = {"dU": np.array([3.0]), "dW": np.array([4.0])}
    assert clip_grad_norm(grads, 5.000001) == 5.0         # coefficient exactly 1: untouched
    assert grads["dU"][0] == 3.0
    params = Parameters(U=np.ones((1, 1)), W=np.ones((1, 1)), V=np.ones((1, 1)), ba=np.ones((1, 1)),
                        by=np.ones((1, 1)))
    grads = {"d" + k: np.full((1, 1), 2.0) for k in "U W V ba by".split()} | {"ds0": np.ones((1, 1))}
    assert clip_grad_norm(grads, 1.0, params) == pytest.approx(math.sqrt(20.0), rel=1e-15)
    assert gradient_norms(grads)["dU"] == pytest.approx(2.0 / (math.sqrt(20.0) + 1e-6), rel=1e-15)


def test_clip_grad_value():
    grads = {"dU": np.array([-3.0, 0.5, np.nan]), "dx": np.array([9.0])}
    assert clip_grad_value(grads, 1.0) is True
    np.testing.assert_array_equal(grads["dU"], [-1.0, 0.5, np.nan])
    assert grads["dx"][0] == 9.0
    assert clip_grad_value({"dU": np.array([0.2])}, 1.0) is False


@pytest.mark.parametrize("call,match", [
    (lambda g: clip_grad_norm(g, 0.0), "max_norm: expected a number > 0"),
    (lambda g: clip_grad_norm(g, float("inf")), "max_norm: expected a finite number"),
    (lambda g: clip_grad_value(g, -1.0), "clip: expected a number >= 0"),
    (lambda g: clip_grad_norm(g, 1.0, ["V"]), "grads: expected keys dV"),
    (lambda g: clip_grad_norm({"dU": [1.0]}, 1.0), "float numpy array"),
])
def test_clipping_arguments_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call({"dU": np.ones(2)})
