"""The selection: what the user looks at (time step t, batch element b, panels, view choices).

Shared by every set-up of a workspace; saved with the session (the file's "view" entry) and
validated by sessionfile.check_view. t is 0-based (the window shows t + 1).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from rnnviz.state import sessionfile
from rnnviz.state.config import Config

DEFAULT_PANELS = {"editors": True, "weights": True, "explanation": True, "inputs": True,
                  "states": True,
                  "gradients": True, "softmax": True, "flow": True, "spectrum": True,
                  "connectivity": True}


@dataclass(frozen=True)
class Selection:
    """t, b and the other view entries (panels, presentation, speed, loop, gradient, ...)."""

    t: int = 0
    b: int = 0
    extras: dict = field(default_factory=lambda: {"panels": dict(DEFAULT_PANELS)})

    def as_view(self) -> dict:
        """The session file's "view" dict (a fresh copy)."""
        return {"t": self.t, "b": self.b, **{k: _copy(v) for k, v in self.extras.items()}}

    def shows(self, panel: str) -> bool:
        """Whether a panel is shown (panels not named are shown)."""
        return bool(self.extras.get("panels", {}).get(panel, True))

    def clamped(self, config: Config) -> Selection:
        """t and b moved into 0..T-1 and 0..m-1."""
        return dataclasses.replace(self, t=min(self.t, config.T - 1), b=min(self.b, config.m - 1))


def _copy(value):
    return dict(value) if isinstance(value, dict) else value


def from_view(view: dict, config: Config) -> Selection:
    """A selection from a view dict (SessionFileError when it does not fit the config)."""
    view = sessionfile.check_view(view, config)
    extras = {k: v for k, v in view.items() if k not in ("t", "b")}
    extras.setdefault("panels", dict(DEFAULT_PANELS))
    return Selection(view["t"], view["b"], extras)


def first(config: Config) -> Selection:
    """The selection a new set-up opens on: the last step, the first example, every panel."""
    return Selection(config.T - 1, 0)
