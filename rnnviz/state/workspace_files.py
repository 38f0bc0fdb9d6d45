"""The workspace's whole-session I/O: session files, presets, imported weights, share codes.

A mixin of workspace.Workspace (it uses the workspace's set-up, view, run, events and
_replace_all); kept apart so each module reads in one sitting. Every loader checks first and
replaces the whole state only when all is well: a bad file, code or preset changes nothing.
"""
from __future__ import annotations

import os

from rnnviz.state import presets, sessionfile, sharecode, training
from rnnviz.state import selection as sel
from rnnviz.state import setup as su
from rnnviz.state.config import Problem
from rnnviz.state.sharing import share as _share
from rnnviz.state.sharing import unshare as _unshare


class FilesMixin:
    """Workspace methods that read or write a whole session (see the module docstring)."""

    def to_dict(self) -> dict:
        """The session file content (JSON-ready): only non-seed matrices are stored."""
        setup = self.setup
        if self.run is not None:
            # The run's newest state, whatever iteration the views show (scrubbed back): its
            # weights, iteration and optimiser state belong together, so a reopened session
            # trains on exactly as this one would. "Continue from here" first keeps an earlier one.
            latest = self.run.latest_state()            # one state: training may go on
            run = training.run_doc(self.run, latest)
            setup = su.with_trained(setup, latest[1].copy())
        doc = {"format": sessionfile.FORMAT, "version": sessionfile.VERSION,
               **su.to_doc(setup), "view": self.view}
        if self.run is not None:
            doc["run"] = run
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
        view = {"panels": dict(sel.DEFAULT_PANELS), **p.view}
        self._replace_all({"config": p.config, "params": p.params, "edited": frozenset(),
                           "inputs": p.inputs, "view": view, "preset": p.name,
                           "training": p.training}, f"preset:{name}")
        self.dirty = False

    def load_weights(self, imported, activation: str | None = None) -> list[Problem]:
        """Replace the network by weights read from a file (state/weights_io.py: an Imported):
        its cell, sizes and precision from the file, the data settings made to fit (each change
        said in a "message"); the training set-up goes. Problems change nothing."""
        from rnnviz.state import weights_io
        try:
            c, messages = weights_io.session_config(self.config, imported, activation)
        except weights_io.WeightsError as exc:
            return self._refuse("weights", str(exc))
        view = {**self.view, "t": min(self.t, c.T - 1), "b": min(self.b, c.m - 1)}
        try:
            self._replace_all({"config": c, "params": imported.params.as_dict(),
                               "edited": frozenset(), "inputs": {}, "view": view,
                               "preset": None}, f"weights:{imported.source}")
        except sessionfile.SessionFileError as exc:
            return self._refuse("weights", str(exc))
        self.dirty, self.path = True, None
        for text in (*imported.messages, *messages):
            self.events.emit("message", text=text)
        return []

    def share_code(self) -> str:
        """The set-up as a copy-pasteable share code (see share() for what it leaves out)."""
        return self.share()[0]

    def share(self) -> tuple[str, list[str]]:
        """(share code, notes): the code brings back the configuration, the preset (its
        explanation), the view choices, the selected t and b, and the hand-edited weights
        while the code stays within sharecode.SHARE_BUDGET characters; each note says
        plainly what the code leaves out."""
        code, notes = _share(self)
        return code, notes

    def paste_share_code(self, text: str) -> list[Problem]:
        """Replace the set-up by a share code's; on a bad code nothing changes.

        A message event says what the code did not bring (unknown preset, weights)."""
        try:
            shared = sharecode.unpack(text)
            parsed, notes = _unshare(shared, self.view)
            self._replace_all(parsed, "sharecode")
        except (ValueError, sessionfile.SessionFileError) as exc:
            return self._refuse("share code", str(exc))
        self.dirty = True
        for note in notes:
            self.events.emit("message", text=note)
        return []

