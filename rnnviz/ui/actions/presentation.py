"""Presentation mode (F5): projector-sized fonts and lines, chosen panels only, large explanation.

Which panels show is the session's view entry "presentation_panels" (saved with the session);
entering remembers the exact layout (dock state, splitters, shown plots, style, text size) and
leaving puts it back.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.ui.docks.explanation import ExplanationDock
from rnnviz.ui.style import PRESENTATION, restore_fonts, widget_fonts
from rnnviz.ui.widgets.axes import shrink_axes

EXPLANATION_SCALE = 1.8
# Shown in presentation mode unless the session says otherwise: every plot but the input
# connectivity strip (four stacked time plots leave the gradient flow almost no height at
# 1280x800 in projector fonts), and the explanation; the editor docks are hidden.
DEFAULT_SHOWN_DOCKS = ("explanation",)
DEFAULT_HIDDEN_VIEWS = ("connectivity", "spectral")   # spectral: rho and sigma_max over training
                                                      # (the spectrum plot shows both, live)
# Shares of the time column's height in presentation mode: the flow plot's title and legend take
# ~130 px in projector fonts, so it gets about half the column to keep a plot worth reading.
TIME_SHARES = {"states": 4, "connectivity": 1, "gradients": 4, "flow": 7}


class Presentation(QtCore.QObject):
    """Toggles a window between its normal layout and presentation mode."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.active = False
        self._saved: dict | None = None
        self._applying = False
        self.action = QtGui.QAction("&Presentation mode", window, checkable=True)
        self.action.setObjectName("presentation_mode")
        self.action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key_F5))
        self.action.setShortcutContext(QtCore.Qt.WindowShortcut)
        self.action.setStatusTip("Large fonts, thick lines, only the chosen panels (F5 toggles)")
        self.action.toggled.connect(self.set_active)
        self.panels_action = QtGui.QAction("Presentation &panels…", window)
        self.panels_action.setObjectName("presentation_panels")
        self.panels_action.triggered.connect(self.choose_panels)
        window.addAction(self.action)
        self._unsubscribe = window.session.events.subscribe(self._on_event)
        window.destroyed.connect(lambda *_: self._unsubscribe())

    # ----- which panels --------------------------------------------------------------------
    def names(self) -> dict[str, str]:
        """Every panel that can be shown or hidden: name -> human title."""
        names = {name: view.title for name, view in self.window.views.items()}
        names.update({name: dock.windowTitle() for name, dock in self.window.docks.items()})
        return names

    def panels(self) -> dict[str, bool]:
        """Which panels presentation mode shows (the session's choice over the defaults)."""
        chosen = self.window.session.view.get("presentation_panels", {})
        shown = {name: name not in DEFAULT_HIDDEN_VIEWS for name in self.window.views}
        shown.update({name: name in DEFAULT_SHOWN_DOCKS for name in self.window.docks})
        shown.update({k: bool(v) for k, v in chosen.items() if k in shown})
        return shown

    def set_panels(self, panels: dict[str, bool]) -> list:
        """Store a choice in the session (saved with it) and apply it when presenting."""
        problems = self.window.session.set_view(presentation_panels=dict(panels))
        if not problems and self.active:
            self._show_panels()
        return problems

    def choose_panels(self) -> None:
        """View > Presentation panels…: a checkable list of every plot and dock."""
        dialog = PanelsDialog(self.names(), self.panels(), self.window)
        if dialog.exec() == QtWidgets.QDialog.Accepted:
            self.set_panels(dialog.chosen())

    # ----- switching ---------------------------------------------------------------------------
    def toggle(self) -> None:
        self.set_active(not self.active)

    def set_active(self, on: bool) -> None:
        """Enter or leave presentation mode (idempotent)."""
        on = bool(on)
        if on != self.action.isChecked():
            self.action.setChecked(on)      # re-enters here through toggled
            return
        if on == self.active or self._applying:
            return
        self._applying = True
        try:
            self._enter() if on else self._leave()
        finally:
            self._applying = False

    def _enter(self) -> None:
        w = self.window
        explanation = self._explanation()
        self._saved = {
            "geometry": w.saveGeometry(),
            "size": w.size(),
            "state": w.saveState(),
            "splitters": [s.saveState() for s in w.splitters],
            "views": {n: not v.isHidden() for n, v in w.views.items()},
            "style": w.style_,
            "font_scale": explanation.font_scale if explanation is not None else 1.0,
            "fonts": widget_fonts(w),
        }
        self.active = True
        w.session.set_view(presentation=True)
        w.apply_style(PRESENTATION)
        self._show_panels()
        if explanation is not None:
            explanation.set_font_scale(EXPLANATION_SCALE)
        w.status.showMessage("Presentation mode: F5 returns to the normal layout", 6000)

    def _explanation(self) -> ExplanationDock | None:
        """The explanation dock (None when the window had to put a placeholder in its place)."""
        dock = self.window.docks["explanation"]
        return dock if isinstance(dock, ExplanationDock) else None

    def _show_panels(self) -> None:
        w, panels = self.window, self.panels()
        for name in w.views:
            w.set_view_visible(name, panels.get(name, True))
        for name, dock in w.docks.items():
            dock.setVisible(panels.get(name, False))
        self._share_time_column()

    def _share_time_column(self) -> None:
        """Split the time column's height by TIME_SHARES among the plots shown."""
        splitter = self.window.time_splitter
        widgets = [splitter.widget(i) for i in range(splitter.count())]
        shares = [0 if w.isHidden() else TIME_SHARES.get(w.objectName(), 4) for w in widgets]
        total = max(sum(shares), 1)
        height = max(splitter.height(), 100)
        splitter.setSizes([height * share // total for share in shares])

    def _leave(self) -> None:
        w, saved = self.window, self._saved or {}
        self.active = False
        w.session.set_view(presentation=False)
        explanation = self._explanation()
        if explanation is not None:
            explanation.set_font_scale(saved.get("font_scale", 1.0))
        w.apply_style(saved.get("style", w.style_))
        restore_fonts(saved.get("fonts", ()))
        for view in w.views.values():
            shrink_axes(view)
        for name, visible in saved.get("views", {}).items():
            w.set_view_visible(name, visible)
        QtWidgets.QApplication.processEvents()     # minimum sizes shrink back first
        if "geometry" in saved:
            w.restoreGeometry(saved["geometry"])
            w.resize(saved["size"])
        if "state" in saved:
            w.restoreState(saved["state"])
        for splitter, state in zip(w.splitters, saved.get("splitters", ())):
            splitter.restoreState(state)
        self._saved = None

    def _on_event(self, name: str, **payload) -> None:
        if name != "loaded" or self._applying:
            return
        wanted = bool(self.window.session.view.get("presentation", False))
        if wanted != self.active:
            self.set_active(wanted)
        elif self.active:
            self._show_panels()     # the window re-applied the normal panels of the new session


class PanelsDialog(QtWidgets.QDialog):
    """A checkable list: which plots and docks presentation mode shows."""

    def __init__(self, names: dict[str, str], shown: dict[str, bool], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Presentation panels")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Show in presentation mode:"))
        self.list = QtWidgets.QListWidget()
        for name, title in names.items():
            item = QtWidgets.QListWidgetItem(title)
            item.setData(QtCore.Qt.UserRole, name)
            item.setFlags(item.flags() | QtCore.Qt.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.Checked if shown.get(name) else QtCore.Qt.Unchecked)
            self.list.addItem(item)
        layout.addWidget(self.list)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok
                                             | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> dict[str, bool]:
        """name -> shown, for every panel in the list."""
        return {self.list.item(i).data(QtCore.Qt.UserRole):
                self.list.item(i).checkState() == QtCore.Qt.Checked
                for i in range(self.list.count())}


def install(window) -> Presentation:
    """Add View > Presentation mode (F5) and View > Presentation panels… to a MainWindow."""
    presentation = Presentation(window)
    # Apply the window's style once now, so that leaving presentation mode (which applies it
    # again) restores exactly the fonts the window started with.
    window.apply_style(window.style_)
    view = window.menus["view"]
    view.addSeparator()
    view.addAction(presentation.action)
    view.addAction(presentation.panels_action)
    window.presentation = presentation
    if window.session.view.get("presentation"):     # a session saved in presentation mode
        QtCore.QTimer.singleShot(0, presentation, lambda: presentation.set_active(True))
    return presentation
