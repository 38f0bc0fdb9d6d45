"""Recurrent cells on one protocol (base.Cell), registered by name: a new cell is a new module
here, registered below. A cell module imports nothing from this package's __init__ (only .base,
.registry and the engine's lower modules), so the import graph has no cycle."""
from __future__ import annotations

from .base import Arrays, Cell
from .registry import CELLS, get_cell, register_cell
from .vanilla import VanillaCell

register_cell(VanillaCell)

__all__ = ["CELLS", "Arrays", "Cell", "VanillaCell", "get_cell", "register_cell"]
