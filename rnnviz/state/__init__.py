"""Qt-free application state: validated config, session, compute, presets, session files, share codes.

``from rnnviz.state import Session`` works; the submodules hold the details (see docs/design.md).
"""
from rnnviz.state.config import DEFAULT, Config, Problem, validate
from rnnviz.state.events import Events

__all__ = ["DEFAULT", "Config", "Problem", "validate", "Events", "Session"]


def __getattr__(name):
    # Session pulls in the engine; load it on first use so config-only users stay light.
    if name == "Session":
        from rnnviz.state.session import Session
        return Session
    raise AttributeError(f"module 'rnnviz.state' has no attribute {name!r}")
