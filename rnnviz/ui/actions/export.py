"""Slide-ready images: each plot to PNG/SVG, the whole window to PNG/SVG, in a print style.

Used three ways: a plot's context menu ("Export this plot as PNG/SVG…"), File > Export… (a
dialog choosing view, format, background and size), and `rnnviz export` (offscreen, no window
shown: rnnviz.ui.app.export_session builds the window, then calls export_view or export_window).
Every export draws with Style PRINT_LIGHT or PRINT_DARK (larger fonts, thicker lines) and puts
the window's own style back afterwards. Images are encoded in memory, then written atomically
(state.files.write_atomic): a full disk leaves the old file whole and is reported, never "wrote".
"""
from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from rnnviz.state.files import FileError, write_atomic
from rnnviz.ui.style import PRINT_DARK, PRINT_LIGHT, Style, restore_fonts, widget_fonts
from rnnviz.ui.widgets.axes import shrink_axes

WHOLE = "window"
VIEW_SIZE = (1280, 800)          # default pixel size of one exported plot
WINDOW_SIZE = (1920, 1080)       # default pixel size of the exported window
THEMES = {"light": PRINT_LIGHT, "dark": PRINT_DARK}


class ExportError(Exception):
    """An image that cannot be written, with a message saying why."""


def print_style(theme: str) -> Style:
    """The print style of a theme name ("light" or "dark")."""
    try:
        return THEMES[theme]
    except KeyError:
        raise ExportError(f"unknown theme {theme!r}; choose light or dark") from None


def _format(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ExportError(f"{path.name}: the file name must end in .png or .svg")
    return fmt


def settle(window, timeout_s: float = 20.0) -> None:
    """Process events until the window shows the session's current result (and connectivity)."""
    app = QtWidgets.QApplication.instance()
    session = window.session
    deadline = time.monotonic() + timeout_s
    while True:
        app.processEvents()
        if session.needs_compute:
            window.submit_now()
        idle = window.worker.is_idle()
        if not session.needs_compute and idle:
            for view in window.views.values():
                view.flush()
            app.processEvents()
            if window.worker.is_idle():
                return
        if time.monotonic() > deadline:
            raise ExportError("the computation did not finish in time; nothing was exported")
        time.sleep(0.002)


@contextlib.contextmanager
def styled(window, style: Style):
    """Draw the window in `style` inside the block; afterwards its own style, size and layout.

    (Larger print fonts raise minimum sizes, which can grow the window or move splitters.)"""
    previous, size, fonts = window.style_, window.size(), widget_fonts(window)
    splitters = [s.saveState() for s in window.splitters]
    window.apply_style(style)
    try:
        yield
    finally:
        window.apply_style(previous)
        restore_fonts(fonts)
        for view in window.views.values():
            shrink_axes(view)
        QtWidgets.QApplication.processEvents()
        window.resize(size)
        for splitter, state in zip(window.splitters, splitters):
            splitter.restoreState(state)
        QtWidgets.QApplication.processEvents()


@contextlib.contextmanager
def standalone(view, size: tuple[int, int], style: Style):
    """A fresh copy of a plot view on the same session, its canvas alone at exactly `size`.

    The window's own view is never touched (pyqtgraph axes keep the room larger fonts needed,
    so restyling the live view would change the window's layout). Deleted afterwards."""
    copy = view.detached_copy()
    canvas = copy.graphics
    copy.layout().removeWidget(canvas)
    canvas.setParent(None)
    canvas.setAttribute(QtCore.Qt.WA_DontShowOnScreen, True)   # laid out, never on screen
    canvas.resize(*size)
    canvas.show()
    try:
        copy.apply_style(style)         # also redraws from the session's result
        QtWidgets.QApplication.processEvents()
        copy.refresh()
        if (canvas.width(), canvas.height()) != tuple(size):
            raise ExportError(f"{view.title} cannot be drawn at {size[0]}x{size[1]} pixels")
        yield canvas
    finally:
        copy._unsubscribe()
        copy._timer.stop()
        canvas.hide()
        canvas.deleteLater()
        copy.deleteLater()


def _paint(widget: QtWidgets.QWidget, painter: QtGui.QPainter) -> None:
    """Paint a widget with its children (a QGraphicsView paints its scene to the whole device)."""
    if isinstance(widget, QtWidgets.QGraphicsView):
        widget.render(painter)
    else:
        widget.render(painter, QtCore.QPoint(0, 0))


def _png_bytes(widget: QtWidgets.QWidget, size: tuple[int, int], background: str) -> bytes:
    """The widget painted on a `size` image, encoded as PNG in memory."""
    image = QtGui.QImage(size[0], size[1], QtGui.QImage.Format_ARGB32)
    image.setDevicePixelRatio(1.0)
    image.fill(QtGui.QColor(background))
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    painter.setRenderHint(QtGui.QPainter.TextAntialiasing)
    try:
        _paint(widget, painter)
    finally:
        painter.end()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError(f"cannot encode a {size[0]}x{size[1]} PNG image")
    return bytes(buffer.data())


def _svg_bytes(widget: QtWidgets.QWidget, size: tuple[int, int], title: str) -> bytes:
    """The widget painted by Qt's SVG generator, in memory."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.WriteOnly)
    generator = QtSvg.QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QtCore.QSize(*size))
    generator.setViewBox(QtCore.QRect(0, 0, *size))
    generator.setTitle(title)
    generator.setDescription("exported by rnnviz")
    painter = QtGui.QPainter()
    if not painter.begin(generator):
        raise ExportError("cannot start an SVG drawing")
    try:
        _paint(widget, painter)
    finally:
        painter.end()
    # QSvgGenerator states the size in millimetres; say it in pixels like the PNG.
    text = bytes(buffer.data()).decode("utf-8")
    text = re.sub(r'<svg width="[^"]*" height="[^"]*"',
                  f'<svg width="{size[0]}" height="{size[1]}"', text, count=1)
    return text.encode("utf-8")


def _write(path: Path, data: bytes) -> Path:
    """Write an encoded image atomically: on any failure (a full disk) the old file stays whole
    and nothing half-written is left; ExportError says why."""
    try:
        write_atomic(path, data)
    except FileError as exc:
        raise ExportError(f"cannot write {path}: {exc}; nothing was written") from None
    return path


def _check_writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: the folder {folder} does not exist")


def export_view(window, name: str, path, size=None, style: Style = PRINT_LIGHT) -> Path:
    """One plot (window.views[name]) as PNG or SVG of exactly `size` pixels, in `style`."""
    path = Path(path)
    fmt = _format(path)
    _check_writable(path)
    if name not in window.views:
        raise ExportError(f"unknown view {name!r}; one of {', '.join(window.views)}")
    size = tuple(size or VIEW_SIZE)
    view = window.views[name]
    with standalone(view, size, style) as canvas:
        if fmt == "png":
            data = _png_bytes(canvas, size, style.background)
        else:
            from pyqtgraph.exporters import SVGExporter
            try:
                data = SVGExporter(canvas.scene()).export(toBytes=True)
            except Exception as exc:    # noqa: BLE001 - pyqtgraph's exporter on a newer Qt
                raise ExportError(f"cannot export {view.title} as SVG: {exc}") from None
    return _write(path, data)


def export_window(window, path, size=None, style: Style = PRINT_LIGHT) -> Path:
    """The whole window (every shown plot and dock) as PNG or SVG of `size` pixels, in `style`."""
    path = Path(path)
    fmt = _format(path)
    _check_writable(path)
    size = tuple(size or (window.width(), window.height()))
    old = window.size()
    with styled(window, style):
        window.resize(*size)
        QtWidgets.QApplication.processEvents()
        got = (window.width(), window.height())
        if got != size:
            window.resize(old)
            raise ExportError(f"the whole window cannot be drawn at {size[0]}x{size[1]}: it "
                              f"needs at least {got[0]}x{got[1]} pixels; choose a larger size")
        for view in window.views.values():
            view.refresh()
        try:
            if fmt == "png":
                data = _png_bytes(window, size, style.background)
            else:
                data = _svg_bytes(window, size, window.windowTitle())
        finally:
            window.resize(old)
    return _write(path, data)


# ----- in the window: context menus and File > Export… -------------------------------------------
def _ask_path(window, title: str, fmt: str) -> Path | None:
    label = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)"}[fmt]
    name, _ = QtWidgets.QFileDialog.getSaveFileName(window, title, f"rnnviz.{fmt}", label)
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == f".{fmt}" else path.with_suffix(f".{fmt}")


def _report(window, action) -> None:
    try:
        written = action()
    except ExportError as exc:
        QtWidgets.QMessageBox.warning(window, "rnnviz: export failed", str(exc))
        return
    window.status.showMessage(f"exported {written}", 8000)


def export_plot_interactively(window, name: str, fmt: str) -> None:
    """Ask for a file name, then export one plot as it looks now, in the light print style."""
    view = window.views[name]
    path = _ask_path(window, f"Export {view.title} as {fmt.upper()}", fmt)
    if path is not None:
        size = (max(view.graphics.width(), VIEW_SIZE[0]), max(view.graphics.height(), VIEW_SIZE[1]))
        _report(window, lambda: export_view(window, name, path, size, PRINT_LIGHT))


def copy_plot(window, name: str) -> None:
    """Put one plot (print style, default size) on the clipboard as an image, ready to paste."""
    view = window.views[name]
    style = PRINT_LIGHT
    with standalone(view, VIEW_SIZE, style) as canvas:
        image = QtGui.QImage(*VIEW_SIZE, QtGui.QImage.Format_ARGB32)
        image.fill(QtGui.QColor(style.background))
        painter = QtGui.QPainter(image)
        try:
            _paint(canvas, painter)
        finally:
            painter.end()
    QtWidgets.QApplication.clipboard().setImage(image)
    window.status.showMessage(f"{view.title} copied to the clipboard as an image", 8000)


class ExportDialog(QtWidgets.QDialog):
    """File > Export…: which view, which format, light or dark, how many pixels."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Export an image")
        form = QtWidgets.QFormLayout(self)
        self.view = QtWidgets.QComboBox()
        self.view.addItem("The whole window", WHOLE)
        for name, v in window.views.items():
            self.view.addItem(v.title, name)
        self.format = QtWidgets.QComboBox()
        self.format.addItems(["PNG", "SVG"])
        self.theme = QtWidgets.QComboBox()
        self.theme.addItem("White background", "light")
        self.theme.addItem("Dark background", "dark")
        self.width_ = QtWidgets.QSpinBox(minimum=64, maximum=8000, value=WINDOW_SIZE[0])
        self.height_ = QtWidgets.QSpinBox(minimum=64, maximum=8000, value=WINDOW_SIZE[1])
        self.view.currentIndexChanged.connect(self._default_size)
        size = QtWidgets.QHBoxLayout()
        size.addWidget(self.width_)
        size.addWidget(QtWidgets.QLabel("×"))
        size.addWidget(self.height_)
        for label, widget in (("View", self.view), ("Format", self.format),
                              ("Background", self.theme)):
            form.addRow(label, widget)
        form.addRow("Size (pixels)", size)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                             | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _default_size(self) -> None:
        w, h = WINDOW_SIZE if self.view.currentData() == WHOLE else VIEW_SIZE
        self.width_.setValue(w)
        self.height_.setValue(h)

    def choice(self) -> tuple[str, str, str, tuple[int, int]]:
        """(view name or "window", "png" | "svg", theme, (width, height))."""
        return (self.view.currentData(), self.format.currentText().lower(),
                self.theme.currentData(), (self.width_.value(), self.height_.value()))


def export_chosen(window, view: str, fmt: str, theme: str, size, path) -> Path:
    """Export what the dialog chose to `path`."""
    style = print_style(theme)
    if view == WHOLE:
        return export_window(window, path, size, style)
    return export_view(window, view, path, size, style)


def export_dialog(window) -> None:
    """File > Export…: ask what and where, then export."""
    dialog = ExportDialog(window)
    if dialog.exec() != QtWidgets.QDialog.Accepted:
        return
    view, fmt, theme, size = dialog.choice()
    path = _ask_path(window, "Export", fmt)
    if path is not None:
        _report(window, lambda: export_chosen(window, view, fmt, theme, size, path))


def install(window) -> None:
    """Right-click menu on every plot: export as PNG / SVG, copy as an image."""
    for name, view in window.views.items():
        canvas = view.graphics
        canvas.setContextMenuPolicy(QtCore.Qt.ActionsContextMenu)
        for text, slot in (("Export this plot as PNG…", lambda n=name: export_plot_interactively(window, n, "png")),
                           ("Export this plot as SVG…", lambda n=name: export_plot_interactively(window, n, "svg")),
                           ("Copy this plot as an image", lambda n=name: copy_plot(window, n))):
            action = QtGui.QAction(text, canvas)
            action.triggered.connect(lambda _=False, s=slot: s())
            canvas.addAction(action)
