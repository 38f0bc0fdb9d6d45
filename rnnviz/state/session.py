"""rnnviz 0.1's name for the workspace: ``Session`` is ``workspace.Workspace`` (see workspace.py)."""
from rnnviz.state.workspace import DEFAULT_PANELS, MAX_WEIGHT, PARAM_NAMES, Session, Workspace

__all__ = ["DEFAULT_PANELS", "MAX_WEIGHT", "PARAM_NAMES", "Session", "Workspace"]
