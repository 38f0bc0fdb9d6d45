"""Looks shared by every plot: fonts, line widths, colours and colour maps for screen, projector,
print; and saving and restoring the window's own fonts around a change of look."""
from __future__ import annotations

from dataclasses import dataclass, replace

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets


@dataclass(frozen=True)
class Style:
    """One complete look; views read every colour and size from here."""
    name: str
    font_pt: float            # axis labels, legends, readouts
    title_pt: float           # plot titles
    tick_pt: float            # tick numbers
    line_width: float         # curves
    background: str
    foreground: str           # text, axes
    grid_alpha: float
    cursor: str               # the selected-t cursor
    curves: tuple[str, str, str, str]   # flow plot: total grad, last-step grad, Jacobian, bound
    bar: str                  # ordinary softmax / connectivity bar
    target: str               # the target class
    argmax: str               # the arg-max class
    eigen: str                # eigenvalue markers
    nonfinite: tuple[int, int, int, int]   # shading of non-finite steps (RGBA)
    diverging_map: str        # hidden states (centred)
    magnitude_map: str        # log-magnitude of gradients
    warning: str              # status bar warnings

    def font(self, pt: float | None = None, bold: bool = False) -> QtGui.QFont:
        """A QFont of this style's size (or pt)."""
        f = QtGui.QFont()
        f.setPointSizeF(pt or self.font_pt)
        f.setBold(bold)
        return f

    def pen(self, colour: str, width: float | None = None, dash: bool = False):
        """A cosmetic pen in a colour, the style's line width unless given."""
        p = pg.mkPen(colour, width=width if width is not None else self.line_width)
        if dash:
            p.setStyle(pg.QtCore.Qt.DashLine)
        return p

    def colormap(self, kind: str) -> pg.ColorMap:
        """The diverging ("diverging", white at 0), one-sided ("positive": the diverging map's
        upper half, white at 0 to red) or magnitude ("magnitude") colour map (made once: a
        ColorMap takes ~3 ms to build, at every live result of a heatmap)."""
        key = (self.magnitude_map if kind == "magnitude" else self.diverging_map, kind)
        if key not in _COLOUR_MAPS:
            if kind == "magnitude":
                made = pg.colormap.get(self.magnitude_map)
            else:
                diverging = pg.colormap.get(self.diverging_map)
                made = diverging.getSubset(0.5, 0.5) if kind == "positive" else diverging
            _COLOUR_MAPS[key] = made
        return _COLOUR_MAPS[key]


_COLOUR_MAPS: dict[tuple[str, str], pg.ColorMap] = {}     # (map name, kind) -> ColorMap


NORMAL = Style(
    name="normal", font_pt=10, title_pt=11, tick_pt=9, line_width=2.0,
    background="#ffffff", foreground="#222222", grid_alpha=0.25, cursor="#d62728",
    curves=("#1f77b4", "#2ca02c", "#9467bd", "#7f7f7f"),
    bar="#8fa8c8", target="#2ca02c", argmax="#ff7f0e", eigen="#1f77b4",
    nonfinite=(220, 30, 30, 70), diverging_map="CET-D1A", magnitude_map="viridis",
    warning="#c00000",
)
PRESENTATION = replace(
    NORMAL, name="presentation", font_pt=15, title_pt=17, tick_pt=13, line_width=3.5,
    foreground="#000000", grid_alpha=0.35, cursor="#e00000", bar="#5a7fb0",
)
PRINT_LIGHT = replace(NORMAL, name="print-light", font_pt=13, title_pt=14, tick_pt=12,
                      line_width=2.5, foreground="#000000")
PRINT_DARK = replace(
    PRINT_LIGHT, name="print-dark", background="#111111", foreground="#eeeeee",
    curves=("#6cb6ff", "#7ee787", "#d2a8ff", "#bbbbbb"), bar="#7f9fcf", eigen="#6cb6ff",
    cursor="#ff5555", warning="#ff6666",
)


def widget_fonts(window) -> list[tuple[QtWidgets.QWidget, QtGui.QFont]]:
    """The fonts MainWindow.apply_style sets outside the plots (time bar, status bar), to put back.

    (A window starts in the application's default font, which Style NORMAL does not repeat.)"""
    status = window.status
    widgets = (window.timebar, status, status.warning, status.loss, status.rho, status.sigma,
               status.ms)
    return [(w, QtGui.QFont(w.font())) for w in widgets]


def restore_fonts(fonts) -> None:
    """Put back the fonts widget_fonts() saved."""
    for widget, font in fonts:
        widget.setFont(font)
