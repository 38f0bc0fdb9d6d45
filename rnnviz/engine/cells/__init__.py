"""Recurrent cells on one protocol (base.Cell), registered by name (registry.py): a new cell is a
new module here that registers itself, plus its import below."""
from __future__ import annotations

from . import vanilla  # noqa: F401  (each cell module registers its class)
from .base import Arrays, Cell
from .registry import CELLS, get_cell, register_cell

__all__ = ["CELLS", "Arrays", "Cell", "get_cell", "register_cell"]

# The gated cells, registered here rather than by a decorator in their modules: a cell module
# imports nothing from this package, so the import graph has no cycle (tests/test_architecture.py).
from .gru import GRUCell  # noqa: E402
from .lstm import LSTMCell  # noqa: E402

register_cell(LSTMCell)
register_cell(GRUCell)
