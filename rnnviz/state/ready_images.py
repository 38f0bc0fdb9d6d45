"""Heatmap images ready to paint, made on the worker (Qt-free): reduced to the screen's useful
resolution and quantised to 8-bit colour indices, so the UI thread only hands them to Qt.

A large heatmap (units × T ≥ READY_MIN_CELLS) is reduced in blocks of whole cells to at most
MAX_ROWS × MAX_COLUMNS pixels (more rows or columns than a heatmap has pixels on any screen
would be dropped again by the painter), and again to each coarser level halving the rows
and/or the columns down to MIN_PIXELS: the view shows the level its plot's pixels call for
(ReadyImage.pick, as pyqtgraph chose its downsampling factor), re-picked on resize and zoom.
Then each pixel gets the index of its colour among
COLOURS colours spread evenly over the levels, the formula pyqtgraph applies to a float image:
index = clip(floor((v − lower) · COLOURS / (upper − lower)), 0, COLOURS − 1). A pixel whose
block holds a value that is not finite gets NONFINITE, painted transparent (as pyqtgraph paints
NaN). The view keeps the full float64 array for its readouts: hovering reads the engine's number.

How a block is reduced, per view (the `reduction` argument):
- "max" for log10|dL/ds_t| (the largest magnitude of the block: log10 is increasing, so the
  block's colour is that of max |g|; a single exploding or surviving unit stays visible) and
  for inputs that are never negative (a one-hot input's lit cell stays lit);
- "mean" for states, gates and signed inputs (the block's average, as pyqtgraph's own
  downsampling did).
Smaller heatmaps are not prepared: the views colour the float64 image as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ROWS = 1024              # at most this many pixel rows (units) ...
MAX_COLUMNS = 2048           # ... and pixel columns (steps) in a ready image
READY_MIN_CELLS = 1 << 18    # heatmaps of fewer cells (256 × 1024) stay float64 images
COLOURS = 255                # colour indices 0 .. COLOURS − 1 over the levels
NONFINITE = 255              # the index of a block holding a non-finite value (transparent)
MIN_PIXELS = 64             # the coarsest level still has this many rows and columns (or all)
REDUCTIONS = ("mean", "max")


@dataclass(frozen=True)
class ReadyImage:
    """uint8 colour indices of a heatmap at several resolutions. At level (i, j) a pixel shows
    a block of block(i, j) = (base[0]·2^i units, base[1]·2^j steps): pixel (r, c) shows units
    r·bu .. (r+1)·bu − 1 and steps c·bt .. (c+1)·bt − 1 (the last row and column of blocks may
    hold fewer cells). The view shows the level its screen pixels call for (`pick`)."""
    pyramid: tuple[tuple[np.ndarray, ...], ...]   # pyramid[i][j]: uint8 (rows, columns)
    base: tuple[int, int]           # cells per pixel at level (0, 0): (units, steps)
    reduction: str                  # "mean" or "max"

    @property
    def indices(self) -> np.ndarray:
        """The finest level's indices (level (0, 0))."""
        return self.pyramid[0][0]

    def block(self, i: int = 0, j: int = 0) -> tuple[int, int]:
        """Cells per pixel, (units, steps), at level (i, j)."""
        return self.base[0] << i, self.base[1] << j

    def extent(self, i: int = 0, j: int = 0) -> tuple[int, int]:
        """(units, steps) the pixels of level (i, j) cover: the heatmap's, or more by less than
        one block."""
        rows, columns = self.pyramid[i][j].shape
        bu, bt = self.block(i, j)
        return rows * bu, columns * bt

    def pick(self, units_per_pixel: float, steps_per_pixel: float) -> tuple[int, int]:
        """The level (i, j) to show where one screen pixel spans this many units and steps:
        per axis the coarsest whose blocks are not larger than a screen pixel (as pyqtgraph
        picks its downsampling factor; the finest level when even that is coarser)."""
        def level(per_pixel: float, base: int, count: int) -> int:
            k = 0
            while k + 1 < count and base << (k + 1) <= per_pixel:
                k += 1
            return k
        return (level(units_per_pixel, self.base[0], len(self.pyramid)),
                level(steps_per_pixel, self.base[1], len(self.pyramid[0])))


def block_shape(units: int, steps: int) -> tuple[int, int]:
    """Cells per pixel, (units, steps): the smallest whole blocks fitting MAX_ROWS × MAX_COLUMNS."""
    return -(-units // MAX_ROWS), -(-steps // MAX_COLUMNS)


def _check(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _combine(values: np.ndarray, size: int, axis: int, reduction: str) -> np.ndarray:
    """Sums (mean) or maxima of consecutive runs of `size` along an axis (a shorter last run).

    By strided slices, whole passes that release the GIL (np.ufunc.reduceat holds it, and
    was 20x slower): the UI thread keeps running while the worker reduces."""
    if size == 1:
        return values
    ufunc = np.add if reduction == "mean" else np.maximum      # both propagate NaN
    n = values.shape[axis]
    whole = n - n % size

    def run(k):                          # the k-th cell of every whole run
        return values[(slice(None),) * axis + (slice(k, whole, size),)]
    out = run(0).copy()
    for k in range(1, size):
        ufunc(out, run(k), out=out)
    if whole < n:                        # the last, shorter run
        tail = values[(slice(None),) * axis + (slice(whole, n),)]
        out = np.concatenate([out, ufunc.reduce(tail, axis=axis, keepdims=True)], axis=axis)
    return out


def _counts(n: int, size: int) -> np.ndarray:
    """The number of cells in each run of `size` of n cells."""
    return np.diff(np.append(np.arange(0, n, size), n)).astype(np.float64)


def reduce_blocks(image: np.ndarray, block: tuple[int, int], reduction: str) -> np.ndarray:
    """The mean or max of each block of a float image (partial blocks at the ends reduce over
    the cells they hold); NaN where a block holds a NaN."""
    _check(reduction)
    image = np.asarray(image, dtype=np.float64)
    out = _combine(_combine(image, block[0], 0, reduction), block[1], 1, reduction)
    if reduction == "mean":
        out = out / np.multiply.outer(_counts(image.shape[0], block[0]),
                                      _counts(image.shape[1], block[1]))
    return out


def colour_indices(image: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """uint8 colour index of every value (see the module docstring), NONFINITE where NaN
    (drawable images hold NaN for every value that is not finite)."""
    lo, hi = float(levels[0]), float(levels[1])
    span = hi - lo if hi != lo else 1.0
    image = np.asarray(image, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = image - lo
        scaled *= COLOURS / span
        np.floor(scaled, out=scaled)
        np.clip(scaled, 0, COLOURS - 1, out=scaled)       # ±inf to the ends
        index = scaled.astype(np.uint8)                  # (NaN casts to anything: set below)
    index[np.isnan(image)] = NONFINITE
    return index


def ready_image(image: np.ndarray, levels: tuple[float, float], reduction: str
                ) -> ReadyImage | None:
    """The ready image of a units × T float image (drawable: clipped, NaN where not finite),
    or None for a heatmap small enough to colour as a float image.

    Levels halve the resolution per axis down to MIN_PIXELS pixels, each made from the one
    before: block sums compose exactly (means are coloured level by level), and so do maxima;
    as the colour index never falls as the value rises and NONFINITE is the largest index,
    the maxima of a level's indices are the indices of its block maxima (NaN included)."""
    _check(reduction)
    units, steps = image.shape
    if units * steps < READY_MIN_CELLS:
        return None
    base = block_shape(units, steps)
    image = np.asarray(image, dtype=np.float64)
    if reduction == "max":
        rows = colour_indices(reduce_blocks(image, (base[0], 1), "max"), levels)
        row_counts = None
    else:
        rows, row_counts = _combine(image, base[0], 0, "mean"), _counts(units, base[0])
    pyramid = []
    while True:
        level, column_counts = _combine(rows, base[1], 1, reduction), _counts(steps, base[1])
        row_levels = []
        while True:
            if reduction == "mean":
                means = level / np.multiply.outer(row_counts, column_counts)
                row_levels.append(colour_indices(means, levels))
            else:
                row_levels.append(np.ascontiguousarray(level))
            if level.shape[1] <= MIN_PIXELS:
                break
            level = _combine(level, 2, 1, reduction)
            column_counts = _combine(column_counts, 2, 0, "mean")      # sums of the counts
        pyramid.append(tuple(row_levels))
        if rows.shape[0] <= MIN_PIXELS:
            break
        rows = _combine(rows, 2, 0, reduction)
        if row_counts is not None:
            row_counts = _combine(row_counts, 2, 0, "mean")
    return ReadyImage(tuple(pyramid), base, reduction)
