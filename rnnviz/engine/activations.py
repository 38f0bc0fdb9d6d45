"""The hidden-state nonlinearities f (tanh, relu, sigmoid, linear): value, derivative, log-derivative.

Adding an activation is one entry in ACTIVATIONS with its three functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._checks import check_choice


@dataclass(frozen=True)
class Activation:
    """One nonlinearity s = f(a): its value, its derivative and the constants the views need."""

    name: str
    gamma: float                                  # sup |f'|, used in the Jacobian bound
    value_range: tuple[float | None, float | None] | None   # range of f, for colour scales
    _f: Callable = field(repr=False, compare=False)
    _df: Callable = field(repr=False, compare=False)
    _log_df: Callable = field(repr=False, compare=False)

    def f(self, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return f(a), written into out when given."""
        return self._f(a, out)

    def df(self, a: np.ndarray, s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return f'(a) given the pre-activation a and s = f(a), written into out when given."""
        return self._df(a, s, out)

    def log_df(self, a: np.ndarray) -> np.ndarray:
        """log|f'(a)| (natural log, float64), exact where f' is below the float range; never above
        log gamma. NaN in a gives NaN (except where f' does not depend on a: linear). Never warns."""
        with np.errstate(all="ignore"):
            return np.minimum(self._log_df(np.asarray(a, dtype=np.float64)), np.log(self.gamma))


def _tanh(a, out):
    return np.tanh(a, out=out)


def _dtanh(a, s, out):                    # 1 - tanh(a)^2 = 1 - s^2
    out = np.multiply(s, s, out=out)
    return np.subtract(1, out, out=out)


def _log_dtanh(a):                        # log sech^2 a = 2 (log 2 - |a| - log1p(e^{-2|a|}))
    mag = np.abs(a)
    return 2.0 * (np.log(2.0) - mag - np.log1p(np.exp(-2.0 * mag)))


def _relu(a, out):
    return np.maximum(a, 0, out=out)


def _drelu(a, s, out):                    # 1 where a > 0, else 0 (the kink at 0 gets 0); nan stays nan
    d = np.greater(a, 0).astype(a.dtype)
    d[np.isnan(a)] = np.nan
    if out is None:
        return d
    out[...] = d
    return out


def _log_drelu(a):                        # 0 for a > 0, -inf otherwise
    out = np.where(a > 0, 0.0, -np.inf)
    out[np.isnan(a)] = np.nan
    return out


def _sigmoid(a, out):                     # 1/(1+e^-a) written as (1 + tanh(a/2))/2: no overflow
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    np.add(out, 1, out=out)
    return np.multiply(out, 0.5, out=out)


def _dsigmoid(a, s, out):                 # s (1 - s)
    out = np.subtract(1, s, out=out)
    return np.multiply(out, s, out=out)


def _log_dsigmoid(a):                     # log s (1 - s) = -|a| - 2 log1p(e^{-|a|})
    mag = np.abs(a)
    return -mag - 2.0 * np.log1p(np.exp(-mag))


def _linear(a, out):
    if out is None:
        return a.copy()
    np.copyto(out, a)
    return out


def _dlinear(a, s, out):
    if out is None:
        out = np.empty_like(a)
    out.fill(1)
    out[np.isnan(a)] = np.nan
    return out


def _log_dlinear(a):                      # 0 everywhere, even where a overflowed
    return np.zeros_like(a, dtype=np.float64)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", 1.0, (-1.0, 1.0), _tanh, _dtanh, _log_dtanh),
    "relu": Activation("relu", 1.0, (0.0, None), _relu, _drelu, _log_drelu),
    "sigmoid": Activation("sigmoid", 0.25, (0.0, 1.0), _sigmoid, _dsigmoid, _log_dsigmoid),
    "linear": Activation("linear", 1.0, None, _linear, _dlinear, _log_dlinear),
}


def get_activation(name: str) -> Activation:
    """Return the activation called name, or raise ValueError naming the known ones."""
    return ACTIVATIONS[check_choice("activation", name, tuple(ACTIVATIONS))]
