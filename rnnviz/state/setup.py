"""A set-up: one network to look at (config, parameters with their provenance, data). Pure.

A SetUp is an immutable value: every change returns a new one (or raises Refused with the
problems, changing nothing). The workspace holds one set-up now (two for comparison later),
announces changes and talks to the worker; nothing here emits events or touches a result.

Rules (the behaviour users see):
- Changing sizes, seed, init kind, scales (or sparse_k with sparse init) re-draws every
  parameter from the seed; hand edits are replaced and a message says so.
- Changing the spectral radius rescales the current W to it (W * r_new / rho(W)), so hand
  edits survive a radius drag; when rho(W) is 0 W is re-drawn instead.
- Other changes (activation, T, m, patterns) keep the parameters; a precision change re-draws
  the seed's matrices in the new precision and converts hand-edited ones.
- Drawing from the seed solves an eigenvalue problem (seconds at n_s = 1024), so it never runs
  here: the set-up holds a plan (derive.ParamPlan) that the request carries to the worker.
- x, s0 and targets are re-derived from config + seed, each from its own random stream.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rnnviz.engine.parameters import Parameters
from rnnviz.state import config as cfg
from rnnviz.state import derive, sessionfile
from rnnviz.state.compute import ALL_STAGES, ComputeRequest
from rnnviz.state.config import Config, Problem

MAX_WEIGHT = derive.MAX_WEIGHT


class Refused(Exception):
    """A change that was refused; .problems says why (the set-up is unchanged)."""

    def __init__(self, problems: list[Problem]):
        super().__init__(cfg.describe(problems))
        self.problems = list(problems)


@dataclass(frozen=True, eq=False)
class SetUp:
    """Everything that decides one network's numbers; read-only arrays, shared with requests."""

    config: Config
    params: derive.ParamState          # the parameters (or the plan to draw them) + provenance
    x: np.ndarray                      # (n_x, m, T) inputs
    s0: np.ndarray                     # (n_s, m) initial state
    targets: np.ndarray                # (m, T) int targets
    fixed_inputs: dict                 # a preset's own {"x", "s0"} (empty: drawn from the seed)
    preset: str | None = None          # the preset it started from

    @property
    def inputs_fixed(self) -> bool:
        """Whether x and s0 come from a preset rather than from the seed."""
        return bool(self.fixed_inputs)


@dataclass(frozen=True)
class Change:
    """A set-up after a change, and what the change touched (for the workspace's events)."""

    setup: SetUp
    fields: tuple[str, ...] = ()       # config fields that changed
    params: tuple[str, ...] = ()       # matrices that changed
    messages: tuple[str, ...] = ()     # things the user should read


def build(parsed: dict) -> SetUp:
    """A set-up from a parsed session dict (sessionfile.parse's keys config, params, edited,
    inputs, preset); ValueError when the engine refuses something validation let through."""
    c: Config = parsed["config"]
    state = derive.ParamState.drawing(c, parsed["params"], frozenset(parsed["edited"]))
    fixed = {n: derive.read_only(np.asarray(a).astype(c.dtype)) for n, a in parsed["inputs"].items()}
    x, s0 = (fixed["x"], fixed["s0"]) if fixed else derive.draw_inputs(c)
    targets = derive.draw_targets(c, x)
    return SetUp(c, derive.settle(state), derive.read_only(x), derive.read_only(s0),
                 derive.read_only(targets), fixed, parsed.get("preset"))


def fresh(config: Config, preset: str | None = None) -> SetUp:
    """The seed's set-up for a configuration (nothing hand-edited)."""
    return build({"config": config, "params": {}, "edited": frozenset(), "inputs": {},
                  "preset": preset})


def change(setup: SetUp, **changes) -> Change:
    """The set-up with settings changed; Refused (nothing changed) on problems."""
    new, problems = cfg.replace(setup.config, **changes)
    if problems:
        raise Refused(problems)
    old = setup.config
    fields = tuple(f for f in cfg.FIELDS if getattr(new, f) != getattr(old, f))
    if not fields:
        return Change(setup)
    try:
        state, changed_params, messages = derive.update_params(setup.params, new, fields)
    except derive.Refusal as exc:
        raise Refused([Problem("spectral_radius", str(exc))]) from None
    x, s0, targets, fixed = setup.x, setup.s0, setup.targets, setup.fixed_inputs
    if derive.INPUT_FIELDS.intersection(fields):
        if fixed:
            messages.append("the preset's own inputs x and s0 were replaced by ones drawn "
                            "from the seed")
        fixed = {}
        x, s0 = map(derive.read_only, derive.draw_inputs(new))
    if derive.TARGET_FIELDS.intersection(fields):
        targets = derive.read_only(derive.draw_targets(new, x))
    out = SetUp(new, derive.settle(state), x, s0, targets, fixed, setup.preset)
    return Change(out, fields, tuple(changed_params), tuple(messages))


def with_matrix(setup: SetUp, params: Parameters, name: str, M: np.ndarray) -> SetUp:
    """The set-up with one matrix replaced by hand (params: the current, drawn parameters)."""
    st = setup.params
    state = derive.ParamState(derive.with_matrix(params, name, M), None, st.edited | {name},
                              st.drawn - {name}, st.seeded - {name},
                              None if name == "W" else st.rho)
    return dataclasses.replace(setup, params=state)


def reinitialised(setup: SetUp) -> Change:
    """Parameters and inputs re-drawn from the seed (hand edits and preset arrays go)."""
    c = setup.config
    x, s0, targets = setup.x, setup.s0, setup.targets
    if setup.fixed_inputs:
        x, s0 = map(derive.read_only, derive.draw_inputs(c))
        targets = derive.read_only(derive.draw_targets(c, x))
    state = derive.settle(derive.ParamState.drawing(c))
    out = SetUp(c, state, x, s0, targets, {}, setup.preset)
    return Change(out, (), derive.param_names(c))


def with_drawn(setup: SetUp, params: Parameters) -> SetUp:
    """The set-up with its pending plan's parameters in place."""
    return dataclasses.replace(setup, params=dataclasses.replace(setup.params, params=params,
                                                                 plan=None))


def with_rho(setup: SetUp, rho: float) -> SetUp:
    """The set-up knowing rho(W) (measured by the worker)."""
    return dataclasses.replace(setup, params=dataclasses.replace(setup.params, rho=rho))


def request(setup: SetUp, request_id: int, b: int, stages=ALL_STAGES) -> ComputeRequest:
    """A snapshot of the set-up for the worker (parameters copied, or the plan to draw)."""
    st = setup.params
    return ComputeRequest(id=request_id, config=setup.config,
                          params=None if st.plan is not None else st.params.copy(),
                          x=setup.x, s0=setup.s0, targets=setup.targets, b=b, plan=st.plan,
                          W_ref=st.W_ref, stages=frozenset(stages))


def to_doc(setup: SetUp) -> dict:
    """The set-up's part of a session file (JSON-ready): only non-seed matrices are stored."""
    doc = {"config": cfg.to_dict(setup.config)}
    stored = [n for n in derive.param_names(setup.config) if n not in setup.params.drawn]
    if stored:
        arrays = setup.params.arrays()           # no drawing: stored matrices are never drawn
        doc["params"] = {n: arrays[n].tolist() for n in stored}
    doc["edited"] = sorted(setup.params.edited)
    if setup.fixed_inputs:
        doc["inputs"] = {n: a.tolist() for n, a in setup.fixed_inputs.items()}
    if setup.preset is not None:
        doc["preset"] = setup.preset
    return doc


def param_names(setup: SetUp) -> tuple[str, ...]:
    """The set-up's arrays, as its cell names them (vanilla: U, W, V, ba, by)."""
    return derive.param_names(setup.config)


def matrix_shape(setup: SetUp, name: str) -> tuple[int, ...]:
    """The shape a matrix must have under the set-up's configuration."""
    return sessionfile.param_shapes(setup.config)[name]
