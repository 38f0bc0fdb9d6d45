"""The flow plot's legend: above the plot, or as a column beside it for a short, wide panel.

A legend above the plot costs a row of height per two or three entries: an LSTM's seven
entries take three rows, and at 1280 x 800 that left the plot ~40 px. Beside the plot the same
entries cost width instead, which such a panel has. The pyqtgraph legend above the plot is the
source of the entries' names (LegendLayout, FlowView's part that places it); SideLegend draws
the same entries, each with its curve's own pen.
"""
from __future__ import annotations

import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.ui.widgets.axes import colourbar_room, text_width

QWIDGETSIZE_MAX = 16777215       # Qt's largest widget size (no limit)
LEGEND_SAMPLE = 46               # pixels of a legend entry besides its text (line sample, gaps)
BESIDE_BELOW = 110               # the legend goes beside the plot when above it, it would leave
BESIDE_MIN_WIDTH = 360           # the plot less than this height (px), if the plot keeps this width


def short_name(text: str) -> str:
    """A legend name when the legend is narrow: 'σ₁ = ‖∂s_T/∂s_t‖' -> '‖∂s_T/∂s_t‖' (a longer
    norm, the LSTM's ‖∂state_T/∂state_t‖, -> 'σ₁'), 'bound (γσ_max)^(T−t)' -> 'bound',
    'carousel Π f (top unit)' -> 'carousel Π f'."""
    if text.startswith("σ₁ = "):
        norm = text[len("σ₁ = "):]
        return norm if len(norm) <= 12 else "σ₁"
    if text.endswith(" (top unit)"):
        return text[:-len(" (top unit)")]
    return "bound" if text.startswith("bound") else text

SAMPLE = 26      # px of line sample per entry
GAP = 6          # px between the sample and its text
PAD = 6          # px around the entries


class SideLegend(QtWidgets.QWidget):
    """Entries (pen, text), one per line, painted in the plot's colours."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[tuple[QtGui.QPen, str]] = []
        self._font = QtGui.QFont()
        self._foreground = QtGui.QColor("#222222")
        self._background = QtGui.QColor("#ffffff")
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed,
                           QtWidgets.QSizePolicy.Policy.Preferred)

    def set_entries(self, entries, font: QtGui.QFont, foreground: str, background: str) -> None:
        """Show these (pen, text) entries, in this font and these colours."""
        entries = [(QtGui.QPen(pen), str(text)) for pen, text in entries]
        same = ([(p.color().name(), p.style(), p.widthF(), t) for p, t in entries]
                == [(p.color().name(), p.style(), p.widthF(), t) for p, t in self.entries])
        if same and font == self._font and QtGui.QColor(foreground) == self._foreground \
                and QtGui.QColor(background) == self._background:
            return
        self.entries = entries
        self._font = QtGui.QFont(font)
        self._foreground, self._background = QtGui.QColor(foreground), QtGui.QColor(background)
        self.updateGeometry()
        self.update()

    def texts(self) -> list[str]:
        """The entries' texts, top to bottom."""
        return [text for _, text in self.entries]

    def _line_height(self) -> int:
        return QtGui.QFontMetrics(self._font).height() + 2

    def width_needed(self, texts=None, font: QtGui.QFont | None = None) -> int:
        """The width that shows every entry whole (or these texts, in this font)."""
        metrics = QtGui.QFontMetrics(self._font if font is None else font)
        texts = [text for _, text in self.entries] if texts is None else texts
        widest = max((metrics.horizontalAdvance(text) for text in texts), default=0)
        return 2 * PAD + SAMPLE + GAP + widest + 2

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.width_needed(), 2 * PAD + len(self.entries) * self._line_height())

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self.width_needed(), 0)

    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), self._background)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setFont(self._font)
        line = self._line_height()
        top = max(PAD, (self.height() - len(self.entries) * line) // 2)   # centred on the plot
        for row, (pen, text) in enumerate(self.entries):
            y = top + row * line + line / 2
            painter.setPen(pen)
            painter.drawLine(QtCore.QPointF(PAD, y), QtCore.QPointF(PAD + SAMPLE, y))
            painter.setPen(self._foreground)
            painter.drawText(QtCore.QRectF(PAD + SAMPLE + GAP, top + row * line,
                                           self.width() - PAD - SAMPLE - GAP, line),
                             QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft,
                             text)
        painter.end()


class LegendLayout:
    """FlowView's legend: a pyqtgraph LegendItem in row 1 of its canvas (the source of the
    entries' names: GatedCurves adds and removes its curves there), as many columns as fit, or
    SideLegend beside the canvas where above the plot it would leave the plot too little height.
    Needs the view's graphics, rate_label, plot_item, style_ and right_room_changed."""

    def build_legend(self) -> None:
        """The legend in row 1 of the canvas, and the column beside the canvas (hidden)."""
        self.legend = pg.LegendItem(colCount=5, labelTextSize=f"{self.legend_pt()}pt",
                                    verSpacing=-4)
        self.graphics.addItem(self.legend, row=1, col=0)
        self.legend_names: dict[int, tuple[str, str, str]] = {}   # curve -> (name, short, note)
        self._legend_set: dict[int, str] = {}     # curve -> the text fit_legend last gave it
        self.legend_short = False
        self.side_legend = SideLegend()           # the same entries beside the plot
        self.side_legend.setVisible(False)
        self.legend_beside = False
        self.right_room = 0                       # px the other time plots leave on their right
        self.layout().removeWidget(self.graphics)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.graphics, 1)
        row.addWidget(self.side_legend)
        self.layout().insertLayout(0, row, 1)
        self.graphics.installEventFilter(self)    # the canvas narrows when that legend shows

    def restyle_legend(self, style) -> None:
        """Every entry in the style's text size and colour, then fitted again."""
        size = f"{self.legend_pt()}pt"
        self.legend.setLabelTextColor(style.foreground)
        self.legend.setLabelTextSize(size)
        for sample, label in self.legend.items:
            text = self.legend_text(sample.item, self.legend_short)
            label.setText(text, size=size, color=style.foreground)
            self._legend_set[id(sample.item)] = text
        self.fit_legend()

    def fit_legend(self) -> None:
        """As many legend columns as fit the canvas width (the legend never widens the plot);
        shorter names when the full ones would take more than two rows (narrow, large fonts);
        beside the plot when above it, it would leave the plot too little height (_beside)."""
        attached = self.graphics.parent() is self   # (an exported copy's canvas stands alone)
        room = (self.width() if attached else self.graphics.width()) - 16
        font = self.style_.font(self.legend_pt())
        for sample, label in self.legend.items:     # names others set (a gated cell's) are kept
            key = id(sample.item)
            if self._legend_set.get(key) != label.text:
                note = self.legend_names.get(key, ("", "", ""))[2]
                full = label.text[: -len(note)] if note and label.text.endswith(note) else label.text
                self.legend_names[key] = (full, short_name(full), note)

        def width(sample, label, short: bool) -> float:
            text = self.legend_text(sample.item, short)
            drawn = label.itemRect().width() if label.text == text else 0.0   # as laid out
            return max(drawn, text_width(font, text) + 8) + LEGEND_SAMPLE     # (its margins)

        def layout(short: bool) -> tuple[int, int]:
            widths = [width(sample, label, short) for sample, label in self.legend.items]
            gap = max(0.0, self.legend.layout.horizontalSpacing())
            edges = sum(self.legend.layout.getContentsMargins()[::2])
            for columns in range(len(widths), 0, -1):      # grid columns: the widest entry each
                if sum(max(widths[j::columns]) for j in range(columns)) + \
                        (columns - 1) * gap + edges <= room:
                    break
            return columns, -(-len(widths) // columns)
        above = {False: layout(False), True: layout(True)}   # names short? -> (columns, rows)
        # The full names, above the plot or beside it; else the short ones beside it (the full
        # ones too wide there: a narrow window, a projector's font); else above it, short where
        # the full ones would take more than two rows and the short ones fewer.
        short = False
        beside = attached and self._beside(above[False][1], False)
        if not beside and above[False][1] > 2:
            beside = attached and self._beside(above[True][1], True)
            short = beside or above[True][1] < above[False][1]
        columns = above[short][0]
        changed = self._name_entries(short) or columns != self.legend.columnCount
        if columns != self.legend.columnCount:
            self.legend.setColumnCount(columns)
        self._place_legend(beside)
        self._canvas_to_range(force=changed)

    def _name_entries(self, short: bool) -> bool:
        """Give every legend entry its full or short name (and the column beside them too);
        whether a text changed."""
        changed = False
        for sample, label in self.legend.items:
            text = self.legend_text(sample.item, short)
            if label.text != text:
                label.setText(text, size=f"{self.legend_pt()}pt", color=self.style_.foreground)
                changed = True
            self._legend_set[id(sample.item)] = text
        self.legend_short = short
        self._sync_side_legend()
        return changed

    def _canvas_to_range(self, force: bool = False) -> None:
        """The canvas's layout may have been sized while the legend was wider (it then clamps to
        the old minimum width, also when the canvas alone narrows): give it the canvas's width."""
        canvas = self.graphics.centralWidget
        if force or abs(canvas.geometry().width() - self.graphics.range.width()) > 0.5:
            canvas.setGeometry(self.graphics.range)

    def _sync_side_legend(self) -> None:
        """The column beside the plot gets the legend's entries, pens and look."""
        entries = [(pg.mkPen(sample.item.opts.get("pen")), label.text)
                   for sample, label in self.legend.items]
        self.side_legend.set_entries(entries, self.style_.font(self.legend_pt()),
                                     self.style_.foreground, self.style_.background)

    def _beside(self, rows: int, short: bool) -> bool:
        """Whether the legend goes beside the plot: above it, its rows would leave the plot
        less than BESIDE_BELOW px of height, and beside it (with the full or short names) the
        plot keeps BESIDE_MIN_WIDTH."""
        if rows < 2:
            return False
        row_height = QtGui.QFontMetrics(self.style_.font(self.legend_pt())).height() + 12
        shown_rows = self.legend.layout.rowCount()
        if self.legend.isVisible() and shown_rows and self.legend.geometry().height() > 0:
            row_height = self.legend.geometry().height() / shown_rows    # as laid out
        above = (self.rate_label.boundingRect().height() + self.plot_item.getAxis("bottom").height()
                 + 12)                                 # title, time axis, the canvas's margins
        left = self.height() - above - rows * row_height
        texts = [self.legend_text(sample.item, short) for sample, _ in self.legend.items]
        needed = self.side_legend.width_needed(texts, self.style_.font(self.legend_pt()))
        return left < BESIDE_BELOW and self.width() - needed >= BESIDE_MIN_WIDTH

    def _place_legend(self, beside: bool) -> None:
        """The legend above the plot (the pyqtgraph one) or beside it (side_legend): the one not
        used is hidden, and the pyqtgraph one then asks the canvas for no room (a hidden item
        of a graphics layout keeps its size; nothing is re-parented: moving the item in the
        layout crashed Qt's paint under X11). Beside the plot the legend takes the place of
        the empty axis that stands in for a heatmap's colour bar, and where it is wider than
        that the other time plots are asked for the difference (right_room): every t axis
        still lines up, so the linked t ranges stay whole."""
        right = self.plot_item.getAxis("right")
        room = colourbar_room(self.style_) if right.isVisible() else 0
        width = self.side_legend.width_needed() if beside else 0
        if beside != self.legend_beside:
            self.legend_beside = beside
            self.legend.setVisible(not beside)
            if beside:
                self.legend.setMinimumSize(0, 0)
                self.legend.setMaximumSize(0, 0)
            else:
                self.legend.setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX)
                self.legend.setMinimumSize(-1, -1)       # (-1: its own size again)
            self.side_legend.setVisible(beside)
        if right.isVisible() and right.fixedWidth != max(0, room - width):
            right.setWidth(max(0, room - width))
        if beside:
            self.side_legend.setFixedWidth(width)
        extra = max(0, width - room)
        if extra != self.right_room:
            self.right_room = extra
            self.right_room_changed.emit(extra)

    def legend_pt(self) -> float:
        """The legend's text size: a little smaller than captions (fewer rows)."""
        return self.style_.tick_pt + 1

    def legend_text(self, curve, short: bool = False) -> str:
        """A curve's legend entry: its name (shorter when asked) and any note."""
        if id(curve) not in self.legend_names:
            return next((label.text for sample, label in self.legend.items
                         if sample.item is curve), "")
        full, brief, note = self.legend_names[id(curve)]
        return (brief if short else full) + note

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_legend()

    def hideEvent(self, event) -> None:
        """A hidden flow plot (its panel closed) asks the other time plots for no room."""
        super().hideEvent(event)
        if self.right_room:
            self.right_room = 0
            self.right_room_changed.emit(0)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fit_legend()

    def eventFilter(self, watched, event) -> bool:
        """When the canvas alone changes width (the legend went beside the plot or back), its
        layout is given the new width once the resize is done (the plot area then resizes,
        and the titles and captions are fitted again, as on any resize)."""
        if watched is self.graphics and event.type() == QtCore.QEvent.Type.Resize:
            QtCore.QTimer.singleShot(0, lambda: shiboken6.isValid(self) and self._canvas_to_range())
        return super().eventFilter(watched, event)

    def set_legend_note(self, curve, note: str) -> None:
        """A note after a curve's legend entry (e.g. that it has no finite point to draw)."""
        full, brief, old = self.legend_names[id(curve)]
        if note != old:
            self.legend_names[id(curve)] = (full, brief, note)
            self.fit_legend()
