"""What a view reads off a result besides its arrays: T, the selected t and b clamped to the
result, and the steps to mark as non-finite."""
from __future__ import annotations

import numpy as np

# What the gradient heatmap (and the flow plot's emphasis) shows: the session's view entry
# "gradient": dL_T/ds_t of the last step's loss alone (the default: it shows the fade at once)
# or the total dL/ds_t over all losses.
GRADIENT_CHOICE_KEYS = ("last", "total")
DEFAULT_GRADIENT = "last"


def gradient_choice(session) -> str:
    """"last" or "total": what the session's view asks the gradient heatmap to show."""
    choice = session.view.get("gradient", DEFAULT_GRADIENT)
    return choice if choice in GRADIENT_CHOICE_KEYS else DEFAULT_GRADIENT


def time_extent(result) -> int:
    """T of a result (its number of steps)."""
    return int(result.trace.s.shape[2])


def shown_t(session, result) -> int:
    """The selected timestep (0-based) clamped to the shown result's length."""
    return min(max(int(session.t), 0), time_extent(result) - 1)


def shown_b(session, result) -> int:
    """The selected batch element clamped to the shown result's batch size."""
    return min(max(int(session.b), 0), int(result.trace.s.shape[1]) - 1)


def pending_steps(result) -> np.ndarray:
    """0-based steps whose gradient flow is not computed yet (NaN while flow_progress < 1)."""
    if result.flow_progress >= 1.0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.isnan(np.asarray(result.flow.log10_jacobian_norm, dtype=np.float64)))


def shown_nonfinite(result) -> np.ndarray:
    """Steps to mark as non-finite: the result's, except flow steps that are merely not computed
    yet (a step the forward or backward pass itself flagged stays marked)."""
    steps = np.asarray(result.nonfinite_steps, dtype=np.int64)
    pending = pending_steps(result)
    if not pending.size:
        return steps
    own = [np.asarray(part.nonfinite_steps, dtype=np.int64).ravel()
           for part in (result.trace, result.grads)]
    return np.union1d(np.setdiff1d(steps, pending), np.concatenate(own))


def runs(steps) -> list[tuple[int, int]]:
    """Contiguous runs [first, last] of sorted integer steps."""
    steps = np.unique(np.asarray(steps, dtype=np.int64))
    if steps.size == 0:
        return []
    breaks = np.nonzero(np.diff(steps) > 1)[0]
    starts = np.concatenate(([steps[0]], steps[breaks + 1]))
    ends = np.concatenate((steps[breaks], [steps[-1]]))
    return list(zip(starts.tolist(), ends.tolist()))
