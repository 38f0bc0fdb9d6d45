"""One computation: a snapshot of the session in, forward + backward + analysis out (pure, Qt-free)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rnnviz.engine.analysis import GradientFlow, Spectrum, gradient_flow, spectrum
from rnnviz.engine.parameters import Parameters
from rnnviz.engine.rnn import Gradients, Trace, backward, forward
from rnnviz.state.config import Config

# A finite Jacobian norm ||ds_T/ds_1|| beyond this is reported as exploding.
EXPLODING_NORM = 1e6


@dataclass(frozen=True)
class ComputeRequest:
    """Everything one computation needs, copied from the session at request time."""
    id: int
    config: Config
    params: Parameters
    x: np.ndarray
    s0: np.ndarray
    targets: np.ndarray
    b: int


@dataclass
class Result:
    """What the views draw: the trace, the gradients, the gradient flow of batch element b."""
    request_id: int
    trace: Trace
    grads: Gradients
    flow: GradientFlow
    spectrum: Spectrum
    compute_ms: float
    nonfinite_steps: np.ndarray       # 0-based steps where anything went non-finite
    warning: str | None               # for the status bar; None when all is well
    b: int = 0


def _steps(*arrays) -> np.ndarray:
    parts = [np.asarray(a, dtype=np.int64).ravel() for a in arrays if a is not None]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def warning_text(config: Config, trace: Trace, grads: Gradients, flow: GradientFlow,
                 spec: Spectrum) -> str | None:
    """A sentence for the status bar when values went non-finite or gradients explode."""
    rho = f"ρ(W) = {spec.spectral_radius:.3g}, σ_max(W) = {spec.sigma_max:.3g}"
    limit = " (float32 overflows near 3.4e38)" if config.dtype == "float32" else ""
    forward_bad = np.asarray(trace.nonfinite_steps)
    backward_bad = np.asarray(grads.nonfinite_steps)
    if forward_bad.size:
        return (f"values overflowed from step {int(forward_bad.min()) + 1} on{limit}: the "
                f"network is exploding ({rho}); the affected steps are marked")
    if backward_bad.size:
        return (f"gradients overflowed at step {int(backward_bad.max()) + 1} and earlier{limit}: "
                f"dL/ds_t grows without bound going back in time ({rho})")
    log_norm = np.asarray(flow.log10_jacobian_norm, dtype=np.float64)
    if log_norm.size > 1 and np.isfinite(log_norm[0]) and log_norm[0] > np.log10(EXPLODING_NORM):
        size = f"{10 ** log_norm[0]:.2g}" if log_norm[0] < 300 else f"10^{log_norm[0]:.0f}"
        return (f"gradients explode: ||∂s_T/∂s_1|| = {size}, growing about "
                f"{flow.rate_per_step:.3g}× per step ({rho})")
    return None


def compute(request: ComputeRequest, should_stop: Callable[[], bool] | None = None) -> Result:
    """Run forward, backward, gradient flow for element b and the spectrum of W.

    Never raises on overflow (non-finite values are reported in the result); raises
    engine.analysis.Interrupted when should_stop() turns True.
    """
    start = time.perf_counter()
    c = request.config
    trace = forward(request.params, request.x, request.s0, activation=c.activation)
    grads = backward(request.params, trace, request.targets)
    flow = gradient_flow(request.params, trace, grads, request.targets, b=request.b,
                         should_stop=should_stop)
    spec = spectrum(request.params.W)
    nonfinite = _steps(trace.nonfinite_steps, grads.nonfinite_steps, flow.nonfinite_steps)
    warning = warning_text(c, trace, grads, flow, spec)
    elapsed = (time.perf_counter() - start) * 1e3
    return Result(request_id=request.id, trace=trace, grads=grads, flow=flow, spectrum=spec,
                  compute_ms=elapsed, nonfinite_steps=nonfinite, warning=warning, b=request.b)
