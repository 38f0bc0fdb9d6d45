"""The weight editor dock: W, U or V as a heatmap (click to type a value) and, when small, a table."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import cellinfo
from rnnviz.state.sessionfile import param_shapes
from rnnviz.ui.docks.parameter_fields import ERROR_COLOUR
from rnnviz.ui.docks.weight_entry import (
    EntryEditor,
    centre_ticks,
    entry_name,
    parse_weight,
)
from rnnviz.ui.style import NORMAL, Style

MATRICES = {   # caption, column (from) label, row (to) label
    "W": ("W  (n_s × n_s): hidden → hidden, the recurrence s_{t−1} → s_t",
          "from s_{t−1}", "to s_t"),
    "U": ("U  (n_s × n_x): input → hidden, a_t = U x_t + W s_{t−1} + b_a",
          "from x_t", "to s_t"),
    "V": ("V  (n_y × n_s): hidden → output, z_t = V s_t + b_y",
          "from s_t", "to z_t"),
}
TABLE_MAX = 16


def matrix_caption(name: str, shape: tuple[int, ...]) -> tuple[str, str, str]:
    """(caption, column label, row label) of a matrix: the vanilla cell's own words, else its
    name and shape (another cell's arrays)."""
    if name in MATRICES:
        return MATRICES[name]
    return f"{name}  ({shape[0]} × {shape[1]})", "column", "row"
HINT = ("Click a square of the heatmap, or double-click a table cell, to type a new value "
        "(rows i and columns j count from 1).")


class WeightEditorDock(QtWidgets.QDockWidget):
    """Dock to look at and hand-edit W, U and V; writes through Session.set_weight only."""

    def __init__(self, session, parent=None):
        super().__init__("Weights", parent)
        self.setObjectName("weights")
        self.session = session
        self.name = "W"
        self.hovered: tuple[int, int] | None = None    # the entry the line under the heatmap names
        self.block: str | None = None  # a gate block of the shown array (LSTM: "f" for W_f), or all
        self._block_marks: list = []
        self._label_style: dict = {}
        self._layout = None            # (matrix, shape, style) the axes were last set up for
        self._table_stale = True
        self._stale = False            # a change arrived while the dock was hidden
        body = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(body)

        top = QtWidgets.QHBoxLayout()
        self.matrix_combo = QtWidgets.QComboBox()
        self.matrix_combo.setObjectName("matrix_combo")
        self.matrix_combo.setToolTip("Which weight matrix to show: W (recurrent), U (input) or "
                                     "V (output).  s_t = f(U x_t + W s_{t−1} + b_a), "
                                     "y_t = softmax(V s_t + b_y).")
        self._sync_names()
        self.matrix_combo.currentIndexChanged.connect(
            lambda _i: self.show_matrix(self.matrix_combo.currentData()))
        self.block_combo = QtWidgets.QComboBox()
        self.block_combo.setObjectName("block_combo")
        self.block_combo.setToolTip("A gated cell stacks one block per gate in each array "
                                    "(PyTorch's order: LSTM i, f, g, o; GRU r, z, n): show and edit "
                                    "one block, or all of them")
        self.block_combo.currentIndexChanged.connect(
            lambda _i: self.show_block(self.block_combo.currentData()))
        self.reset_button = QtWidgets.QPushButton("Reset to initialisation")
        self.reset_button.setObjectName("reset_weights")
        self.reset_button.setToolTip("Throw away hand edits: draw U, W, V, b_a, b_y again from "
                                     "the current settings and seed.")
        self.reset_button.clicked.connect(lambda: self.session.reinitialise())
        top.addWidget(self.matrix_combo)
        top.addWidget(self.block_combo)
        top.addStretch(1)
        top.addWidget(self.reset_button)
        column.addLayout(top)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        column.addWidget(self.caption)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self._build_heatmap(), "Heatmap")
        self.table = QtWidgets.QTableWidget()
        self.table.setObjectName("weight_table")
        self.table.itemChanged.connect(self._cell_edited)
        self.tabs.addTab(self.table, "Table")
        self.tabs.currentChanged.connect(self._tab_changed)
        column.addWidget(self.tabs, 1)

        self.message = QtWidgets.QLabel(HINT)
        self.message.setObjectName("weight_message")
        self.message.setWordWrap(True)
        column.addWidget(self.message)
        self.setWidget(body)

        self.apply_style(NORMAL)
        self.visibilityChanged.connect(self._visibility_changed)
        unsubscribe = session.events.subscribe(self._on_event)
        self.destroyed.connect(lambda *_: unsubscribe())

    def _build_heatmap(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip("Each square is one weight: blue negative, white 0, red "
                                 "positive. Click one to type a new value.")
        self.plot_item = self.graphics.addPlot()
        self.plot_item.invertY(True)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.plot_item.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(values=(-1, 1), colorMap=NORMAL.colormap("diverging"),
                                          interactive=False, width=15)
        self.colour_bar.setImageItem(self.image, insert_in=self.plot_item)
        self.graphics.scene().sigMouseMoved.connect(self._hovered)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        layout.addWidget(self.graphics)
        self.hover_label = QtWidgets.QLabel(" ")
        self.hover_label.setObjectName("hover_label")
        layout.addWidget(self.hover_label)
        self.entry_editor = EntryEditor(page, self._commit_text)
        return page

    def apply_style(self, style: Style) -> None:
        """Colours, fonts and colour map of the heatmap from a ui.style.Style."""
        self.style = style
        self.graphics.setBackground(style.background)
        tick_font = style.font(style.tick_pt)
        for axis in (self.plot_item.getAxis("left"), self.plot_item.getAxis("bottom"),
                     self.colour_bar.axis):
            axis.setPen(style.foreground)
            axis.setTextPen(style.foreground)
            axis.setTickFont(tick_font)
        self.colour_bar.axis.setWidth(int(12 + 4.2 * style.tick_pt))   # room for "-0.5"
        self.colour_bar.setColorMap(style.colormap("diverging"))
        self._label_style = {"color": style.foreground, "font-size": f"{style.font_pt:g}pt"}
        self.refresh()

    # ----- session -> view ----------------------------------------------------------------
    def _on_event(self, name: str, *args, **payload) -> None:
        # "params" also comes after every load and size change; config/loaded while a draw is
        # pending: say the new matrices are being drawn. A hidden dock (behind its tab, the
        # default) only notes it: redrawing a 1024 x 1024 W costs the UI thread ~19 ms.
        if name == "params" or (name in ("config", "loaded") and not self.ready()):
            if self.isVisible() and not self.visibleRegion().isEmpty():
                self.refresh()
            else:                     # (a dock behind another's tab is "visible", off-screen)
                self._stale = True

    def _visibility_changed(self, visible: bool) -> None:
        if visible and self._stale:
            self.refresh()

    def ready(self) -> bool:
        """Whether the session's parameters are drawn (the worker draws large ones)."""
        return self.session.params_ready

    def matrix_names(self) -> tuple[str, ...]:
        """The matrices of the session's network (arrays of more than one column), in its order."""
        shapes = param_shapes(self.session.config)
        return tuple(n for n, shape in shapes.items() if len(shape) == 2 and shape[1] > 1)

    def _sync_names(self) -> None:
        """The chooser lists the network's matrices (another cell has other ones)."""
        names = self.matrix_names()
        if tuple(self.matrix_combo.itemData(i) for i in range(self.matrix_combo.count())) == names:
            return
        self.matrix_combo.blockSignals(True)
        self.matrix_combo.clear()
        for name in names:
            self.matrix_combo.addItem(name, name)
        if self.name not in names:
            self.name = "W" if "W" in names else names[0]
        self.matrix_combo.setCurrentIndex(names.index(self.name))
        self.matrix_combo.blockSignals(False)

    def blocks(self) -> tuple[str, ...]:
        """The gate blocks of the shown array, top to bottom (empty: none)."""
        return cellinfo.block_labels(self.session.config.cell, self.name)

    def _sync_blocks(self) -> None:
        blocks = self.blocks()
        wanted = (None,) + blocks if blocks else ()
        if tuple(self.block_combo.itemData(i) for i in range(self.block_combo.count())) != wanted:
            self.block_combo.blockSignals(True)
            self.block_combo.clear()
            for block in wanted:
                self.block_combo.addItem("all blocks" if block is None else f"{self.name}_{block}",
                                         block)
            self.block_combo.blockSignals(False)
        if self.block not in blocks:
            self.block = None
        self.block_combo.setCurrentIndex(max(0, self.block_combo.findData(self.block)))
        self.block_combo.setVisible(bool(blocks))

    def shown_name(self) -> str:
        """The name of what is shown: the array ("W") or one of its blocks ("W_f")."""
        return self.name if self.block is None else f"{self.name}_{self.block}"

    def _rows(self) -> slice:
        """The rows of the array that are shown (a gate block's, or all)."""
        blocks = self.blocks()
        if self.block is None or self.block not in blocks:
            return slice(None)
        n = self.session.config.n_s
        k = blocks.index(self.block)
        return slice(k * n, (k + 1) * n)

    def matrix(self) -> np.ndarray:
        """The matrix currently shown (the array, or its gate block), as the session holds it."""
        return np.asarray(getattr(self.session.params, self.name))[self._rows()]

    def show_matrix(self, name: str) -> None:
        """Switch the view to W, U or V (or another array of the cell)."""
        self.name = name
        self.entry_editor.hide()
        self.refresh()

    def show_block(self, block: str | None) -> None:
        """Show one gate block of the array ("f": W_f), or all of them (None)."""
        self.block = block
        self.entry_editor.hide()
        self.refresh()

    def _mark_blocks(self, M: np.ndarray) -> None:
        """Lines between the gate blocks of a whole gated array, each labelled at its left."""
        for item in self._block_marks:
            self.plot_item.removeItem(item)
        self._block_marks = []
        blocks = self.blocks()
        if not blocks or self.block is not None:
            return
        n = M.shape[0] // len(blocks)
        for k, block in enumerate(blocks):
            if k:
                line = pg.InfiniteLine(pos=k * n, angle=0, pen=pg.mkPen(self.style.foreground, width=2))
                self.plot_item.addItem(line)
                self._block_marks.append(line)
            label = pg.TextItem(f"{self.name}_{block}", color=self.style.foreground,
                                anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 160))
            label.setPos(0, k * n)
            self.plot_item.addItem(label)
            self._block_marks.append(label)

    def refresh(self) -> None:
        """Redraw heatmap, table, labels and hand-edited marks from the session."""
        self._stale = False
        self._sync_names()
        self._sync_blocks()
        if not self.ready():
            self.entry_editor.hide()
            self.caption.setText(f"<b>{self.name}</b>  — drawing the new weights "
                                 f"on the background worker…")
            return
        edited = self.session.edited
        for index in range(self.matrix_combo.count()):
            name = self.matrix_combo.itemData(index)
            self.matrix_combo.setItemText(index, f"{name} (hand-edited)" if name in edited else name)
        M = self.matrix()
        full = getattr(self.session.params, self.name).shape
        cell = self.session.config.cell
        title, x_label, y_label = (matrix_caption(self.name, full) if cell == "vanilla" else
                                   cellinfo.array_caption(cell, self.name, full, self.block))
        mark = "  — hand-edited" if self.name in edited else ""
        self.caption.setText(f"<b>{title}</b>{mark}")
        finite = M[np.isfinite(M)]
        half = float(np.max(np.abs(finite))) if finite.size else 1.0
        half = half if half > 0 else 1.0
        self.image.setImage(np.asarray(M, dtype=np.float64), autoLevels=False, levels=(-half, half))
        self.colour_bar.setLevels((-half, half))
        self._mark_blocks(M)
        layout = (self.shown_name(), M.shape, id(self.style))
        if layout != self._layout:          # axes only change with the matrix or the style
            self._layout = layout
            self.plot_item.setLabel("bottom", f"column j ({x_label})", **self._label_style)
            self.plot_item.setLabel("left", f"row i ({y_label})", **self._label_style)
            self.image.setRect(QtCore.QRectF(0, 0, M.shape[1], M.shape[0]))   # after setImage
            self.plot_item.setRange(xRange=(0, M.shape[1]), yRange=(0, M.shape[0]), padding=0.02)
            self.plot_item.getAxis("bottom").setTicks([centre_ticks(M.shape[1])])
            self.plot_item.getAxis("left").setTicks([centre_ticks(M.shape[0])])
        small = M.shape[0] <= TABLE_MAX and M.shape[1] <= TABLE_MAX
        self.tabs.setTabEnabled(1, small)
        self.tabs.setTabToolTip(1, "Every entry as a number you can edit." if small else
                                f"The table is shown for matrices up to {TABLE_MAX} × {TABLE_MAX}; "
                                f"this one is {M.shape[0]} × {M.shape[1]}: use the heatmap.")
        self._table_stale = True
        if self.tabs.currentIndex() == 1:
            self._fill_table()
        self._describe_hovered()            # an edit changes the number the line shows
        if self.entry_editor.isVisible() and self.entry_editor.target is not None:
            name, i, j = self.entry_editor.target
            if i >= M.shape[0] or j >= M.shape[1] or name != self.shown_name():
                self.entry_editor.hide()

    def _tab_changed(self, index: int) -> None:
        if index == 1 and self._table_stale:
            self._fill_table()

    def _fill_table(self) -> None:
        """Show the matrix in the table (only when the table tab is looked at)."""
        self._table_stale = False
        M = self.matrix()
        small = M.shape[0] <= TABLE_MAX and M.shape[1] <= TABLE_MAX
        blocker = QtCore.QSignalBlocker(self.table)
        if not small:
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            del blocker
            return
        self.table.setRowCount(M.shape[0])
        self.table.setColumnCount(M.shape[1])
        finite = M[np.isfinite(M)]
        half = float(np.max(np.abs(finite))) if finite.size else 1.0
        half = half if half > 0 else 1.0
        level = np.clip(0.5 + 0.5 * np.nan_to_num(M, nan=0.0) / half, 0.0, 1.0)
        colours = self.style.colormap("diverging").map(level.ravel(), mode="qcolor")
        white, black = QtGui.QColor("white"), QtGui.QColor("black")
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                item = self.table.item(i, j)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    self.table.setItem(i, j, item)
                item.setText(f"{M[i, j]:.3g}")
                item.setToolTip(f"{entry_name(self.shown_name(), i, j)} = {M[i, j]:.6g}")
                item.setBackground(colours[i * M.shape[1] + j])
                item.setForeground(white if abs(level[i, j] - 0.5) > 0.35 else black)
        self.table.resizeColumnsToContents()
        del blocker

    # ----- user edits ---------------------------------------------------------------------
    def entry_at(self, scene_pos) -> tuple[int, int] | None:
        """The (i, j) entry under a scene position, or None outside the matrix."""
        if not self.ready():
            return None
        point = self.image.mapFromScene(scene_pos)
        M = self.matrix()
        i, j = int(math.floor(point.y())), int(math.floor(point.x()))
        if 0 <= i < M.shape[0] and 0 <= j < M.shape[1]:
            return i, j
        return None

    def _hovered(self, scene_pos) -> None:
        self.hovered = self.entry_at(scene_pos)
        self._describe_hovered()

    def _describe_hovered(self) -> None:
        """The line under the heatmap: the hovered entry's value as the session holds it now."""
        M = self.matrix() if self.ready() else None
        if self.hovered is None or M is None or not (self.hovered[0] < M.shape[0]
                                                     and self.hovered[1] < M.shape[1]):
            self.hover_label.setText(" ")
            return
        i, j = self.hovered
        self.hover_label.setText(f"{entry_name(self.shown_name(), i, j)} = {M[i, j]:.6g}")

    def _clicked(self, event) -> None:
        entry = self.entry_at(event.scenePos())
        if entry is not None:
            view_pos = self.graphics.mapFromScene(event.scenePos())
            self.open_entry_editor(*entry, self.graphics.mapTo(self.graphics.parentWidget(), view_pos))

    def open_entry_editor(self, i: int, j: int, pos: QtCore.QPoint | None = None) -> None:
        """Open the inline editor for entry (i, j) of the shown matrix."""
        pos = pos if pos is not None else QtCore.QPoint(10, 10)
        self.entry_editor.open_at(self.shown_name(), i, j, float(self.matrix()[i, j]), pos)

    def _commit_text(self, name: str, i: int, j: int, text: str) -> str | None:
        """Validate typed text and write it through the session; returns a message on failure."""
        value, message = parse_weight(text)
        if message is None:
            array, row = name, i                 # a gate block's entry is a row of its array
            if name == self.shown_name() and self.block is not None:
                array, row = self.name, self._rows().start + i
            problems = self.session.set_weight(array, row, j, value)
            if problems:
                message = "; ".join(p.message for p in problems)
        if message:
            self.message.setText(f"{entry_name(name, i, j)} unchanged: {message}")
            self.message.setStyleSheet(f"color: {ERROR_COLOUR};")
        else:
            self.message.setText(f"{entry_name(name, i, j)} set to {value:.6g}. {HINT}")
            self.message.setStyleSheet("")
        return message

    def _cell_edited(self, item: QtWidgets.QTableWidgetItem) -> None:
        i, j = item.row(), item.column()
        if self._commit_text(self.shown_name(), i, j, item.text()):
            blocker = QtCore.QSignalBlocker(self.table)
            item.setText(f"{self.matrix()[i, j]:.3g}")
            del blocker
