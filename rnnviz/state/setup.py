"""A set-up: one network to look at (config, parameters with their provenance, data). Pure.

A SetUp is an immutable value: every change returns a new one (or raises Refused with the
problems, changing nothing). The workspace holds one set-up now (two for comparison later),
announces changes and talks to the worker; nothing here emits events or touches a result.

Rules (the behaviour users see):
- Changing sizes, seed, init kind, scales (or sparse_k with sparse init) re-draws every
  parameter from the seed; hand edits are replaced and a message says so.
- Changing the spectral radius rescales the current W to it (W * r_new / rho(W)), so hand
  edits survive a radius drag; when rho(W) is 0 W is re-drawn instead.
- A new text (or switching the input to text) derives n_x, n_y and T from it (config.fit_text)
  and says so.
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
from rnnviz.state import training as training_mod
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
    training: training_mod.TrainingSetup | None = None   # the task, optimiser, clipping, seed

    @property
    def inputs_fixed(self) -> bool:
        """Whether x and s0 come from a preset rather than from the seed."""
        return bool(self.fixed_inputs)

    @property
    def loss(self) -> str:
        """The loss the targets are scored with: the training task's, else cross-entropy."""
        return "cross_entropy" if self.training is None else training_mod.TASKS[self.training.task].loss


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
    training = parsed.get("training")
    if (training is None) != (c.input_pattern != cfg.TASK_PATTERN):
        raise ValueError("the input pattern 'task' goes with a training set-up, and only with one")
    state = derive.ParamState.drawing(c, parsed["params"], frozenset(parsed["edited"]))
    fixed = {n: derive.read_only(np.asarray(a).astype(c.dtype)) for n, a in parsed["inputs"].items()}
    if training is not None:
        if (c.n_x, c.n_y, c.T) != training.sizes():
            raise ValueError(f"the training task {training.task!r} has (n_x, n_y, T) = "
                             f"{training.sizes()}, the network {(c.n_x, c.n_y, c.T)}")
        x, s0, targets = task_data(c, training)
    else:
        x, s0 = (fixed["x"], fixed["s0"]) if fixed else derive.draw_inputs(c)
        targets = derive.draw_targets(c, x)
    return SetUp(c, derive.settle(state), derive.read_only(x), derive.read_only(s0),
                 derive.read_only(targets), fixed, parsed.get("preset"), training)


def task_data(c: Config, training: training_mod.TrainingSetup):
    """x, s0 (zeros, as the trainer starts) and the targets of the batch the views show."""
    task = training_mod.view_batch(training, c.m, c.dtype)
    return task.x, np.zeros((c.n_s, c.m), dtype=c.dtype), task.targets


# Settings the training task decides while one is set.
TASK_FIELDS = ("n_x", "n_y", "T", "input_pattern", "target_pattern", "copy_delay", "text")


def with_training(setup: SetUp, training: training_mod.TrainingSetup) -> Change:
    """The set-up training on a task: the task sets n_x, n_y and T (the weights are re-drawn when
    they change) and the data the views show; Refused when the network cannot take it."""
    n_x, n_y, T = training.sizes()
    change_ = change(setup, _task=True, n_x=n_x, n_y=n_y, T=T, input_pattern=cfg.TASK_PATTERN)
    new = change_.setup
    x, s0, targets = task_data(new.config, training)
    out = dataclasses.replace(new, x=derive.read_only(x), s0=derive.read_only(s0),
                              targets=derive.read_only(targets), fixed_inputs={},
                              training=training)
    return Change(out, change_.fields, change_.params, change_.messages)


def fresh(config: Config, preset: str | None = None) -> SetUp:
    """The seed's set-up for a configuration (nothing hand-edited)."""
    return build({"config": config, "params": {}, "edited": frozenset(), "inputs": {},
                  "preset": preset})


def change(setup: SetUp, _task: bool = False, **changes) -> Change:
    """The set-up with settings changed; Refused (nothing changed) on problems.

    While a training task is set it decides n_x, n_y, T and the data (TASK_FIELDS): a change of
    those is refused unless it comes from the task itself (_task, with_training)."""
    if not _task:
        owned = [f for f in TASK_FIELDS if f in changes and changes[f] != getattr(setup.config, f)]
        if setup.training is not None and owned:
            raise Refused([Problem(owned[0], f"{owned[0]} is set by the training task "
                                             f"({setup.training.task!r}): change the task or its "
                                             f"options in the Training panel")])
        if setup.training is None and changes.get("input_pattern") == cfg.TASK_PATTERN:
            raise Refused([Problem("input_pattern", "the input pattern 'task' comes with a "
                                                    "training task: choose one in the Training "
                                                    "panel")])
    changes, derived = cfg.fit_text(setup.config, changes)
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
    if setup.training is not None and not _task:
        if {"m", "dtype", "n_s"}.intersection(fields):     # the views' batch of the task, again
            x, s0, targets = map(derive.read_only, task_data(new, setup.training))
        out = SetUp(new, derive.settle(state), x, s0, targets, {}, setup.preset, setup.training)
        return Change(out, fields, tuple(changed_params), tuple(messages))
    if _task:
        out = SetUp(new, derive.settle(state), x, s0, targets, {}, setup.preset, setup.training)
        return Change(out, fields, tuple(changed_params), tuple(messages))
    if derive.INPUT_FIELDS.intersection(fields):
        if fixed:
            messages.append("the preset's own inputs x and s0 were replaced by ones drawn "
                            "from the seed")
        fixed = {}
        x, s0 = map(derive.read_only, derive.draw_inputs(new))
    if derive.TARGET_FIELDS.intersection(fields):
        targets = derive.read_only(derive.draw_targets(new, x))
    out = SetUp(new, derive.settle(state), x, s0, targets, fixed, setup.preset)
    return Change(out, fields, tuple(changed_params), tuple(derived + messages))


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
    if setup.fixed_inputs and setup.training is None:
        x, s0 = map(derive.read_only, derive.draw_inputs(c))
        targets = derive.read_only(derive.draw_targets(c, x))
    state = derive.settle(derive.ParamState.drawing(c))
    out = SetUp(c, state, x, s0, targets, {}, setup.preset, setup.training)
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
                          W_ref=st.W_ref, stages=frozenset(stages), loss=setup.loss)


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
    if setup.training is not None:
        doc["training"] = setup.training.to_dict()
    return doc


def with_trained(setup: SetUp, params) -> SetUp:
    """The set-up with trained parameters in place (none of them the seed's draw any more)."""
    st = setup.params
    state = derive.ParamState(params, None, st.edited, frozenset(), frozenset(), None)
    return dataclasses.replace(setup, params=state)


def param_names(setup: SetUp) -> tuple[str, ...]:
    """The set-up's arrays, as its cell names them (vanilla: U, W, V, ba, by)."""
    return derive.param_names(setup.config)


def matrix_shape(setup: SetUp, name: str) -> tuple[int, ...]:
    """The shape a matrix must have under the set-up's configuration."""
    return sessionfile.param_shapes(setup.config)[name]
