"""The registry of cells: each cell module registers its class by name (a new cell is a new module)."""
from __future__ import annotations

from .base import Cell

CELLS: dict[str, type[Cell]] = {}
_INSTANCES: dict[tuple[type[Cell], str], Cell] = {}


def register_cell(cls: type[Cell]) -> type[Cell]:
    """Class decorator: make a cell available by its name (get_cell, the cell chooser, files)."""
    CELLS[cls.name] = cls
    return cls


def get_cell(name: str, activation: str = "tanh") -> Cell:
    """The cell called name with the given activation; ValueError naming the known cells.

    Cells hold nothing but their activation, so one instance per (cell, activation) is shared.
    """
    cls = CELLS.get(name) if isinstance(name, str) else None
    if cls is None:
        known = ", ".join(repr(n) for n in CELLS)
        raise ValueError(f"cell: expected one of {known}; got {name!r}")
    if not isinstance(activation, str):
        return cls(activation)
    cell = _INSTANCES.get((cls, activation))
    if cell is None:
        cell = _INSTANCES[cls, activation] = cls(activation)
    return cell
