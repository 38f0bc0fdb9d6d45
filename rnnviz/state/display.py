"""What the heatmaps draw, as NumPy: colour levels, log magnitudes, images safe to colour.

Pure and Qt-free, so the heavy part (log10 and percentiles over the whole batch: ~1 s at
n_s = 1024, T = 1000) runs on the worker: compute() fills a cache with prepare() and every
Result of the request (its partial results and the final one) holds that same cache, as they
share trace and grads; the views read the cached images (or compute what is missing, e.g.
for another batch element).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from rnnviz.engine.analysis import Interrupted
from rnnviz.state.ready_images import ReadyImage, ready_image

FIXED_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}   # the activation's value range
NON_NEGATIVE = ("sigmoid", "relu")     # states never below 0: a one-sided scale from 0
GRADIENT_DECADES = 10.0    # the colour scale spans at most this many powers of ten ...
MIN_DECADES = 1.0          # ... and at least this many
GRADIENT_PERCENTILES = (2.0, 99.9)   # robust ends of the colour scale among finite log10|g|
LEVEL_STEP = 0.25          # ... rounded outward to this many decades
CLIP_REACH = 1e6           # images are clipped this many level-widths beyond their levels


@dataclass(frozen=True)
class Heatmap:
    """One units × time heatmap of batch element b: what a heatmap view shows."""
    values: np.ndarray                  # the numbers behind the image (units × T), for readouts
    image: np.ndarray                   # float64 (units × T), safe to colour (see drawable)
    levels: tuple[float, float]         # the colour scale's ends
    caption: str                        # the colour bar's caption
    nonfinite_steps: np.ndarray         # 0-based steps where any value is not finite
    colour: str = "diverging"           # colour map kind: "diverging", "positive", "magnitude"
    ready: ReadyImage | None = None     # a large heatmap's image ready to paint (ready_images)


def state_levels(s: np.ndarray, activation: str) -> tuple[tuple[float, float], str]:
    """Colour levels for hidden states and the colour bar's caption saying how they were chosen:
    the activation's range (tanh, sigmoid), 0 to the 99th percentile for ReLU (never negative),
    ± the 99th percentile of |s| for linear."""
    if activation in FIXED_RANGES:
        lo, hi = FIXED_RANGES[activation]
        return (lo, hi), f"s_t  ({activation} range)"
    finite = np.abs(s[np.isfinite(s)]).astype(np.float64)
    top = float(np.percentile(finite, 99)) if finite.size else 1.0
    top = top if 0 < top < np.inf else 1.0
    if activation in NON_NEGATIVE:
        return (0.0, top), "s_t  (0 to 99th pct)"
    return (-top, top), "s_t  (99th pct)"


def state_colour(activation: str) -> str:
    """The colour map kind of a state heatmap: one-sided from 0 for non-negative states."""
    return "positive" if activation in NON_NEGATIVE else "diverging"


def drawable(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """float64 copy that pyqtgraph can colour without overflowing, NaN where not finite.

    pyqtgraph rescales an image in its own dtype, (value − lower level) × 255/(upper − lower):
    a float32 state near 3.4e38 overflows there, and so would a float64 one near 1.8e308. The
    copy is float64 and clipped a million level-widths beyond the levels (the colours saturate
    at the levels anyway), so ordinary values are passed on unchanged."""
    lo, hi = levels
    reach = CLIP_REACH * (hi - lo)
    image = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        image = np.clip(image, lo - reach, hi + reach)
    return np.ascontiguousarray(np.where(np.isfinite(values), image, np.nan))


def gradient_levels(logs: np.ndarray) -> tuple[float, float]:
    """Colour levels of log10|dL/ds|: robust percentiles of the finite values rounded outward to
    a quarter decade, 1 to 10 decades."""
    finite = logs[np.isfinite(logs)]
    if not finite.size:
        return -1.0, 0.0
    lo, hi = (float(v) for v in np.percentile(finite, GRADIENT_PERCENTILES))
    hi = max(hi, lo)
    if np.isfinite(lo) and np.isfinite(hi):     # out to a grid of LEVEL_STEP decades: the scale
        lo = np.floor(lo / LEVEL_STEP) * LEVEL_STEP   # (and its colour bar's ticks) stays put
        hi = np.ceil(hi / LEVEL_STEP) * LEVEL_STEP    # while training moves the values a little
    lo, hi = float(lo), float(hi)
    lo = max(lo, hi - GRADIENT_DECADES)
    if hi - lo < MIN_DECADES:
        middle = 0.5 * (hi + lo)
        lo, hi = middle - MIN_DECADES / 2, middle + MIN_DECADES / 2
    return lo, hi


def log10_abs(g: np.ndarray) -> np.ndarray:
    """log10|g| in float64 (-inf for zeros, NaN for non-finite g), without warnings."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = np.log10(np.abs(np.asarray(g, dtype=np.float64)))
    return np.where(np.isfinite(g), logs, np.nan)


def log_magnitude(g: np.ndarray, levels: tuple[float, float] | None = None
                  ) -> tuple[np.ndarray, tuple[float, float]]:
    """log10|g| for display (zeros at the bottom of the scale, non-finite as NaN).

    The levels default to gradient_levels(log10|g|); the view passes the levels of the whole
    batch so that the scale stays put while t or the sequence changes."""
    logs = log10_abs(g)
    levels = gradient_levels(logs) if levels is None else levels
    return drawable(np.where(logs == -np.inf, levels[0], logs), levels), levels


# ----- cached per Result -------------------------------------------------------------------------
def cached(result, key, make: Callable[[], object]):
    """make(), computed once per key for all Results of one request (result.derived)."""
    store = getattr(result, "derived", None)
    if store is None:
        return make()
    value = store.get(key)
    if value is None:
        value = store[key] = make()
    return value


def _nonfinite_steps(values: np.ndarray) -> np.ndarray:
    """0-based steps (columns) of a units × T array holding a value that is not finite."""
    return np.flatnonzero(~np.isfinite(values).all(axis=0))


def state_heatmap(result, b: int) -> Heatmap:
    """Hidden states s_t of element b, coloured over the activation's range (or the 99th pct)."""
    def make() -> Heatmap:
        s = np.ascontiguousarray(result.trace.s[:, b, :])
        f = result.trace.activation
        levels, caption = state_levels(s, f)
        image = drawable(s, levels)
        return Heatmap(s, image, levels, caption, _nonfinite_steps(s), state_colour(f),
                       ready_image(image, levels, "mean"))
    return cached(result, ("states", b), make)


def input_heatmap(result, b: int) -> Heatmap:
    """The inputs x_t of element b (n_x × T): 0 to the largest value for inputs that are never
    negative (one-hot symbols and characters, impulses), ± the largest |x| for the others."""
    def make() -> Heatmap:
        x = np.ascontiguousarray(result.trace.x[:, b, :], dtype=np.float64)
        last = _last_inputs[0]
        if last is not None and last.values.shape == x.shape and \
                np.array_equal(last.values, x, equal_nan=True):
            return last          # the same inputs (training follows new weights): the same
                                 # object, so the view sees nothing new to draw
        finite = x[np.isfinite(x)]
        top = float(np.max(np.abs(finite))) if finite.size else 1.0
        top = top if 0 < top < np.inf else 1.0
        if not finite.size or finite.min() >= 0:
            levels, caption, colour = (0.0, top), "x_t", "positive"
        else:
            levels, caption, colour = (-top, top), "x_t", "diverging"
        image = drawable(x, levels)
        made = Heatmap(x, image, levels, caption, _nonfinite_steps(x), colour,
                       ready_image(image, levels, "max" if colour == "positive" else "mean"))
        _last_inputs[0] = made
        return made
    return cached(result, ("inputs", b), make)


_last_inputs: list[Heatmap | None] = [None]    # the input heatmap made last (any thread)


def shown_gradient(result, which: str = "total") -> np.ndarray:
    """The gradient a heatmap shows, (n_s, m, T): dL/ds_t ("total") or dL_T/ds_t ("last")."""
    ds_last = getattr(result, "ds_last", None)
    return ds_last if which == "last" and ds_last is not None else result.grads.ds


def batch_gradient_levels(result, which: str = "total") -> tuple[float, float]:
    """The gradient heatmap's colour levels over the whole batch (steady while scrubbing b)."""
    return cached(result, ("gradient_levels", which),
                  lambda: gradient_levels(log10_abs(shown_gradient(result, which))))


def gradient_heatmap(result, b: int, which: str = "total") -> Heatmap:
    """log10|dL/ds_t| (or log10|dL_T/ds_t|, which="last") of element b, whole-batch colour scale."""
    def make() -> Heatmap:
        g = np.ascontiguousarray(shown_gradient(result, which)[:, b, :])
        logs, levels = log_magnitude(g, batch_gradient_levels(result, which))
        symbol = "∂L_T/∂s_t" if which == "last" else "∂L/∂s_t"
        return Heatmap(g, logs, levels, f"|{symbol}|  (log scale)", _nonfinite_steps(g),
                       "magnitude", ready_image(logs, levels, "max"))
    return cached(result, ("gradients", which, b), make)


def prepare(trace, grads, b: int, ds_last: np.ndarray | None = None,
            should_stop: Callable[[], bool] | None = None) -> dict:
    """A Result's cache (`derived`) holding the heatmaps of element b (computed on the worker):
    the states, dL/ds_t and, when given, dL_T/ds_t (so the heatmap's toggle is instant).

    should_stop() is polled between the parts (each a pass over the whole batch: ~0.5 s at
    2048 units x 5000 steps); True raises engine.analysis.Interrupted."""
    source = SimpleNamespace(trace=trace, grads=grads, ds_last=ds_last, derived={})
    parts = [lambda: state_heatmap(source, b),
             lambda: batch_gradient_levels(source), lambda: gradient_heatmap(source, b)]
    if ds_last is not None:
        parts += [lambda: batch_gradient_levels(source, "last"),
                  lambda: gradient_heatmap(source, b, "last")]
    for part in parts:
        if should_stop is not None and should_stop():
            raise Interrupted("heatmap images stopped")
        part()
    return source.derived
