"""Putting a heatmap's image on its ImageItem: a small one as float64 that pyqtgraph colours
through the colour bar (as ever), a large one as the worker's ready image (state/ready_images.py:
8-bit colour indices, already reduced), which Qt paints from its colour table at once."""
from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from rnnviz.state.ready_images import COLOURS, NONFINITE, ReadyImage

_LUTS: dict[str, np.ndarray] = {}       # colour map name -> ready_lut (a few ms to make)


def ready_lut(colormap: pg.ColorMap) -> np.ndarray:
    """(256, 4) uint8 RGBA colour table of a ready image: COLOURS colours of the map spread
    over the levels, then NONFINITE transparent (as pyqtgraph paints NaN)."""
    lut = _LUTS.get(colormap.name)
    if lut is None:
        lut = np.zeros((NONFINITE + 1, 4), np.uint8)
        lut[:COLOURS] = colormap.getLookupTable(nPts=COLOURS, alpha=True)
        _LUTS[colormap.name] = lut
    return lut


class HeatmapImage:
    """A heatmap's ImageItem and colour bar: shows a float image or a ready one, and keeps a
    ready image at the level of detail the plot's pixels call for (on resize and zoom)."""

    def __init__(self, item: pg.ImageItem, colorbar: pg.ColorBarItem, viewbox: pg.ViewBox):
        self.item, self.colorbar, self.viewbox = item, colorbar, viewbox
        self.ready: ReadyImage | None = None
        self.level: tuple[int, int] | None = None     # the ready image's level shown
        self.corner = (0.5, 0.5)
        self.rows_span: float | None = None           # units the ready rows are stretched to
        viewbox.sigResized.connect(lambda *_: self._repick())
        viewbox.sigRangeChanged.connect(lambda *_: self._repick())

    def show(self, image: np.ndarray, levels, colormap: pg.ColorMap, rect,
             ready: ReadyImage | None = None, rows_span: float | None = None) -> None:
        """A float64 image over rect = (x, y, width, height) in data units, coloured by
        pyqtgraph (the colour bar setting its levels and map); or, given `ready`, its colour
        indices from the same corner over its blocks' extent (the colour bar then only shows
        the scale), the rows stretched to rows_span units when given (stacked blocks)."""
        x, y, width, height = rect
        self.ready, self.corner, self.rows_span, self.level = ready, (x, y), rows_span, None
        if ready is None:
            if not any(ref() is self.item for ref in self.colorbar.img_list):
                self.colorbar.img_list = [weakref.ref(self.item)]    # it colours the item again
                self.item.setColorMap(colormap)
            self.item.setImage(image, autoLevels=False, levels=levels, autoDownsample=True)
            self.item.setRect(QtCore.QRectF(x, y, width, height))
            return
        self.colorbar.img_list = []                   # levels and map stay as set here
        self.item.setLookupTable(ready_lut(colormap), update=False)
        self._repick(force=True)

    def _repick(self, force: bool = False) -> None:
        ready = self.ready
        if ready is None:
            return
        units, steps = self._cells_per_pixel()
        level = ready.pick(units, steps)
        if level == self.level and not force:
            return
        self.level = level
        self.item.setImage(ready.pyramid[level[0]][level[1]], autoLevels=False, levels=None,
                           autoDownsample=False)
        height, width = ready.extent(*level)
        if self.rows_span is not None:
            height = self.rows_span
        self.item.setRect(QtCore.QRectF(*self.corner, width, height))

    def _cells_per_pixel(self) -> tuple[float, float]:
        """(units, steps) one screen pixel of the plot spans (1, 1 before it is laid out)."""
        sx, sy = self.viewbox.viewPixelSize()
        ok = all(np.isfinite(v) and v > 0 for v in (sx, sy))
        return (abs(sy), abs(sx)) if ok else (1.0, 1.0)
