"""The session: config + parameters + derived data + latest result + view state, emitting events.

Rules (see docs/design.md and events.py for the event payloads):
- Changing sizes, seed, init kind, scales (or sparse_k with sparse init) re-draws every
  parameter from the seed; hand edits are replaced and a "message" says so.
- Changing the spectral radius rescales the current W to it (W * r_new / rho(W)), so hand
  edits survive a radius drag; when rho(W) is 0 W is re-drawn instead.
- Other changes (activation, T, m, patterns) keep the parameters; a precision change re-draws
  the seed's matrices in the new precision and converts hand-edited ones.
- Drawing from the seed solves an eigenvalue problem (seconds at n_s = 1024), so it never runs
  in a mutator: the session holds a plan (derive.ParamPlan) that the request carries to the
  worker; accept() installs the drawn parameters and emits "params". Reading `params` before
  then draws them at once (tests, command line); the UI checks `params_ready` first.
- x, s0 and targets are re-derived from config + seed, each from its own random stream.
- Every mutator returns a list of problems and, when there are any, changes nothing.
- Every change that affects results bumps the request id; results for older ids are dropped.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from rnnviz.engine.parameters import Parameters
from rnnviz.state import config as cfg
from rnnviz.state import derive, presets, sessionfile, sharecode, values
from rnnviz.state.compute import ComputeRequest, Result, compute
from rnnviz.state.config import Config, Problem
from rnnviz.state.events import Events

PARAM_NAMES = derive.PARAM_NAMES
MAX_WEIGHT = derive.MAX_WEIGHT
DEFAULT_PANELS = {"editors": True, "weights": True, "explanation": True, "states": True,
                  "gradients": True, "softmax": True, "flow": True, "spectrum": True,
                  "connectivity": True}


class Session:
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
        self._install(self._build({"config": config, "params": {}, "edited": frozenset(),
                                   "inputs": {}, "preset": None,
                                   "view": {"t": config.T - 1, "b": 0,
                                            "panels": dict(DEFAULT_PANELS)}}))

    @classmethod
    def demo(cls) -> Session:
        """A session on the built-in default demo (the preset presets.DEMO: Session()'s
        configuration with its guide in the explanation)."""
        session = cls()
        session.load_preset(presets.DEMO)
        return session

    # ----- read-only views of the state ----------------------------------------------------
    @property
    def t(self) -> int:
        """The selected timestep, 0-based."""
        return self.view["t"]

    @property
    def b(self) -> int:
        """The selected batch element."""
        return self.view["b"]

    @property
    def request_id(self) -> int:
        """The id the next request will carry (the current state's id)."""
        return self._request_id

    @property
    def needs_compute(self) -> bool:
        """Whether the shown result (if any) is older than the current state."""
        return self.result is None or self.result.request_id != self._request_id

    @property
    def params(self) -> Parameters:
        """The parameters (drawn here and now if the worker has not drawn them yet)."""
        if self._state.plan is not None:
            self._install_params(derive.realise(self._state.plan))
        return self._state.params

    @property
    def params_ready(self) -> bool:
        """Whether the parameters are drawn (reading `params` will not block)."""
        return self._state.plan is None

    @property
    def edited(self) -> set[str]:
        """Names of the hand-edited matrices (a copy)."""
        return set(self._state.edited)

    @property
    def inputs_fixed(self) -> bool:
        """Whether x and s0 come from a preset rather than from the seed."""
        return bool(self._fixed_inputs)

    # ----- building and installing a whole state --------------------------------------------
    def _build(self, parsed: dict) -> dict:
        """Every derived part of a session from a parsed session dict (no state changed)."""
        c: Config = parsed["config"]
        state = derive.ParamState.drawing(c, parsed["params"], frozenset(parsed["edited"]))
        fixed = {n: derive.read_only(np.asarray(a).astype(c.dtype))
                 for n, a in parsed["inputs"].items()}
        if fixed:
            x, s0 = fixed["x"], fixed["s0"]
        else:
            x, s0 = derive.draw_inputs(c)
        targets = derive.draw_targets(c, x)
        view = dict(parsed["view"])
        view.setdefault("panels", dict(DEFAULT_PANELS))
        return {"config": c, "params": derive.settle(state), "fixed": fixed,
                "x": derive.read_only(x), "s0": derive.read_only(s0),
                "targets": derive.read_only(targets), "view": view,
                "preset": parsed["preset"]}

    def _install(self, built: dict) -> None:
        self.config: Config = built["config"]
        self._state: derive.ParamState = built["params"]
        self._fixed_inputs: dict = built["fixed"]
        self.x, self.s0, self.targets = built["x"], built["s0"], built["targets"]
        self.view: dict = built["view"]
        self.preset_name: str | None = built["preset"]

    def _replace_all(self, parsed: dict, source: str) -> None:
        """Install a whole new state (file, preset, paste) and tell every view."""
        try:
            built = self._build(parsed)
        except ValueError as exc:       # the engine refused something validation let through
            raise sessionfile.SessionFileError(f"cannot use this set-up: {exc}") from None
        self._install(built)
        self._bump()
        self.result = None
        self._set_problems([])
        self.events.emit("config", config=self.config, changed=cfg.FIELDS,
                         request_id=self._request_id)
        self._emit_params(PARAM_NAMES)
        self.events.emit("view", view=dict(self.view))
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
        if self._state.plan is None and names:
            self.events.emit("params", names=tuple(names), edited=frozenset(self._state.edited),
                             request_id=self._request_id)

    def _install_params(self, params: Parameters) -> None:
        """Put the drawn parameters of the pending plan in place and announce them."""
        plan = self._state.plan
        self._state = dataclasses.replace(self._state, params=params, plan=None)
        self._emit_params(plan.names)

    # ----- mutators ----------------------------------------------------------------------------
    def apply(self, **changes) -> list[Problem]:
        """Change settings; on problems emit "problems" and change nothing."""
        new, problems = cfg.replace(self.config, **changes)
        if problems:
            return self._set_problems(problems)
        old = self.config
        changed = tuple(f for f in cfg.FIELDS if getattr(new, f) != getattr(old, f))
        if not changed:
            return self._set_problems([])
        try:
            state, changed_params, messages = derive.update_params(self._state, new, changed)
        except derive.Refusal as exc:
            return self._refuse("spectral_radius", str(exc))
        x, s0, targets, fixed = self.x, self.s0, self.targets, self._fixed_inputs
        if derive.INPUT_FIELDS.intersection(changed):
            if fixed:
                messages.append("the preset's own inputs x and s0 were replaced by ones drawn "
                                "from the seed")
            fixed = {}
            x, s0 = map(derive.read_only, derive.draw_inputs(new))
        if derive.TARGET_FIELDS.intersection(changed):
            targets = derive.read_only(derive.draw_targets(new, x))
        # Everything is computed: commit.
        self.config, self._state = new, derive.settle(state)
        self.x, self.s0, self.targets, self._fixed_inputs = x, s0, targets, fixed
        self._bump()
        self.dirty = True
        self._set_problems([])
        self.events.emit("config", config=new, changed=changed, request_id=self._request_id)
        self._emit_params(changed_params)
        if self.t > new.T - 1:
            self.view["t"] = new.T - 1
            self.events.emit("timestep", t=self.t)
        if self.b > new.m - 1:
            self.view["b"] = new.m - 1
            self.events.emit("batch", b=self.b, request_id=self._request_id)
        for text in messages:
            self.events.emit("message", text=text)
        return []

    def _check_matrix_name(self, name) -> list[Problem]:
        if name not in PARAM_NAMES:
            return [Problem("name", f"unknown matrix {name!r}; one of {', '.join(PARAM_NAMES)}")]
        return []

    def set_weight(self, name: str, i: int, j: int, value: float) -> list[Problem]:
        """Set one entry of U, W, V, ba or by by hand; marks the matrix as edited."""
        problems = self._check_matrix_name(name)
        if problems:
            return self._set_problems(problems)
        M = getattr(self.params, name)
        try:
            i, j = values.index(i, M.shape[0], "row"), values.index(j, M.shape[1], "column")
            value = values.weight(value, MAX_WEIGHT)
        except ValueError as exc:
            return self._refuse(name, f"{name} is {M.shape[0]} x {M.shape[1]}: {exc}")
        M = M.copy()
        M[int(i), int(j)] = value
        return self._commit_matrix(name, M)

    def set_matrix(self, name: str, array) -> list[Problem]:
        """Replace a whole matrix by hand (same shape, finite, within ±1e6); marks it as edited."""
        problems = self._check_matrix_name(name)
        if problems:
            return self._set_problems(problems)
        shape = sessionfile.param_shapes(self.config)[name]
        try:
            M = values.matrix(array, shape, name, MAX_WEIGHT)
        except ValueError as exc:
            return self._refuse(name, str(exc))
        return self._commit_matrix(name, M.astype(self.config.dtype))

    def _commit_matrix(self, name: str, M: np.ndarray) -> list[Problem]:
        st = self._state
        params = derive.with_matrix(self.params, name, M)
        self._state = derive.ParamState(
            params, None, st.edited | {name}, st.drawn - {name}, st.seeded - {name},
            None if name == "W" else st.rho)
        self._bump()
        self.dirty = True
        self._set_problems([])
        self._emit_params((name,))
        return []

    def reinitialise(self) -> list[Problem]:
        """Replace parameters and inputs by the seed's draw (hand edits and preset arrays go)."""
        c = self.config
        had_fixed = bool(self._fixed_inputs)
        x, s0 = self.x, self.s0
        if had_fixed:
            x, s0 = map(derive.read_only, derive.draw_inputs(c))
            self.targets = derive.read_only(derive.draw_targets(c, x))
        self._state = derive.settle(derive.ParamState.drawing(c))
        self.x, self.s0, self._fixed_inputs = x, s0, {}
        self._bump()
        self.dirty = True
        self._set_problems([])
        if had_fixed:
            self.events.emit("config", config=c, changed=(), request_id=self._request_id)
        self._emit_params(PARAM_NAMES)
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
        if t != self.view["t"]:
            self.view["t"] = t
            self.events.emit("timestep", t=t)
        return t

    def set_batch(self, b: int) -> int:
        """Select a batch element, clamped to 0..m-1; a new computation is needed (flow is per b)."""
        try:
            b = min(max(int(b), 0), self.config.m - 1)
        except (TypeError, ValueError, OverflowError):
            return self.b
        if b != self.view["b"]:
            self.view["b"] = b
            self._bump()
            self.events.emit("batch", b=b, request_id=self._request_id)
        return b

    def set_view(self, **changes) -> list[Problem]:
        """Change view entries other than t and b (panels, presentation, ...), validated."""
        if "t" in changes or "b" in changes:
            return self._refuse("view", "use set_timestep / set_batch for t and b")
        view = {**self.view, **changes}
        try:
            view = sessionfile.check_view(view, self.config)
        except sessionfile.SessionFileError as exc:
            return self._refuse("view", str(exc))
        self.view = view
        self.events.emit("view", view=dict(view))
        return []

    # ----- computing -----------------------------------------------------------------------
    def request(self) -> ComputeRequest:
        """A snapshot of the current state for the worker (parameters copied, or the plan to draw)."""
        st = self._state
        req = ComputeRequest(id=self._request_id, config=self.config,
                             params=None if st.plan is not None else st.params.copy(),
                             x=self.x, s0=self.s0, targets=self.targets, b=self.b, plan=st.plan,
                             W_ref=st.W_ref)
        if not self.busy:
            self.busy = True
            self.events.emit("busy", busy=True)
        return req

    def accept(self, result: Result) -> bool:
        """Take a result (partial or final) if it belongs to the current state; False when stale.

        A result of the current state brings the parameters drawn for it (if they were still
        pending) and rho(W) (if not known yet). A partial result (flow_progress < 1) leaves
        the session busy.
        """
        if result.request_id != self._request_id:
            return False
        shown = self.result
        if shown is not None and shown.request_id == result.request_id and \
                shown.flow_progress >= 1.0 and result.flow_progress < 1.0:
            return False                # a late partial never replaces the complete result
        if self._state.plan is not None and result.params is not None:
            self._install_params(result.params)
        if self._state.rho is None and np.isfinite(result.spectrum.spectral_radius):
            self._state = dataclasses.replace(self._state,
                                              rho=float(result.spectrum.spectral_radius))
        self.result = result
        if self.busy and result.flow_progress >= 1.0:
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

    # ----- whole-session I/O ----------------------------------------------------------------
    def to_dict(self) -> dict:
        """The session file content (JSON-ready): only non-seed matrices are stored."""
        doc = {"format": sessionfile.FORMAT, "version": sessionfile.VERSION,
               "config": cfg.to_dict(self.config)}
        stored = [n for n in PARAM_NAMES if n not in self._state.drawn]
        if stored:
            arrays = self._state.arrays()        # no drawing: stored matrices are never drawn
            doc["params"] = {n: arrays[n].tolist() for n in stored}
        doc["edited"] = sorted(self._state.edited)
        if self._fixed_inputs:
            doc["inputs"] = {n: a.tolist() for n, a in self._fixed_inputs.items()}
        doc["view"] = dict(self.view)
        if self.preset_name is not None:
            doc["preset"] = self.preset_name
        return doc

    def from_dict(self, d: dict, source: str = "dict") -> None:
        """Replace the whole session by a session dict; SessionFileError leaves it untouched."""
        self._replace_all(sessionfile.parse(d), source)
        self.dirty = False

    def load_file(self, path: str | os.PathLike) -> None:
        """Open a session file; SessionFileError (with a message) leaves the session untouched."""
        self._replace_all(sessionfile.load(path), str(path))
        self.path, self.dirty = str(path), False

    def save_file(self, path: str | os.PathLike) -> None:
        """Save the session atomically; SessionFileError when it cannot be written."""
        sessionfile.save(path, self.to_dict())
        self.path, self.dirty = str(path), False
        self.events.emit("saved", path=str(path))

    def load_preset(self, name: str) -> None:
        """Replace the session by a preset (KeyError for an unknown name)."""
        p = presets.get_preset(name)
        view = {"panels": dict(DEFAULT_PANELS), **p.view}
        self._replace_all({"config": p.config, "params": p.params, "edited": frozenset(),
                           "inputs": p.inputs, "view": view, "preset": p.name}, f"preset:{name}")
        self.dirty = False

    def share_code(self) -> str:
        """The configuration as a copy-pasteable share code (hand-edited weights not included)."""
        return sharecode.encode(self.config)

    def paste_share_code(self, text: str) -> list[Problem]:
        """Replace the set-up by a share code's; on a bad code nothing changes."""
        try:
            c = sharecode.decode(text)
        except ValueError as exc:
            return self._refuse("share code", str(exc))
        view = {**self.view, "t": min(self.t, c.T - 1), "b": min(self.b, c.m - 1)}
        self._replace_all({"config": c, "params": {}, "edited": frozenset(), "inputs": {},
                           "view": view, "preset": None}, "sharecode")
        self.dirty = True
        return []
