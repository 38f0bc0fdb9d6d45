"""Optimisers and gradient clipping with exactly PyTorch's update rules and defaults (torch.optim 2.x).

Each optimiser updates the parameter arrays in place: `step(params, grads)` with params the
notebook's dict {"U": ..., "W": ...} or an object with `.as_dict()` (the engine's Parameters,
which hands out its own arrays), and grads the dict with a key "d" + name for every parameter
(other keys, such as ds0 and dx, are ignored). Names are never assumed: whatever arrays params
holds are updated, so cells with other parameters work unchanged.

The rules below are torch.optim's single-tensor ("for-loop") implementations, the ones torch
uses for CPU tensors, read from torch 2.13.0's source; t counts the steps of each parameter from 1,
g_t is the gradient, theta the parameter, and every operation is elementwise. torch fuses some
multiply-adds (lerp, addcmul) into one rounding, NumPy does not: results agree to a few ulp per
step, not bit for bit (benchmarks/check_against_torch.py measures it).

Hyper-parameters are plain attributes, checked when set, and may be changed between steps
(a user moving the learning-rate slider while training runs); the state (moments, buffers,
step counts) is kept. `state_dict()` / `load_state_dict()` save and restore all of it.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from typing import ClassVar

import numpy as np

from ._checks import check_number, fail

# Gradients in a grads dict that belong to inputs or initial states, not to parameters:
# clip_grad_norm / clip_grad_value leave them out unless told the parameter names.
NON_PARAMETER_GRADS = frozenset({"dx", "ds0", "dh0", "dc0"})


def parameter_arrays(params) -> dict[str, np.ndarray]:
    """The parameter arrays by name, the same objects (a dict, or anything with .as_dict())."""
    if hasattr(params, "as_dict"):
        params = params.as_dict()
    if not isinstance(params, Mapping) or not params:
        raise fail("params", "a non-empty dict of arrays or an object with .as_dict()",
                   type(params).__name__)
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise fail(f"params[{name!r}]", "a float numpy array (updated in place)", type(p).__name__)
    return dict(params)


def _gradient_of(grads, name: str, p: np.ndarray) -> np.ndarray:
    if not isinstance(grads, Mapping):
        raise fail("grads", "a dict with keys 'd' + parameter name", type(grads).__name__)
    key = "d" + name
    if key not in grads:
        raise fail("grads", f"a key {key!r} (the gradient of {name})", f"keys {sorted(grads)}")
    g = np.asarray(grads[key])
    if g.shape != p.shape:
        raise fail(f"grads[{key!r}]", f"shape {p.shape} (that of {name})", g.shape)
    return g


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise fail(name, "True or False", repr(value))
    return bool(value)


def _check_betas(name: str, value) -> tuple[float, float]:
    ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)) and 0.0 <= b < 1.0
        for b in value)
    if not ok:
        raise fail(name, "two numbers in [0, 1)", repr(value))
    return (float(value[0]), float(value[1]))


def _at_least_zero(name: str, value) -> float:
    return check_number(name, value, minimum=0.0)


def _finite(name: str, value) -> float:
    return check_number(name, value)


def _lerp_(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """a <- a + w (b - a), in place: torch's lerp_ (its formula for |w| >= 0.5 is b - (b - a)(1 - w))."""
    d = np.subtract(b, a)
    if abs(w) < 0.5:
        d *= w
        a += d
    else:
        d *= 1.0 - w
        np.subtract(b, d, out=a)
    return a


class Optimizer:
    """What the three optimisers share: checked hyper-parameters, per-parameter state, save/restore."""

    name: ClassVar[str]
    # hyper-parameter name -> checker(name, value) returning the stored value
    HYPER: ClassVar[dict[str, object]]

    def __init__(self, **hyper):
        object.__setattr__(self, "state", {})        # {param name: {state key: array or number}}
        for key, value in hyper.items():
            setattr(self, key, value)
        self._check_combination()

    def __setattr__(self, key, value):
        if key in self.HYPER:
            value = self.HYPER[key](key, value)
        elif key != "state":
            raise AttributeError(f"{type(self).__name__} has no hyper-parameter {key!r}; "
                                 f"it has {', '.join(self.HYPER)}")
        object.__setattr__(self, key, value)

    def _check_combination(self) -> None:
        """Raise if hyper-parameters that are fine one by one do not go together."""

    def hyperparameters(self) -> dict:
        """The hyper-parameters as a plain dict (tuples as lists)."""
        return {key: list(v) if isinstance(v, tuple) else v
                for key, v in ((key, getattr(self, key)) for key in self.HYPER)}

    def step(self, params, grads) -> None:
        """One update of every array in params, in place, from grads["d" + name]."""
        self._check_combination()
        arrays = parameter_arrays(params)
        pairs = [(name, p, _gradient_of(grads, name, p)) for name, p in arrays.items()]
        with np.errstate(all="ignore"):
            for name, p, g in pairs:
                state = self.state.setdefault(name, {})
                for key, v in state.items():          # restored state: the parameter's dtype
                    if isinstance(v, np.ndarray):
                        if v.shape != p.shape:
                            raise fail(f"optimizer state {name}.{key}", f"shape {p.shape}", v.shape)
                        if v.dtype != p.dtype:
                            state[key] = v.astype(p.dtype)
                self._update(p, g, state)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """{"optimizer": name, "hyperparameters": {...}, "state": {param: {key: copy}}}: plain
        numbers and numpy arrays (copies), JSON-ready after .tolist() on the arrays."""
        return {"optimizer": self.name, "hyperparameters": self.hyperparameters(),
                "state": {name: {k: v.copy() if isinstance(v, np.ndarray) else v
                                 for k, v in s.items()} for name, s in self.state.items()}}

    def load_state_dict(self, d: Mapping) -> None:
        """Restore what state_dict() returned (arrays may come back as nested lists)."""
        if not isinstance(d, Mapping) or d.get("optimizer") != self.name:
            got = d.get("optimizer") if isinstance(d, Mapping) else type(d).__name__
            raise fail("state_dict", f"the state of a {self.name!r} optimizer", repr(got))
        for key, value in dict(d.get("hyperparameters", {})).items():
            if key not in self.HYPER:
                raise fail("state_dict", f"hyper-parameters among {', '.join(self.HYPER)}", repr(key))
            setattr(self, key, tuple(value) if isinstance(value, list) else value)
        self._check_combination()
        state = {}
        for name, s in dict(d.get("state", {})).items():
            state[name] = {}
            for key, v in dict(s).items():
                if key == "step":
                    state[name][key] = int(v)
                else:
                    a = np.array(v, dtype=np.float64 if isinstance(v, list) else None)
                    if a.dtype.kind != "f":
                        raise fail(f"state_dict state {name}.{key}", "a float array", a.dtype.name)
                    state[name][key] = a
        object.__setattr__(self, "state", state)

    def reset(self) -> None:
        """Forget all state (moments, buffers, step counts); keep the hyper-parameters."""
        object.__setattr__(self, "state", {})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD(lr, momentum=0, dampening=0, weight_decay=0,
    nesterov=False).

        g <- g + weight_decay * theta                       (L2 penalty, into the gradient)
        if momentum != 0:
            b_1 = g                                         (first step: no dampening)
            b_t = momentum * b_{t-1} + (1 - dampening) * g  (t > 1)
            g <- g + momentum * b_t    if nesterov,  else  g <- b_t
        theta <- theta - lr * g

    nesterov needs momentum > 0 and dampening == 0 (torch's rule). Note lr multiplies the
    velocity, unlike Sutskever et al. (2013), whose v = mu v + lr g (torch's note says so too).
    State: "momentum_buffer" b (created at the first step with momentum != 0).
    """

    name = "sgd"
    HYPER = {"lr": _at_least_zero, "momentum": _at_least_zero, "dampening": _finite,
             "weight_decay": _at_least_zero, "nesterov": _check_bool}

    def __init__(self, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov)

    def _check_combination(self) -> None:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise fail("nesterov", "momentum > 0 and dampening == 0 with Nesterov momentum",
                       f"momentum={self.momentum}, dampening={self.dampening}")

    def _update(self, p, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), torch.optim.Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0) (amsgrad=False, L2 weight decay as in Adam, not AdamW's decoupled decay).

        t <- t + 1
        g <- g + weight_decay * theta                       (L2 penalty, into the gradient)
        m_t = m_{t-1} + (1 - beta1) (g - m_{t-1})            (torch's lerp_: beta1 m + (1-beta1) g)
        v_t = beta2 v_{t-1} + (1 - beta2) g^2
        theta <- theta - (lr / (1 - beta1^t)) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    m_0 = v_0 = 0. Bias correction divides the step by (1 - beta1^t) and sqrt(v_t) by
    sqrt(1 - beta2^t); eps is added after that division (outside the square root), so it acts
    on the bias-corrected sqrt(v_hat_t), as in torch and the paper's Algorithm 1.
    State: "step" t, "exp_avg" m, "exp_avg_sq" v.
    """

    name = "adam"
    HYPER = {"lr": _at_least_zero, "betas": _check_betas, "eps": _at_least_zero,
             "weight_decay": _at_least_zero}

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, p, g, state):
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        step_size = self.lr / (1 - beta1 ** t)
        denom = np.sqrt(v)
        denom /= (1 - beta2 ** t) ** 0.5
        denom += self.eps
        p -= step_size * (m / denom)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; centered: Graves 2013), torch.optim.RMSprop(lr=1e-2,
    alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False).

        g <- g + weight_decay * theta                       (L2 penalty, into the gradient)
        v_t = alpha v_{t-1} + (1 - alpha) g^2
        if centered:  a_t = a_{t-1} + (1 - alpha) (g - a_{t-1});  d = sqrt(v_t - a_t^2) + eps
        else:         d = sqrt(v_t) + eps
        if momentum > 0:  b_t = momentum b_{t-1} + g / d;  theta <- theta - lr * b_t
        else:             theta <- theta - lr * g / d

    v_0 = a_0 = b_0 = 0 (no special first step, unlike SGD's buffer); eps is added after the
    square root (TensorFlow adds it inside); no bias correction.
    State: "step", "square_avg" v, "grad_avg" a (once centered), "momentum_buffer" b (once
    momentum > 0).
    """

    name = "rmsprop"
    HYPER = {"lr": _at_least_zero, "alpha": _at_least_zero, "eps": _at_least_zero,
             "weight_decay": _at_least_zero, "momentum": _at_least_zero, "centered": _check_bool}

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    def _update(self, p, g, state):
        if "step" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
        state["step"] += 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * (g * g)
        # torch creates grad_avg / momentum_buffer at the first step when centered / momentum are
        # on then (and fails if they are switched on later); here they start from zero when first
        # needed, which is the same when they are on from the start
        if self.centered:
            a = _lerp_(state.setdefault("grad_avg", np.zeros_like(p)), g, 1 - self.alpha)
            d = np.sqrt(v - a * a)
        else:
            d = np.sqrt(v)
        d += self.eps
        if self.momentum > 0:
            b = state.setdefault("momentum_buffer", np.zeros_like(p))
            b *= self.momentum
            b += g / d
            p -= self.lr * b
        else:
            p -= self.lr * (g / d)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def make_optimizer(name: str, lr: float, **hyper) -> Optimizer:
    """The optimiser called name ("sgd", "adam", "rmsprop") with these hyper-parameters."""
    if name not in OPTIMIZERS:
        raise fail("optimizer", "one of " + ", ".join(repr(n) for n in OPTIMIZERS), repr(name))
    cls = OPTIMIZERS[name]
    unknown = sorted(set(hyper) - set(cls.HYPER))
    if unknown:
        raise fail("optimizer options", f"hyper-parameters of {name} among {', '.join(cls.HYPER)}",
                   ", ".join(unknown))
    return cls(lr=lr, **hyper)


# ---- clipping ---------------------------------------------------------------------------------

def _clipped_keys(grads, params) -> list[str]:
    """The keys of grads that clipping touches (see clip_grad_norm)."""
    if not isinstance(grads, Mapping):
        raise fail("grads", "a dict of gradient arrays", type(grads).__name__)
    if params is None:
        keys = [k for k in grads if k not in NON_PARAMETER_GRADS]
    else:
        if isinstance(params, str):
            names = [params]
        elif hasattr(params, "as_dict") or isinstance(params, Mapping):
            names = list(parameter_arrays(params))
        else:
            names = list(params)
        keys = ["d" + name for name in names]
        missing = [k for k in keys if k not in grads]
        if missing:
            raise fail("grads", f"keys {', '.join(keys)}", f"missing {', '.join(missing)}")
    for k in keys:
        if not isinstance(grads[k], np.ndarray) or grads[k].dtype.kind != "f":
            raise fail(f"grads[{k!r}]", "a float numpy array (clipped in place)", type(grads[k]).__name__)
    return keys


def _positive(name: str, value) -> float:
    value = check_number(name, value, minimum=0.0)
    if value == 0:
        raise fail(name, "a number > 0", value)
    return value


def _norms(grads, keys) -> dict[str, float]:
    with np.errstate(all="ignore"):
        return {k: float(np.linalg.norm(grads[k].ravel())) for k in keys}


def gradient_norms(grads, params=None) -> dict[str, float]:
    """The 2-norm (Frobenius) of each parameter gradient, by key ("dU": ||dU||, ...); which
    gradients as in clip_grad_norm."""
    return _norms(grads, _clipped_keys(grads, params))


def total_norm(norms: Iterable[float]) -> float:
    """The global 2-norm from the per-gradient norms, as torch: ||(||g_1||, ..., ||g_k||)||_2."""
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.fromiter(norms, dtype=np.float64)))


def clip_grad_norm(grads, max_norm: float, params=None, norms: dict | None = None) -> float:
    """Scale the parameter gradients in place so their global 2-norm is at most max_norm; return
    the norm before clipping. torch.nn.utils.clip_grad_norm_'s rule:

        total = sqrt(sum_k ||g_k||^2);  c = max_norm / (total + 1e-6);  if c < 1: g_k <- c g_k

    The gradients clipped: "d" + name for the names in params (a dict, Parameters or a list of
    names), or when params is None every key of grads except the input and initial-state
    gradients (NON_PARAMETER_GRADS). norms, the per-gradient norms if already computed
    (gradient_norms), saves computing them again. A non-finite total leaves the gradients as
    they are (torch would multiply them by nan or 0); the training loop stops before that.
    """
    max_norm = _positive("max_norm", max_norm)
    keys = _clipped_keys(grads, params)
    if norms is None:
        norms = _norms(grads, keys)
    total = total_norm(norms[k] for k in keys)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for k in keys:
            grads[k] *= coef
    return total


def clip_grad_value(grads, clip: float, params=None) -> bool:
    """Clip every element of the parameter gradients to [-clip, clip] in place
    (torch.nn.utils.clip_grad_value_; NaN stays NaN); True if any element was changed."""
    clip = _positive("clip", clip)
    changed = False
    with np.errstate(invalid="ignore"):
        for k in _clipped_keys(grads, params):
            g = grads[k]
            if not changed and (np.abs(g) > clip).any():
                changed = True
            np.clip(g, -clip, clip, out=g)
    return changed
