"""Recurrent cells on one protocol (base.Cell), registered by name: a new cell is a new module here."""
from __future__ import annotations

from .base import Arrays, Cell

CELLS: dict[str, type[Cell]] = {}


def register_cell(cls: type[Cell]) -> type[Cell]:
    """Class decorator: make a cell available by its name (get_cell, the cell chooser, files)."""
    CELLS[cls.name] = cls
    return cls


def get_cell(name: str, activation: str = "tanh") -> Cell:
    """The cell called name with the given activation; ValueError naming the known cells."""
    if name not in CELLS:
        known = ", ".join(repr(n) for n in CELLS)
        raise ValueError(f"cell: expected one of {known}; got {name!r}")
    return CELLS[name](activation)


__all__ = ["CELLS", "Arrays", "Cell", "get_cell", "register_cell"]

# The gated cells, registered here rather than by a decorator in their modules: a cell module
# imports nothing from this package, so the import graph has no cycle (tests/test_architecture.py).
from .gru import GRUCell  # noqa: E402
from .lstm import LSTMCell  # noqa: E402

register_cell(LSTMCell)
register_cell(GRUCell)
