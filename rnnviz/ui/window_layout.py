"""Where the main window's layout is kept: the first run fitted to the screen, geometry, docks and
splitters saved in the settings at closing and restored at the next start, and a reset."""
from __future__ import annotations

from PySide6 import QtCore, QtGui

from rnnviz.ui.settings import app_settings

SETTINGS_VERSION = 1


class WindowLayout:
    """Mixin of MainWindow: it provides `splitters`, `main_splitter`, `docks`, `views` and
    `set_view_visible`."""

    def fit_to_screen(self) -> None:
        """First run: fill most of the screen (up to 1920 x 1080)."""
        screen = QtGui.QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)
        w, h = min(1920, area.width()), min(1080, area.height())
        self.resize(w, h)
        self.move(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2)

    def restore_layout(self) -> bool:
        """Window geometry, dock and splitter layout from the last run; False when none."""
        s = app_settings()
        if s.value("window/version") != str(SETTINGS_VERSION):
            return False
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, SETTINGS_VERSION)
        for splitter in self.splitters:
            value = s.value(f"window/{splitter.objectName()}")
            if value is not None:
                splitter.restoreState(value)
        return geometry is not None

    def save_layout(self) -> None:
        """Keep geometry, docks and splitters in the settings for the next start."""
        s = app_settings()
        s.setValue("window/version", str(SETTINGS_VERSION))
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(SETTINGS_VERSION))
        for splitter in self.splitters:
            s.setValue(f"window/{splitter.objectName()}", splitter.saveState())
        s.sync()

    def reset_layout(self) -> None:
        """Forget the saved layout: every dock docked and shown, every plot shown."""
        app_settings().remove("window")
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        for name in self.views:
            self.set_view_visible(name, True)
        self.main_splitter.setSizes([3 * self.width() // 4, self.width() // 4])
