"""The workspace's training: choosing a task, running, following, scrubbing, branching, resetting.

A mixin of workspace.Workspace (it uses the workspace's set-up, events and _changed); kept apart
so each module reads in one sitting. The run itself is state/training.py's TrainingRun.
"""
from __future__ import annotations

import dataclasses

from rnnviz.state import setup as su
from rnnviz.state import training
from rnnviz.state.config import Problem

RUN_FIELDS = frozenset({"n_s", "activation", "cell", "dtype"})   # the run's trainer reads these


class TrainingMixin:
    """Workspace methods for live training (see the module docstring)."""

    def _end_run_on_edit(self, change: su.Change) -> None:
        """A change of the network itself (its weights, n_s, the activation, the cell, the dtype)
        ends the training run: the run trains its own copy and would go on from the old network.
        The next Train starts a new run from the network as it is now."""
        if self.run is None or not (change.params or RUN_FIELDS.intersection(change.fields)):
            return
        self.run, self._untrained, self._shown_iteration = None, None, None
        self.events.emit("message", text="the network was changed by hand: the training run "
                                          "ended; Train starts a new one from this network")
        self.events.emit("training", what="reset")

    @property
    def training(self) -> training.TrainingSetup | None:
        """The set-up's training set-up (task, optimiser, clipping, seed), if it has one."""
        return self.setup.training

    def set_training(self, **changes) -> list[Problem]:
        """Choose or change the training set-up (task, task_options, m, optimizer, lr,
        optimizer_options, clip, clip_threshold, seed). A task of other sizes re-sizes the network
        (and re-draws it) and ends the run; other changes go to the running run at its next
        iteration. Problems change nothing."""
        base = self.training.to_dict() if self.training is not None else {}
        try:
            new = training.make_training(**{**base, **changes})
        except training.TrainingError as exc:
            return self._refuse("training", str(exc))
        old = self.training
        same_data = old is not None and (new.task, new.task_options, new.seed) == \
            (old.task, old.task_options, old.seed)
        if same_data:
            self.setup = dataclasses.replace(self.setup, training=new)
            self.dirty = True
            if self.run is not None:
                self.run.retune(new)
            self._set_problems([])
            self.events.emit("training", what="settings")
            return []
        try:
            change = su.with_training(self._untrained or self.setup, new)
        except su.Refused as exc:
            return self._set_problems(exc.problems)
        self.run, self._untrained = None, None
        self._changed(change)
        for text in change.messages:
            self.events.emit("message", text=text)
        self.events.emit("training", what="reset")
        return []

    def start_training(self, iterations: int | None = None, server=None):
        """A stream of training iterations for the worker (jobs.Stream), from where the run is
        (a new run from the current parameters when there is none); trained in this process, or
        in a child process given a training_process.TrainingServer."""
        if self.training is None:
            raise ValueError("training: choose a task first (set_training)")
        if self.run is None:
            self._untrained = self.setup
            self.run = training.TrainingRun(self.params, self.training,
                                            activation=self.config.activation)
        self._next_job += 1
        return self.run.stream(self._next_job, iterations, server=server)

    def follow_training(self) -> bool:
        """Show the run's newest parameters in every view (call at screen rate); False when
        nothing new. A run that stopped on a non-finite value says why, once."""
        if self.run is None:
            return False
        iteration, params = self.run.latest()
        if iteration == self.selection_iteration and not self.run.stopped:
            return False
        return self._show_trained(iteration, params, live=True)

    @property
    def selection_iteration(self) -> int | None:
        """The training iteration whose weights the views show (None: not training)."""
        return self._shown_iteration

    def _show_trained(self, iteration: int, params, live: bool = False) -> bool:
        """Show the weights of `iteration`; live: the newest while a run trains (the event says
        so: the training plots then move their iteration mark at their next frame)."""
        self._shown_iteration = iteration
        self._changed(su.Change(su.with_trained(self.setup, params), (), su.param_names(self.setup)),
                      config_event=False)
        self.events.emit("training", what="iteration", iteration=iteration, live=live)
        return True

    def show_iteration(self, k: int) -> list[Problem]:
        """Scrub back: every view shows the weights kept nearest iteration k (at or before it)."""
        if self.run is None:
            return self._refuse("training", "nothing trained yet")
        snap = self.run.snapshot_at(int(k))
        self._show_trained(snap.iteration, snap.params.copy())
        return []

    def branch_training(self) -> list[Problem]:
        """Continue from the iteration shown: a new run from its snapshot (later records go)."""
        k = self.selection_iteration
        if self.run is None or k is None:
            return self._refuse("training", "nothing trained yet")
        self.run = self.run.branch(k)
        self._show_trained(self.run.iteration, self.run.latest()[1].copy())
        self.events.emit("training", what="branch")
        return []

    def reset_training(self) -> list[Problem]:
        """Back to the weights before training (the run and its records go)."""
        if self._untrained is not None:
            self.setup = dataclasses.replace(self._untrained, training=self.training)
        self.run, self._untrained, self._shown_iteration = None, None, None
        self._changed(su.Change(self.setup, (), su.param_names(self.setup)), config_event=False)
        self.events.emit("training", what="reset")
        return []
