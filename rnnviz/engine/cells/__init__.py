"""Recurrent cells on one protocol (base.Cell), registered by name (registry.py): a new cell is a
new module here that registers itself with @register_cell, plus its import below (the order of
the imports is the order of the cell chooser)."""
from __future__ import annotations

# isort: off
from . import vanilla  # noqa: F401  (each cell module registers its class)
from . import lstm, gru  # noqa: F401
# isort: on
from .base import Arrays, Cell
from .registry import CELLS, get_cell, register_cell

__all__ = ["CELLS", "Arrays", "Cell", "get_cell", "register_cell"]
