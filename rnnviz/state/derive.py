"""What a configuration and its seed draw: parameters, inputs, initial state, targets.

Each kind of draw has its own random stream derived from the seed, so changing T (which
re-draws the inputs) never changes W, and changing the target pattern never changes x.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rnnviz.engine import data as engine_data
from rnnviz.engine.init import init_cell_parameters, init_parameters
from rnnviz.engine.parameters import Parameters, array_names
from rnnviz.state.config import Config
from rnnviz.state.sessionfile import param_shapes
from rnnviz.state.values import MAX_WEIGHT

PARAMS_STREAM, INPUTS_STREAM, TARGETS_STREAM, STATE_STREAM = 0, 1, 2, 3

# Fields whose change re-draws every parameter from the seed (hand edits are replaced).
REDRAW_FIELDS = frozenset({"n_x", "n_s", "n_y", "seed", "init", "u_scale", "v_scale",
                           "ba_scale", "by_scale", "cell", "forget_bias"})
# Fields whose change re-derives x and s0 (and so the targets).
INPUT_FIELDS = frozenset({"n_x", "n_s", "T", "m", "seed", "input_pattern", "text",
                          "initial_state", "dtype"})
# Fields whose change re-derives the targets.
TARGET_FIELDS = INPUT_FIELDS | {"n_y", "target_pattern", "copy_delay"}


def param_names(c: Config) -> tuple[str, ...]:
    """The arrays of the configuration's network (its cell's, then the readout's V, by)."""
    return array_names(c.cell)


def rescales_W(c: Config) -> bool:
    """Whether the spectral radius applies: the vanilla cell's square W is scaled to it (a gated
    cell's W stacks its gate blocks; its spectral radius is not a knob)."""
    return c.cell == "vanilla"


def cell_options(c: Config) -> dict:
    """The settings a cell's init_params takes, from the configuration: the vanilla cell's
    recipe and scales; PyTorch's or orthogonal blocks and the forget bias for the gated cells;
    nothing (the cell's own defaults) for any other cell."""
    if c.cell == "vanilla":
        return {"kind": c.init, "spectral_radius": c.spectral_radius, "u_scale": c.u_scale,
                "ba_scale": c.ba_scale, "sparse_k": min(c.sparse_k, c.n_s)}
    init = "orthogonal" if c.init == "orthogonal" else "pytorch"
    if c.cell == "lstm":
        return {"init": init, "forget_bias": c.forget_bias}
    if c.cell == "gru":
        return {"init": init}
    return {}


def rng(seed: int, stream: int) -> np.random.Generator:
    """The generator of one stream of draws for a seed."""
    return np.random.default_rng([seed, stream])


def _draw_key(c: Config) -> tuple:
    """The fields a parameter draw depends on."""
    return (c.cell, c.seed, c.n_x, c.n_s, c.n_y, c.init, c.spectral_radius, min(c.sparse_k, c.n_s),
            c.u_scale, c.v_scale, c.ba_scale, c.by_scale, c.forget_bias, c.dtype)


_DRAWS: OrderedDict = OrderedDict()       # the last few draws (switching back is instant)
_DRAWS_LOCK = threading.Lock()            # drawn on the worker and, for tests/CLI, the caller
DRAW_CACHE_SIZE = 4
DRAW_NOW_MAX_N = 96       # up to this n_s a draw takes ~1 ms and is done at once, on any thread


def draw_params_and_eigenvalues(c: Config) -> tuple[Parameters, np.ndarray | None]:
    """The seed's parameters for a configuration (a fresh copy; O(n_s^3): run it on the worker)
    and W's eigenvalues where the draw solved for them (else None)."""
    key = _draw_key(c)
    with _DRAWS_LOCK:
        cached = _DRAWS.get(key)
        if cached is not None:
            _DRAWS.move_to_end(key)
    if cached is None:
        if c.cell == "vanilla":
            cached = init_parameters(rng(c.seed, PARAMS_STREAM), c.n_x, c.n_s, c.n_y,
                                     v_scale=c.v_scale, by_scale=c.by_scale, dtype=np.dtype(c.dtype),
                                     with_eigenvalues=True, **cell_options(c))
        else:
            cached = (init_cell_parameters(rng(c.seed, PARAMS_STREAM), c.cell, c.n_x, c.n_s, c.n_y,
                                           v_scale=c.v_scale, by_scale=c.by_scale,
                                           dtype=np.dtype(c.dtype), **cell_options(c)), None)
        with _DRAWS_LOCK:
            _DRAWS[key] = cached
            while len(_DRAWS) > DRAW_CACHE_SIZE:
                _DRAWS.popitem(last=False)
    params, lam = cached
    return params.copy(), lam


@dataclass(eq=False, frozen=True)
class ParamPlan:
    """Parameters not drawn yet: the seed's draw for `config` with the `kept` matrices in place.

    Drawing solves an eigenvalue problem (O(n_s^3), seconds at n_s = 1024), so the session
    hands the plan to the worker, which realises it; compute_now() realises it at once.
    """
    config: Config                 # drawn for this (its radius may be older than the session's)
    kept: dict                     # name -> array (already in config's precision)
    names: tuple[str, ...]         # the matrices that change (for the "params" event)
    W_factor: float = 1.0          # the drawn W rescaled by this (radius changes since the plan)

    @property
    def drawn(self) -> frozenset:
        """The matrices that come from the draw."""
        return frozenset(param_names(self.config)) - frozenset(self.kept)


def realise(plan: ParamPlan) -> Parameters:
    """The parameters a plan stands for."""
    return realise_with_eigenvalues(plan)[0]


def realise_with_eigenvalues(plan: ParamPlan) -> tuple[Parameters, np.ndarray | None]:
    """The parameters a plan stands for, and W's eigenvalues when the draw made W (else None)."""
    if not plan.drawn:
        return Parameters(cell=plan.config.cell, **plan.kept), None
    params, lam = draw_params_and_eigenvalues(plan.config)
    if "W" not in plan.drawn:
        lam = None
    elif plan.W_factor != 1.0:
        params = dataclasses.replace(params, W=(params.W * plan.W_factor).astype(params.dtype))
        lam = None if lam is None else lam * plan.W_factor
    return dataclasses.replace(params, **plan.kept), lam


def check_given(c: Config, given: dict) -> None:
    """ValueError when a given matrix does not fit the configuration."""
    shapes = param_shapes(c)
    for name, value in given.items():
        if name not in shapes:
            raise ValueError(f"unknown matrix {name!r}")
        if np.shape(value) != shapes[name]:
            raise ValueError(f"{name} must have shape {shapes[name]}, not {np.shape(value)}")


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


@dataclass(frozen=True)
class ParamState:
    """The session's parameters and what is known about them.

    Exactly one of `params` (the arrays) and `plan` (still to be drawn) is set.
    drawn: matrices equal to the seed's draw for the config (not stored in session files);
    seeded: drawn, or W rescaled from the seed's draw (re-drawn on a precision change);
    edited: hand-edited matrices; rho: rho(W) when known (None: not computed yet);
    W_ref: after radius changes, the W they started from and the overall factor.
    """
    params: Parameters | None
    plan: ParamPlan | None
    edited: frozenset = frozenset()
    drawn: frozenset = frozenset()
    seeded: frozenset = frozenset()
    rho: float | None = None
    W_ref: tuple | None = None     # (W0, c): W is W0 rescaled by c > 0 (its spectrum is c times)

    @classmethod
    def drawing(cls, c: Config, given: dict | None = None, edited=frozenset()) -> ParamState:
        """The seed's draw for c with `given` matrices in place (drawn later, on the worker)."""
        given = {n: np.asarray(a).astype(c.dtype) for n, a in (given or {}).items()}
        check_given(c, given)
        names = param_names(c)
        drawn = frozenset(names) - frozenset(given)
        rho = None if "W" in given or not rescales_W(c) else c.spectral_radius
        if not drawn:
            return cls(Parameters(cell=c.cell, **given), None, frozenset(edited), drawn, drawn, rho)
        return cls(None, ParamPlan(c, given, names), frozenset(edited), drawn, drawn, rho)

    def arrays(self) -> dict:
        """The matrices held as arrays (all of them, or those a plan keeps)."""
        if self.plan is not None:
            return dict(self.plan.kept)
        return self.params.as_dict()


def settle(state: ParamState) -> ParamState:
    """The state with a cheap plan drawn at once (n_s <= DRAW_NOW_MAX_N: a millisecond or two)."""
    if state.plan is None or state.plan.config.n_s > DRAW_NOW_MAX_N:
        return state
    return dataclasses.replace(state, params=realise(state.plan), plan=None)


def update_params(state: ParamState, new: Config, changed: tuple[str, ...]):
    """The parameters after a config change, by the session's rules (see session.py).

    Returns (state, changed matrix names, messages); raises Refusal. Never draws: a change
    that needs the seed's draw returns a plan for the worker.
    """
    messages = []
    redraw = set(REDRAW_FIELDS.intersection(changed))
    if "sparse_k" in changed and new.init == "sparse":
        redraw.add("sparse_k")
    if redraw:
        if state.edited:
            messages.append(f"changing {', '.join(sorted(redraw))} re-drew the weights from the "
                            f"seed: your edits of {', '.join(sorted(state.edited))} were replaced")
        return ParamState.drawing(new), param_names(new), messages
    if "spectral_radius" in changed and not rescales_W(new):
        changed = tuple(f for f in changed if f != "spectral_radius")   # no knob for this cell
    if "dtype" not in changed and "spectral_radius" not in changed:
        return state, (), messages          # (a pending draw does not depend on what changed)
    arrays = state.arrays()
    from_draw = set(state.plan.drawn) if state.plan is not None else set()
    edited, drawn, seeded, rho = set(state.edited), set(state.drawn), set(state.seeded), state.rho
    W_ref = None if "dtype" in changed else state.W_ref
    plan = state.plan
    draw_config, W_factor = (plan.config, plan.W_factor) if plan is not None else (new, 1.0)
    names: set[str] = set()
    if "dtype" in changed:          # the seed's matrices drawn in the new precision, others converted
        for name in seeded:
            arrays.pop(name, None)
        from_draw |= seeded
        drawn = set(seeded)
        arrays = {n: a.astype(new.dtype) for n, a in arrays.items()}
        draw_config, W_factor = new, 1.0
        if "W" in seeded and rescales_W(new):
            rho = new.spectral_radius
        names = set(param_names(new))
    if "spectral_radius" in changed:
        names.add("W")
        if "W" in from_draw:
            pass                        # still to be drawn: rescaled below
        else:
            W0, c = W_ref if W_ref is not None else (arrays["W"], 1.0)
            known = spectral_radius(arrays["W"]) if rho is None else rho
            W = rescale_W(arrays["W"], known, new.spectral_radius)
            if W is None:               # rho(W) = 0: nothing to scale, draw W from the seed
                arrays.pop("W")
                from_draw.add("W")
                seeded.add("W")
                if "W" in edited:
                    messages.append("W had spectral radius 0, so it was re-drawn from the seed: "
                                    "the hand edits of W were replaced")
                edited.discard("W")
            else:
                arrays["W"] = W.astype(new.dtype)
                drawn.discard("W")
                W_ref = (W0, c * new.spectral_radius / known)
        rho = new.spectral_radius       # a drawn W has it by construction
        if "W" in from_draw:
            # Drawn at the plan's radius and rescaled, as if the draw had come back before this
            # change; a drag then reuses the one draw (an eigenproblem) instead of one per step.
            if draw_config.spectral_radius > 0:
                W_factor = new.spectral_radius / draw_config.spectral_radius
            else:                       # the zero matrix: draw at the new radius instead
                draw_config = dataclasses.replace(draw_config, spectral_radius=new.spectral_radius)
                W_factor = 1.0
            if W_factor == 1.0:
                drawn.add("W")
            else:
                drawn.discard("W")
    order = tuple(n for n in param_names(new) if n in names)
    if from_draw:
        params = None
        plan = ParamPlan(draw_config, arrays, order, W_factor if "W" in from_draw else 1.0)
    else:
        params, plan = Parameters(cell=new.cell, **arrays), None
    if "W" in from_draw:
        W_ref = None
    state = ParamState(params, plan, frozenset(edited), frozenset(drawn), frozenset(seeded), rho,
                       W_ref)
    return state, order, messages
