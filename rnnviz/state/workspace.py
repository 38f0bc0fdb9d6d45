"""The workspace: the set-up(s) the user works on, one shared selection, the latest result, events.

It is what the UI edits and draws from, Qt-free. The set-up rules live in setup.py; this
module only applies them, keeps request ids, and tells the views (events.py lists the events).
- Every mutator returns a list of problems and, when there are any, changes nothing.
- Every change that affects results bumps the request id; results for older ids are dropped.
- Drawing from the seed never runs in a mutator: the set-up holds a plan that the request
  carries to the worker; accept() installs the drawn parameters and emits "params". Reading
  `params` before then draws them at once (tests, command line); the UI checks `params_ready`.
- The request asks only for the stages the shown panels need (the flow curve only while the
  flow panel is shown); showing a panel that needs a missing stage makes `needs_compute` True.
One set-up today; a second one (comparison) will share the selection and the request ids.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from rnnviz.engine.parameters import Parameters
from rnnviz.state import config as cfg
from rnnviz.state import presets, readouts, sessionfile, training, values
from rnnviz.state import selection as sel
from rnnviz.state import setup as su
from rnnviz.state.compute import ALL_STAGES, ComputeRequest, Result, compute
from rnnviz.state.config import Config, Problem
from rnnviz.state.events import Events
from rnnviz.state.workspace_files import FilesMixin
from rnnviz.state.workspace_training import TrainingMixin

PARAM_NAMES = su.derive.param_names(cfg.DEFAULT)   # the vanilla cell's: U, W, V, ba, by
MAX_WEIGHT = su.MAX_WEIGHT
DEFAULT_PANELS = sel.DEFAULT_PANELS


class Workspace(FilesMixin, TrainingMixin):
    """The application state the UI edits and draws; Qt-free."""

    def __init__(self, config: Config | None = None):
        self.events = Events()
        config = cfg.DEFAULT if config is None else config
        problems = cfg.validate(config)
        if problems:
            raise ValueError(f"invalid configuration: {cfg.describe(problems)}")
        self._request_id = 0
        self.result: Result | None = None
        self.problems: list[Problem] = []
        self.busy = False
        self.dirty = False
        self.path: str | None = None            # the session file last opened or saved
        self.setup = su.fresh(config)
        self.selection = sel.first(config)
        self.run: training.TrainingRun | None = None     # the training run, once one started
        self._untrained = None          # the set-up before training (Reset goes back to it)
        self._next_job = 0
        self._shown_iteration: int | None = None
        self.out_of_sight: frozenset = frozenset()   # shown panels the window has in a hidden tab

    @classmethod
    def demo(cls) -> Workspace:
        """A workspace on the built-in default demo (the preset presets.DEMO)."""
        workspace = cls()
        workspace.load_preset(presets.DEMO)
        return workspace

    # ----- read-only views of the state ----------------------------------------------------
    @property
    def config(self) -> Config:
        """The set-up's configuration."""
        return self.setup.config

    @property
    def x(self) -> np.ndarray:
        return self.setup.x

    @property
    def s0(self) -> np.ndarray:
        return self.setup.s0

    @property
    def targets(self) -> np.ndarray:
        return self.setup.targets

    @property
    def preset_name(self) -> str | None:
        """The preset the set-up started from (None: a file, a share code or the demo's own)."""
        return self.setup.preset

    @property
    def view(self) -> dict:
        """The selection as the session file's "view" dict (a copy: change it with set_view)."""
        return self.selection.as_view()

    @property
    def t(self) -> int:
        """The selected timestep, 0-based."""
        return self.selection.t

    @property
    def b(self) -> int:
        """The selected batch element."""
        return self.selection.b

    @property
    def request_id(self) -> int:
        """The id the next request will carry (the current state's id)."""
        return self._request_id

    @property
    def stages(self) -> frozenset:
        """The compute stages the shown panels need (those in sight: see set_out_of_sight)."""
        flow = self.selection.shows("flow") and "flow" not in self.out_of_sight
        return ALL_STAGES if flow else ALL_STAGES - {"flow"}

    def set_out_of_sight(self, panels) -> None:
        """Panels that stay switched on but that the window has out of sight for now (in a tab
        not shown): the stages only they need are not computed until they are back in sight,
        when `needs_compute` says so. Not saved: it is not a choice of the user's."""
        self.out_of_sight = frozenset(panels)

    @property
    def needs_compute(self) -> bool:
        """Whether the shown result (if any) is older than the current state or lacks a stage."""
        return (self.result is None or self.result.request_id != self._request_id
                or not self.stages <= self.result.stages)

    @property
    def params(self) -> Parameters:
        """The parameters (drawn here and now if the worker has not drawn them yet)."""
        st = self.setup.params
        if st.plan is not None:
            self._install_params(su.derive.realise(st.plan))
        return self.setup.params.params

    @property
    def params_ready(self) -> bool:
        """Whether the parameters are drawn (reading `params` will not block)."""
        return self.setup.params.plan is None

    @property
    def edited(self) -> set[str]:
        """Names of the hand-edited matrices (a copy)."""
        return set(self.setup.params.edited)

    def radius_note(self) -> str | None:
        """Why the spectral-radius field does not describe the W in use (a hand edit), or None."""
        if not su.derive.rescales_W(self.config):
            return None                 # a gated cell's W: the radius is no knob of it
        st = self.setup.params
        return readouts.radius_note(self.config.spectral_radius, st.rho, "W" in st.edited)

    @property
    def radius_measured(self) -> bool:
        """Whether ρ(W) of the W in use is known (a new W's is measured with its result)."""
        return self.setup.params.rho is not None

    @property
    def inputs_fixed(self) -> bool:
        """Whether x and s0 come from a preset rather than from the seed."""
        return self.setup.inputs_fixed

    # ----- installing a whole new state ----------------------------------------------------
    def _replace_all(self, parsed: dict, source: str) -> None:
        """Install a whole new state (file, preset, paste) and tell every view."""
        try:
            setup = su.build(parsed)
            selection = sel.from_view(parsed["view"], setup.config)
        except ValueError as exc:       # the engine refused something validation let through
            raise sessionfile.SessionFileError(f"cannot use this set-up: {exc}") from None
        self.setup, self.selection = setup, selection
        self.run, self._untrained, self._shown_iteration = None, None, None
        run = parsed.get("run")
        if run is not None and setup.training is not None:
            self.run = training.restore_run(self.params, setup.training,
                                            run, activation=setup.config.activation)
            self._shown_iteration = self.run.iteration
        self._bump()
        self.result = None
        self._set_problems([])
        self.events.emit("config", config=self.config, changed=cfg.FIELDS,
                         request_id=self._request_id)
        self._emit_params(su.param_names(self.setup))
        self.events.emit("view", view=self.view)
        self.events.emit("timestep", t=self.t)
        self.events.emit("batch", b=self.b, request_id=self._request_id)
        self.events.emit("loaded", source=source)

    # ----- helpers ---------------------------------------------------------------------------
    def _bump(self) -> None:
        self._request_id += 1

    def _set_problems(self, problems: list[Problem]) -> list[Problem]:
        if problems or self.problems:
            self.problems = list(problems)
            self.events.emit("problems", problems=list(problems))
        return list(problems)

    def _refuse(self, field: str, message: str) -> list[Problem]:
        return self._set_problems([Problem(field, message)])

    def _emit_params(self, names) -> None:
        """Announce changed matrices once they are drawn (later, from accept(), if pending)."""
        if self.setup.params.plan is None and names:
            self.events.emit("params", names=tuple(names), edited=frozenset(self.setup.params.edited),
                             request_id=self._request_id)

    def _install_params(self, params: Parameters) -> None:
        """Put the drawn parameters of the pending plan in place and announce them."""
        plan = self.setup.params.plan
        self.setup = su.with_drawn(self.setup, params)
        self._emit_params(plan.names)

    def _changed(self, change: su.Change, config_event: bool = True) -> None:
        """Commit a changed set-up and tell the views what changed."""
        self.setup = change.setup
        self._bump()
        self.dirty = True
        self._set_problems([])
        if config_event:
            self.events.emit("config", config=self.config, changed=change.fields,
                             request_id=self._request_id)
        self._emit_params(change.params)
        clamped = self.selection.clamped(self.config)       # T or m may have shrunk
        if clamped.t != self.t:
            self.selection = dataclasses.replace(self.selection, t=clamped.t)
            self.events.emit("timestep", t=self.t)
        if clamped.b != self.b:
            self.selection = dataclasses.replace(self.selection, b=clamped.b)
            self.events.emit("batch", b=self.b, request_id=self._request_id)

    # ----- mutators ----------------------------------------------------------------------------
    def apply(self, **changes) -> list[Problem]:
        """Change settings; on problems emit "problems" and change nothing."""
        try:
            change = su.change(self.setup, **changes)
        except su.Refused as exc:
            return self._set_problems(exc.problems)
        if not change.fields:
            return self._set_problems([])
        self._changed(change)
        for text in change.messages:
            self.events.emit("message", text=text)
        self._end_run_on_edit(change)
        return []

    def set_weight(self, name: str, i: int, j: int, value: float) -> list[Problem]:
        """Set one entry of a parameter by hand (U, W, V, ba, by for the vanilla cell); marks the
        matrix as edited."""
        names = su.param_names(self.setup)
        if name not in names:
            return self._refuse("name", f"unknown matrix {name!r:.40}; one of {', '.join(names)}")
        M = getattr(self.params, name)
        try:
            i, j = values.index(i, M.shape[0], "row"), values.index(j, M.shape[1], "column")
            value = values.weight(value, MAX_WEIGHT)
        except ValueError as exc:
            return self._refuse(name, f"{name} is {M.shape[0]} x {M.shape[1]}: {exc}")
        M = M.copy()
        M[i, j] = value
        return self._commit_matrix(name, M)

    def set_matrix(self, name: str, array) -> list[Problem]:
        """Replace a whole matrix by hand (same shape, finite, within ±1e6); marks it as edited."""
        names = su.param_names(self.setup)
        if name not in names:
            return self._refuse("name", f"unknown matrix {name!r:.40}; one of {', '.join(names)}")
        try:
            M = values.matrix(array, su.matrix_shape(self.setup, name), name, MAX_WEIGHT)
        except ValueError as exc:
            return self._refuse(name, str(exc))
        return self._commit_matrix(name, M.astype(self.config.dtype))

    def _commit_matrix(self, name: str, M: np.ndarray) -> list[Problem]:
        setup = su.with_matrix(self.setup, self.params, name, M)
        change = su.Change(setup, (), (name,))
        self._changed(change, config_event=False)
        self._end_run_on_edit(change)
        return []

    def reinitialise(self) -> list[Problem]:
        """Replace parameters and inputs by the seed's draw (hand edits and preset arrays go)."""
        had_fixed = self.setup.inputs_fixed
        change = su.reinitialised(self.setup)
        self._changed(change, config_event=had_fixed)
        self._end_run_on_edit(change)
        return []

    def redraw_seed(self, seed: int | None = None) -> list[Problem]:
        """Pick a new seed (random unless given) and re-draw everything from it."""
        if seed is None:
            lo, hi = cfg.LIMITS["seed"]
            seed = self.config.seed
            while seed == self.config.seed:
                seed = int(np.random.default_rng().integers(lo, hi, endpoint=True))
        return self.apply(seed=seed)     # the seed re-draws weights, inputs and targets

    def set_timestep(self, t: int) -> int:
        """Select a timestep (0-based), clamped to 0..T-1; returns the one selected."""
        try:
            t = min(max(int(t), 0), self.config.T - 1)
        except (TypeError, ValueError, OverflowError):     # not a step: keep the selection
            return self.t
        if t != self.t:
            self.selection = dataclasses.replace(self.selection, t=t)
            self.events.emit("timestep", t=t)
        return t

    def set_batch(self, b: int) -> int:
        """Select a batch element, clamped to 0..m-1; a new computation is needed (flow is per b)."""
        try:
            b = min(max(int(b), 0), self.config.m - 1)
        except (TypeError, ValueError, OverflowError):
            return self.b
        if b != self.b:
            self.selection = dataclasses.replace(self.selection, b=b)
            self._bump()
            self.events.emit("batch", b=b, request_id=self._request_id)
        return b

    def set_view(self, **changes) -> list[Problem]:
        """Change view entries other than t and b (panels, presentation, ...), validated."""
        if "t" in changes or "b" in changes:
            return self._refuse("view", "use set_timestep / set_batch for t and b")
        try:
            self.selection = sel.from_view({**self.view, **changes}, self.config)
        except sessionfile.SessionFileError as exc:
            return self._refuse("view", str(exc))
        self.events.emit("view", view=self.view)
        return []

    # ----- computing -----------------------------------------------------------------------
    def request(self) -> ComputeRequest:
        """A snapshot of the current state for the worker, asking for the stages shown panels need."""
        req = su.request(self.setup, self._request_id, self.b, self.stages)
        if not self.busy:
            self.busy = True
            self.events.emit("busy", busy=True)
        return req

    def accept(self, result: Result) -> bool:
        """Take a result (partial or final) if it belongs to the current state; False when stale.

        A result of the current state brings the parameters drawn for it (if they were still
        pending) and rho(W) (if not known yet). A partial result leaves the workspace busy.
        """
        if result.request_id != self._request_id:
            return False
        shown = self.result
        if shown is not None and shown.request_id == result.request_id and shown.complete \
                and not result.complete and result.stages <= shown.stages:
            return False                # a late partial never replaces the complete result
        if self.setup.params.plan is not None and result.params is not None:
            self._install_params(result.params)
        if self.setup.params.rho is None and np.isfinite(result.spectrum.spectral_radius):
            self.setup = su.with_rho(self.setup, float(result.spectrum.spectral_radius))
        self.result = result
        if self.busy and result.complete:
            self.busy = False
            self.events.emit("busy", busy=False)
        self.events.emit("result", result=result)
        return True

    def reject(self, request_id: int, message: str) -> bool:
        """Report a failed computation of the current state (stale failures are ignored)."""
        if request_id != self._request_id:
            return False
        if self.busy:
            self.busy = False
            self.events.emit("busy", busy=False)
        self.events.emit("error", text=f"the computation failed: {message}", exception=None)
        return True

    def compute_now(self) -> Result:
        """Request, compute and accept synchronously (tests, command line)."""
        result = compute(self.request())
        self.accept(result)
        return result


Session = Workspace      # the name rnnviz 0.1 used; the UI and tests say "session"
