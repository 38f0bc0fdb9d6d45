"""What the plots over training iterations share: drawing from the run's records (state), never
from the engine; the mark of the iteration shown, which the user drags to scrub back; the view
range kept in steps (axes repaint only when it changes); titles fitted to the plot area.

Every record is in the curves (state.training_curves.CurveCache); pyqtgraph's peak downsampling
thins only what is painted.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from rnnviz.state.training_curves import CurveCache
from rnnviz.ui.views.plotbase import PlotView
from rnnviz.ui.widgets.axes import plain
from rnnviz.ui.widgets.log_axis import IterationAxis, LogValueAxis

NICE_STEPS = (1, 1.5, 2, 3, 4, 5, 6, 8, 10)
EMPTY_TEXT_Z = 60              # the empty plot's hint: above the levels and the iteration line (50)
EMPTY_TEXT_MARGIN = 6.0        # px of box on either side of its longest line
EMPTY_LEVEL_LABEL = 24.0       # px under a dashed level that its label takes


def nice_ceiling(n: float, least: float = 10) -> float:
    """The smallest of 1, 1.5, 2, 3, 4, 5, 6, 8 x 10^k at or above n (and at least `least`)."""
    n = max(float(n), least)
    k = 10.0 ** np.floor(np.log10(n))
    return next(m * k for m in NICE_STEPS if m * k >= n)


def held_range(lo: float, hi: float, shown: tuple[float, float] | None,
               step: float) -> tuple[float, float] | None:
    """A y range for data from lo to hi on a grid of `step`, or None to keep `shown`: a range
    changes only when the data leave it or fill less than a quarter of it (so the axes, whose
    painting is cached, stay as they are for most frames)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    if hi - lo < step:
        middle = 0.5 * (lo + hi)
        lo, hi = middle - step / 2, middle + step / 2
    if shown is not None:
        s_lo, s_hi = shown
        if s_lo <= lo and hi <= s_hi and (hi - lo) >= 0.25 * (s_hi - s_lo):
            return None
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def log10_positive(values: np.ndarray) -> np.ndarray:
    """log10 of the values, NaN where a value is not a finite positive number."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(v)
    return np.where(np.isfinite(out), out, np.nan)


def finite_span(*arrays) -> tuple[float, float]:
    """(min, max) over the finite values of all arrays (nan, nan when there are none)."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in arrays])
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else (np.nan, np.nan)


def colour_word(text: str, colour: str) -> str:
    return f"<span style='color:{colour}'>{text}</span>"


class TrainingPlot(PlotView):
    """Base of the plots over iterations: draws from session.run's records, marks the shown
    iteration, and asks for an iteration when the user drags that mark."""

    iteration_picked = QtCore.Signal(int)
    result_events = ()
    timestep_events = ()
    always_reads_out = True     # (its line is there, blank, before a run: pressing Train no
                                # longer shrinks all four plots by a line at once, ~30 ms)
    log_y = False
    y_caption = ""
    empty_message = "Press Train: this plot fills in as the network trains"

    def __init__(self, session, curves: CurveCache | None = None, parent=None):
        super().__init__(session, parent)
        self.curves = curves if curves is not None else CurveCache()
        left = LogValueAxis("left") if self.log_y else pg.AxisItem("left")
        self.plot_item = self.graphics.addPlot(axisItems={"bottom": IterationAxis("bottom"),
                                                          "left": left})
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=True, y=False)
        plain(left)
        self.set_label(self.plot_item, "bottom", "iteration")
        self.set_label(self.plot_item, "left", self.y_caption)
        self.iteration_line = pg.InfiniteLine(angle=90, movable=True)
        self.iteration_line.setZValue(50)
        self.iteration_line.setToolTip("The iteration whose weights every view shows: drag it "
                                       "to scrub back through training")
        self.iteration_line.sigPositionChangeFinished.connect(self._line_dragged)
        self.iteration_line.setVisible(False)
        self.plot_item.addItem(self.iteration_line, ignoreBounds=True)
        self.cursors.append(self.iteration_line)        # styled like the t cursors
        self.empty_text = pg.TextItem(self.empty_message, anchor=(0.5, 0.5))
        self._empty_full, self._empty_short = self.empty_message, None   # (place_empty_text)
        self._empty_placed = None
        self.empty_text.setParentItem(self.plot_item.vb)
        self.empty_text.textItem.document().setDefaultTextOption(
            QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignCenter))
        self.empty_text.setZValue(EMPTY_TEXT_Z)    # over the dashed levels (baseline, c = 1)
        self.shown_key: tuple | None = None
        self.plot_item.vb.disableAutoRange()
        self.plot_item.hideButtons()
        self._y_range: tuple[float, float] | None = None
        self._x_top: float | None = None
        self._user_range = False        # the user zoomed or panned: leave the range alone
        self._run_key = None
        self.plot_item.vb.sigRangeChangedManually.connect(self._zoomed)

    def label_room(self) -> int:
        """The title is centred over the plot area, not the canvas: it may reach as far on
        either side of that centre as the nearer canvas edge allows."""
        rect = self.plot_item.vb.sceneBoundingRect()
        width = self.graphics.width()
        if rect.width() <= 0:
            return width - 16
        centre = rect.center().x()
        return int(2 * min(centre, width - centre) - 16)

    def _zoomed(self, *_) -> None:
        self._user_range = True

    def hold_range(self, x: np.ndarray, y_lo: float, y_hi: float, y_step: float,
                   sets_x: bool = True) -> None:
        """Keep the data in view, changing the range only in steps (see held_range)."""
        run_key = self.shown_key[0] if self.shown_key else None
        if run_key != self._run_key:            # a new run: manage the range again
            self._run_key, self._user_range = run_key, False
            self._y_range = self._x_top = None
        if self._user_range:
            return
        vb = self.plot_item.vb
        if sets_x and vb.linkedView(0) is None and x.size:
            first, last = float(x[0]), float(x[-1])
            top = nice_ceiling(last - first + 1) + first
            if top != self._x_top:
                self._x_top = top
                vb.setXRange(first, top, padding=0.02)
        y = held_range(y_lo, y_hi, self._y_range, y_step)
        if y is not None:
            self._y_range = y
            vb.setYRange(*y, padding=0.04)

    # ----- drawing -----------------------------------------------------------------------------
    def _on_event(self, name: str, **payload) -> None:
        if name == "training" and payload.get("live"):
            return          # the newest weights followed: the frame's tick draws the new records
                            # and moves the mark (one paint a frame, not one more per follow)
        if name in ("training", "loaded"):
            self.schedule(result=True)

    def flush(self) -> None:
        """Draw what is new in the run's records and move the iteration mark."""
        self._timer.stop()
        if not self._axes_plain:
            self._axes_plain = True
            for axis in self.axes():
                plain(axis)
        start = time.perf_counter()
        key = self.curves.update(self.session.run) + (self.session.training, self.style_.name)
        drawn = False
        if self._dirty_result and key != self.shown_key:
            self.shown_key = key
            self.draw_count += 1
            self.draw_curves()
            drawn = True
        self._dirty_result = self._dirty_t = False
        self._place_iteration_line()
        if drawn:
            self.last_draw_ms = (time.perf_counter() - start) * 1e3

    def refresh(self) -> None:
        self.shown_key = None
        self._dirty_result = True
        self.flush()

    def draw_result(self, result) -> None:          # the base class's hook: not used here
        self.draw_curves()

    def draw_timestep(self, result) -> None:
        pass

    def draw_curves(self) -> None:
        raise NotImplementedError

    def iterations(self) -> np.ndarray:
        return self.curves.column("iteration").astype(np.float64)

    def _place_iteration_line(self) -> None:
        k = self.session.selection_iteration
        shown = k is not None and self.curves.n > 0
        if self.iteration_line.isVisible() != shown:
            self.iteration_line.setVisible(shown)
        if k is not None and self.iteration_line.value() != k:
            blocker = QtCore.QSignalBlocker(self.iteration_line)
            self.iteration_line.setValue(k)
            del blocker
        empty = self.curves.n == 0
        if self.empty_text.isVisible() != empty:
            self.empty_text.setVisible(empty)
        if empty:                           # (placed at every frame only while it shows)
            self.place_empty_text()

    def place_empty_text(self) -> None:
        """The empty plot's hint, wrapped to the plot area (narrow plots too), at a height clear
        of the dashed levels and their labels (_empty_text_y), in a box of the background's
        colour just wide enough for its lines. Where no gap between the levels holds it whole
        (a small plot, the hint wrapped to many lines), it says only what comes before its ':'
        ('Press Train'); where even that does not fit, a level stops at the box instead of
        striking the words through."""
        vb = self.plot_item.vb
        text = self.empty_text
        shown = text.textItem.toPlainText()
        full = self._empty_full if shown == self._empty_short else shown
        bands = self._level_bands()
        placed = (shown, full, vb.width(), vb.height(), bands)   # (what it was placed for:
        if placed == self._empty_placed:                         # each frame, while it shows)
            return
        room = max(80.0, vb.width() - 24.0)
        for message in dict.fromkeys((full, full.split(":")[0].strip() or full)):
            if message != shown:
                text.setText(message)
                shown = message
            text.setTextWidth(room)
            fit = text.textItem.document().idealWidth() + 2 * EMPTY_TEXT_MARGIN
            if fit < room:
                text.setTextWidth(fit)
            y = self._empty_text_y(text.boundingRect().height(), bands)
            if y is not None:
                break
        self._empty_full, self._empty_short = full, (shown if shown != full else None)
        self._empty_placed = (shown, full, vb.width(), vb.height(), bands)
        text.setPos(vb.width() / 2, vb.height() / 2 if y is None else y)

    def _level_bands(self) -> tuple[tuple[float, float], ...]:
        """(top, bottom) in the plot's pixels of each dashed level with its label under it."""
        vb = self.plot_item.vb
        bands = []
        for item in vb.addedItems:
            if isinstance(item, pg.InfiniteLine) and item.angle == 0 and item.isVisible():
                y = vb.mapFromView(QtCore.QPointF(0.0, float(item.value()))).y()
                bands.append((y - 4.0, y + EMPTY_LEVEL_LABEL))
        return tuple(sorted(bands))

    def _empty_text_y(self, height: float, bands) -> float | None:
        """The hint's centre: the middle of the plot where no level band passes there, else the
        height nearest the middle in a gap between the bands (sorted) that holds it whole; None
        where no gap does."""
        total = self.plot_item.vb.height()
        middle, half = total / 2, height / 2 + 1.0
        best, low = None, 0.0                               # low: where the gap begins
        for top, bottom in bands + ((total, np.inf),):
            if top - low >= 2 * half:                       # the gap [low, top] holds the hint
                y = min(max(middle, low + half), top - half)
                if best is None or abs(y - middle) < abs(best - middle):
                    best = y
            low = max(low, bottom)
        return best

    def _line_dragged(self, line) -> None:
        value = line.value()
        if np.isfinite(value):
            self.iteration_picked.emit(max(0, int(round(value))))

    def set_curve(self, curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        curve.setData(x, y, connect="finite", antialias=curve.opts["antialias"])

    def curve_data(self, curve: pg.PlotDataItem) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of a curve as given to it (log10 values on a log plot): every record."""
        x, y = curve.getOriginalDataset()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def new_curve(self, name: str, antialias: bool = True) -> pg.PlotDataItem:
        # peak downsampling to about 2 points per pixel (min and max of each pixel's records):
        # a long run paints as fast as a short one and no spike is lost; only what is in view
        curve = pg.PlotDataItem(connect="finite", name=name, autoDownsampleFactor=1.0,
                                antialias=antialias)
        self.plot_item.addItem(curve)           # (the plot sets its items' downsampling: after)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        return curve

    def restyle(self, style) -> None:
        self.empty_text.setColor(style.foreground)
        self.empty_text.setFont(style.font())
        self._empty_placed = None                       # (its size changed with the font)
        self.empty_text.fill = pg.mkBrush(style.background)
        self.empty_text.update()
        self.restyle_curves(style)

    def restyle_curves(self, style) -> None:
        pass

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.place_empty_text()


def horizontal_line(text: str) -> pg.InfiniteLine:
    """A dashed level (baseline, threshold) with its label at the left, under the line."""
    line = pg.InfiniteLine(angle=0, movable=False, label=text,
                           labelOpts={"position": 0.02, "anchors": [(0, 0), (0, 0)]})
    line.setZValue(20)
    return line
