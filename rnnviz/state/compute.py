"""One computation: a snapshot of a set-up in, forward + backward + analysis out (pure, Qt-free).

Staged. The request names the stages to run (STAGES); forward, backward and the spectrum
always run (milliseconds to a second or two). "images" prepares the heatmap images on the
worker. "flow", the Jacobian-norm curve (O(T n_s^3): tens of seconds at n_s = 1024,
T = 1000) and a gated cell's carousel and Jacobian blocks (Result.gated), runs only when a shown
view needs it; without it the result's flow holds the
gradient norms and NaN Jacobian curves, and Result.complete is still True. With a `partial`
callback, compute() hands over intermediate Results (flow curves NaN where not computed yet,
flow_progress < 1) at most every PARTIAL_INTERVAL seconds; they share trace, grads and
spectrum with the final Result.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine.analysis import (
    GatedFlow,
    GradientFlow,
    Interrupted,
    Spectrum,
    gated_flow,
    gradient_flow,
    has_carousel,
    spectrum,
)
from rnnviz.engine.cells import get_cell
from rnnviz.engine.parameters import Parameters
from rnnviz.engine.rnn import Gradients, Trace, backward, forward
from rnnviz.state import derive, display
from rnnviz.state.config import Config

# A finite Jacobian norm ||ds_T/ds_1|| beyond this is reported as exploding.
EXPLODING_NORM = 1e6
PARTIAL_INTERVAL = 0.1        # seconds between partial results (at most ~10 per second)
# Below this much Jacobian work (n_s^3 T; ~1e10 per second here) the whole flow takes about
# a tenth of a second or less: no partial results, one redraw.
PARTIAL_MIN_WORK = 1e9

# The stages a request may ask for; forward, backward and spectrum always run.
STAGES = ("forward", "backward", "spectrum", "images", "flow")
ALL_STAGES = frozenset(STAGES)
# What compute(stage=...) announces, in order ("draw" only when the parameters are drawn).
STAGE_NAMES = {"draw": "drawing the parameters", "forward": "forward pass",
               "backward": "backward pass (BPTT)", "spectrum": "spectrum of W",
               "images": "heatmap images", "flow": "gradient flow (Jacobian norms)"}


@dataclass(frozen=True)
class ComputeRequest:
    """Everything one computation needs, copied from the session at request time.

    params is None when the parameters are still to be drawn from `plan` (on the worker).
    """
    id: int
    config: Config
    params: Parameters | None
    x: np.ndarray
    s0: np.ndarray
    targets: np.ndarray
    b: int
    plan: derive.ParamPlan | None = None
    W_ref: tuple | None = None        # (W0, c): W is W0 rescaled by c (spectrum: c times W0's)
    stages: frozenset = ALL_STAGES    # which of STAGES to run
    loss: str = "cross_entropy"       # how the targets are scored ("mse" for a regression task)


@dataclass
class Result:
    """What the views draw: the trace, the gradients, the gradient flow of batch element b."""
    request_id: int
    trace: Trace
    grads: Gradients
    flow: GradientFlow                # Jacobian curves NaN for steps not computed yet
    spectrum: Spectrum
    compute_ms: float
    nonfinite_steps: np.ndarray       # 0-based steps where anything went non-finite
    warning: str | None               # for the status bar; None when all is well
    b: int = 0
    flow_progress: float = 1.0        # share of the flow's steps computed (1.0: complete)
    params: Parameters | None = None  # the parameters computed with
    ds_last: np.ndarray | None = None  # (n_s, m, T) dL_T/ds_t: the last step's loss alone
    derived: dict = field(default_factory=dict, repr=False, compare=False)   # state.display's
    stages: frozenset = ALL_STAGES    # the stages this result holds (when complete)
    spectra: dict = field(default_factory=dict, repr=False)   # label -> Spectrum, each recurrent matrix
    spectrum_label: str = "W"         # the matrix `spectrum` is of (a gated cell's largest-rho block)
    gated: GatedFlow | None = None    # a gated cell's carousel and Jacobian blocks ("flow" stage;
                                      # None for the vanilla cell and without that stage)

    @property
    def complete(self) -> bool:
        """Every requested stage is done (a flow still filling in is not)."""
        return self.flow_progress >= 1.0 or "flow" not in self.stages


def _steps(*arrays) -> np.ndarray:
    parts = [np.asarray(a, dtype=np.int64).ravel() for a in arrays if a is not None]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def warning_text(config: Config, trace: Trace, grads: Gradients, flow: GradientFlow,
                 spec: Spectrum, label: str = "W") -> str | None:
    """A sentence for the status bar when values went non-finite or gradients explode."""
    rho = f"ρ({label}) = {spec.spectral_radius:.3g}, σ_max({label}) = {spec.sigma_max:.3g}"
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


_SPECTRA: OrderedDict = OrderedDict()     # content digest of W -> Spectrum
_SPECTRA_LOCK = threading.Lock()
SPECTRUM_CACHE_SIZE = 8


def cached_spectrum(W: np.ndarray, ref: tuple | None = None,
                    eigenvalues: np.ndarray | None = None) -> Spectrum:
    """spectrum(W), computed once per distinct W (an edit of T or the input keeps W: O(n_s^2)).

    ref = (W0, c) says W is W0 rescaled by c > 0 (a radius drag): its eigenvalues and singular
    values are c times W0's (to rounding), so W0's spectrum, usually cached, is scaled.
    eigenvalues, when the draw already solved for W's, spare that solve (~1 s at n_s = 1024).
    """
    if ref is not None:
        base = cached_spectrum(ref[0])
        c = float(ref[1])
        return Spectrum(base.eigenvalues * c, base.spectral_radius * c, base.sigma_max * c)
    W = np.ascontiguousarray(W)
    key = (W.shape, W.dtype.str, hashlib.blake2b(W.tobytes(), digest_size=16).digest())
    with _SPECTRA_LOCK:
        spec = _SPECTRA.get(key)
        if spec is not None:
            _SPECTRA.move_to_end(key)
            return spec
    spec = spectrum(W, eigenvalues)
    with _SPECTRA_LOCK:
        _SPECTRA[key] = spec
        while len(_SPECTRA) > SPECTRUM_CACHE_SIZE:
            _SPECTRA.popitem(last=False)
    return spec


def _flow_not_computed(trace: Trace, grads: Gradients, b: int) -> GradientFlow:
    """The flow of a result without the flow stage: ||dL/ds_t|| and NaN Jacobian curves."""
    T = trace.s.shape[2]
    nan, nan_k = np.full(T, np.nan), np.full((T, 1), np.nan)
    with np.errstate(all="ignore"):
        grad_norm = np.linalg.norm(np.asarray(grads.ds[:, b, :], dtype=np.float64), axis=0)
    return GradientFlow(grad_norm=grad_norm, last_loss_grad_norm=nan, jacobian_norm=nan,
                        jacobian_top_sv=nan_k, log10_jacobian_norm=nan, bound=nan,
                        log10_bound=nan, rate_per_step=float("nan"),
                        nonfinite_steps=np.zeros(0, np.int64), log10_jacobian_top_sv=nan_k,
                        log10_last_loss_grad_norm=nan)


def cell_spectra(params: Parameters, W_ref: tuple | None = None,
                 eigenvalues: np.ndarray | None = None) -> dict[str, Spectrum]:
    """The spectrum of each of the cell's recurrent matrices (vanilla: {"W": ...}; an LSTM's
    W_i, W_f, W_g, W_o), each computed once per distinct matrix."""
    matrices = get_cell(params.cell).recurrent_matrices(params.as_dict())
    if list(matrices) == ["W"]:
        return {"W": cached_spectrum(matrices["W"], W_ref, eigenvalues)}
    return {label: cached_spectrum(M) for label, M in matrices.items()}


def compute(request: ComputeRequest, should_stop: Callable[[], bool] | None = None,
            partial: Callable[[Result], None] | None = None,
            partial_interval: float = PARTIAL_INTERVAL,
            stage: Callable[[str], None] | None = None) -> Result:
    """Run forward, backward, the spectrum of W and the gradient flow for element b.

    Draws the parameters first when the request carries a plan. With `partial`, large
    computations hand over intermediate Results (see the module docstring). `stage(name)`, when
    given, is called as each stage starts (STAGE_NAMES; the command line's progress). Never
    raises on overflow (non-finite values are reported in the result); raises
    engine.analysis.Interrupted when should_stop() turns True: polled before and after every
    stage and between the parts of the heatmap images, and inside the gradient flow. Each
    engine call in between runs to its end (at the largest sizes, seconds: docs/status.md).
    """
    start = time.perf_counter()
    c = request.config
    stop = should_stop or (lambda: False)
    announce = stage or (lambda name: None)

    def check(done: str) -> None:          # between the stages the engine does not poll
        if stop():
            raise Interrupted(f"computation stopped after the {done}")

    check("request was taken up")           # superseded while it waited
    if request.plan is None:
        params, eigenvalues = request.params, None
    else:
        announce("draw")
        params, eigenvalues = derive.realise_with_eigenvalues(request.plan)
        check("parameter draw")
    announce("forward")
    trace = forward(params, request.x, request.s0, activation=c.activation, loss=request.loss)
    check("forward pass")
    announce("backward")
    grads = backward(params, trace, request.targets, with_last_loss=True)   # and dL_T/ds_t
    check("backward pass")
    ds_last = grads.ds_last
    announce("spectrum")
    spectra = cell_spectra(params, request.W_ref, eigenvalues)
    spectrum_label = max(spectra, key=lambda k: np.nan_to_num(spectra[k].spectral_radius, nan=-1.0))
    spec = spectra[spectrum_label]
    check("spectrum")
    n_s, _, T = trace.s.shape
    derived = {}
    if "images" in request.stages:
        announce("images")                  # heatmap images, on the worker
        derived = display.prepare(trace, grads, request.b, ds_last, should_stop=stop)
        check("heatmap images")

    def result(flow: GradientFlow, progress: float, gated: GatedFlow | None = None) -> Result:
        nonfinite = _steps(trace.nonfinite_steps, grads.nonfinite_steps, flow.nonfinite_steps)
        return Result(request_id=request.id, trace=trace, grads=grads, flow=flow,
                      spectrum=spec, compute_ms=(time.perf_counter() - start) * 1e3,
                      nonfinite_steps=nonfinite, warning=warning_text(c, trace, grads, flow, spec, spectrum_label),
                      b=request.b, flow_progress=progress, params=params, ds_last=ds_last,
                      derived=derived, stages=request.stages, spectra=spectra,
                      spectrum_label=spectrum_label, gated=gated)

    if "flow" not in request.stages:
        return result(_flow_not_computed(trace, grads, request.b), 0.0)

    # A gated cell's flow stage also runs analysis/gated.py: the carousel (O(n_s T)) and, for a
    # cell of several state parts (LSTM), the Jacobian's blocks, about as long as the flow itself.
    gated_cell = has_carousel(params.cell)
    blocks = gated_cell and len(get_cell(params.cell).state_parts) > 1
    share = 0.5 if blocks else 1.0               # the flow's share of the stage's progress
    progress = gated_progress = None
    if partial is not None and T > 1 and float(n_s) ** 3 * T >= PARTIAL_MIN_WORK:
        last = [-np.inf]

        def progress(t: int, flow_so_far: Callable[[], GradientFlow]) -> None:
            now = time.perf_counter()
            if t == T - 1 or now - last[0] >= partial_interval:   # the fast part at once
                last[0] = now
                partial(result(flow_so_far(), share * (T - 1 - t) / (T - 1)))

        def gated_progress(t: int, gated_so_far: Callable[[], GatedFlow]) -> None:
            now = time.perf_counter()
            if now - last[0] >= partial_interval:
                last[0] = now
                partial(result(flow, share + (1 - share) * (T - 1 - t) / (T - 1), gated_so_far()))

    announce("flow")
    flow = gradient_flow(params, trace, grads, request.targets, b=request.b,
                         should_stop=should_stop, progress=progress,
                         sigma_max=spec.sigma_max if spectrum_label == "W" and np.isfinite(spec.sigma_max)
                         else None)
    gated = None
    if gated_cell:
        gated = gated_flow(params, trace, b=request.b, should_stop=should_stop,
                           progress=gated_progress if blocks else None)
    return result(flow, 1.0, gated)
