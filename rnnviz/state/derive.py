"""What a configuration and its seed draw: parameters, inputs, initial state, targets.

Each kind of draw has its own random stream derived from the seed, so changing T (which
re-draws the inputs) never changes W, and changing the target pattern never changes x.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from rnnviz.engine import data as engine_data
from rnnviz.engine.init import init_parameters
from rnnviz.engine.parameters import Parameters
from rnnviz.state.config import Config

PARAM_NAMES = ("U", "W", "V", "ba", "by")
MAX_WEIGHT = 1e6                 # |value| of any hand-set or rescaled weight
PARAMS_STREAM, INPUTS_STREAM, TARGETS_STREAM, STATE_STREAM = 0, 1, 2, 3

# Fields whose change re-draws every parameter from the seed (hand edits are replaced).
REDRAW_FIELDS = frozenset({"n_x", "n_s", "n_y", "seed", "init", "u_scale", "v_scale",
                           "ba_scale", "by_scale"})
# Fields whose change re-derives x and s0 (and so the targets).
INPUT_FIELDS = frozenset({"n_x", "n_s", "T", "m", "seed", "input_pattern", "text",
                          "initial_state", "dtype"})
# Fields whose change re-derives the targets.
TARGET_FIELDS = INPUT_FIELDS | {"n_y", "target_pattern", "copy_delay"}


def rng(seed: int, stream: int) -> np.random.Generator:
    """The generator of one stream of draws for a seed."""
    return np.random.default_rng([seed, stream])


def draw_params(c: Config) -> Parameters:
    """The seed's parameters for a configuration."""
    return init_parameters(rng(c.seed, PARAMS_STREAM), c.n_x, c.n_s, c.n_y, kind=c.init,
                           spectral_radius=c.spectral_radius, u_scale=c.u_scale,
                           v_scale=c.v_scale, ba_scale=c.ba_scale, by_scale=c.by_scale,
                           sparse_k=min(c.sparse_k, c.n_s), dtype=np.dtype(c.dtype))


def draw_inputs(c: Config) -> tuple[np.ndarray, np.ndarray]:
    """The seed's inputs x (n_x, m, T) and initial state s0 (n_s, m) for a configuration."""
    dtype = np.dtype(c.dtype)
    x = engine_data.make_inputs(rng(c.seed, INPUTS_STREAM), c.input_pattern, c.n_x, c.m, c.T,
                                text=c.text if c.input_pattern == "text" else None, dtype=dtype)
    s0 = engine_data.initial_state(rng(c.seed, STATE_STREAM), c.initial_state, c.n_s, c.m, dtype)
    return x, s0


def draw_targets(c: Config, x: np.ndarray) -> np.ndarray:
    """The seed's targets (m, T) for a configuration and its inputs."""
    return engine_data.make_targets(rng(c.seed, TARGETS_STREAM), c.target_pattern, x, c.n_y,
                                    delay=c.copy_delay)


def read_only(a: np.ndarray) -> np.ndarray:
    """The array, marked read-only (shared with compute requests, never changed in place)."""
    a = np.asarray(a)
    a.flags.writeable = False
    return a


def spectral_radius(W: np.ndarray) -> float:
    """rho(W) = max |eigenvalue| (0 for a matrix with non-finite entries)."""
    if W.size == 0 or not np.all(np.isfinite(W)):
        return 0.0
    return float(np.max(np.abs(np.linalg.eigvals(W.astype(np.float64)))))


def with_matrix(params: Parameters, name: str, value: np.ndarray) -> Parameters:
    """A copy of the parameters with one matrix replaced (the others shared)."""
    return dataclasses.replace(params, **{name: value})


def astype(params: Parameters, dtype: str) -> Parameters:
    """The parameters converted to a precision (a copy)."""
    return params.astype(dtype)


class Refusal(Exception):
    """A change that cannot be carried out, with the reason for the user."""


def rescale_W(W: np.ndarray, rho: float | None, r_new: float) -> np.ndarray | None:
    """W * r_new / rho(W) (rho computed when None); None when rho(W) is 0 and W must be re-drawn."""
    rho = spectral_radius(W) if rho is None else rho
    if rho <= 1e-300:
        return None
    with np.errstate(all="ignore"):
        scaled = W * (r_new / rho)
    if not np.all(np.isfinite(scaled)) or (scaled.size and np.max(np.abs(scaled)) > MAX_WEIGHT):
        raise Refusal(f"rescaling W from ρ = {rho:.3g} to {r_new:g} would put weights beyond "
                      f"±{MAX_WEIGHT:g}; re-initialise or edit W first")
    return scaled


def update_params(params: Parameters, edited: set, drawn: set, rho: float | None, new: Config,
                  changed: tuple[str, ...]):
    """The parameters after a config change, by the session's rules (see session.py).

    Returns (params, edited, drawn, rho, changed matrix names, messages); raises Refusal.
    `drawn` holds the matrices equal to the seed's draw, `rho` the known rho(W) (or None).
    """
    edited, drawn, messages, names = set(edited), set(drawn), [], ()
    redraw = set(REDRAW_FIELDS.intersection(changed))
    if "sparse_k" in changed and new.init == "sparse":
        redraw.add("sparse_k")
    if redraw:
        if edited:
            messages.append(f"changing {', '.join(sorted(redraw))} re-drew the weights from the "
                            f"seed: your edits of {', '.join(sorted(edited))} were replaced")
        return draw_params(new), set(), set(PARAM_NAMES), new.spectral_radius, PARAM_NAMES, messages
    if "dtype" in changed:                   # the seed's matrices re-drawn, the others converted
        fresh = draw_params(new)
        params = astype(params, new.dtype)
        for name in drawn:
            params = with_matrix(params, name, getattr(fresh, name))
        names = PARAM_NAMES
    if "spectral_radius" in changed:
        W = rescale_W(params.W, rho, new.spectral_radius)
        if W is None:
            W = draw_params(new).W
            drawn.add("W")
            if "W" in edited:
                messages.append("W had spectral radius 0, so it was re-drawn from the seed: the "
                                "hand edits of W were replaced")
            edited.discard("W")
        else:
            drawn.discard("W")
        params = with_matrix(params, "W", W.astype(new.dtype))
        rho = new.spectral_radius
        names = tuple(n for n in PARAM_NAMES if n in names or n == "W")
    return params, edited, drawn, rho, names, messages
