"""Where the main window's layout is kept: the first run fitted to the screen, geometry, docks and
splitters saved in the settings at closing and restored at the next start, and a reset.

A saved layout that cannot be restored (a corrupted or hand-edited settings file) is ignored
and forgotten: the window starts fitted to the screen and says so in the status bar."""
from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui

from rnnviz.ui.settings import app_settings, saved_state, unreadable

log = logging.getLogger(__name__)
SETTINGS_VERSION = 1
BAD_LAYOUT_NOTE = ("the saved window layout could not be read (settings file {path}); it was "
                   "reset to the default layout")


class WindowLayout:
    """Mixin of MainWindow: it provides `splitters`, `main_splitter`, `docks`, `views`, `status`
    and `set_view_visible`."""

    settings_note: str | None = None    # why the saved layout was not used, for the status bar

    def fit_to_screen(self) -> None:
        """First run: fill most of the screen (up to 1920 x 1080)."""
        screen = QtGui.QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1600, 1000)
        w, h = min(1920, area.width()), min(1080, area.height())
        self.resize(w, h)
        self.move(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2)

    def restore_layout(self) -> bool:
        """Window geometry, dock and splitter layout from the last run; False when none.

        A layout that cannot be restored is removed from the settings, the window keeps its
        default layout, and `settings_note` (shown in the status bar) says what happened."""
        s = app_settings()
        try:
            if unreadable(s):
                raise ValueError("the file is not in INI format")
            return self._restore(s)
        except Exception as exc:        # noqa: BLE001 - bad settings must never stop the window
            log.warning("ignoring the saved window layout: %s", exc)
        self.settings_note = BAD_LAYOUT_NOTE.format(path=s.fileName())
        try:
            s.remove("window")
            s.sync()
        except Exception:               # noqa: BLE001 - an unwritable settings file
            log.exception("cannot reset the saved window layout")
        self.reset_layout()
        self.status.showMessage(self.settings_note, 30000)
        return False

    def _restore(self, s: QtCore.QSettings) -> bool:
        """True: restored; False: nothing saved (or saved by another version); ValueError when
        what is saved cannot be used."""
        if s.value("window/version") != str(SETTINGS_VERSION):
            return False
        geometry, state = saved_state(s, "window/geometry"), saved_state(s, "window/state")
        splitters = {sp: saved_state(s, f"window/{sp.objectName()}") for sp in self.splitters}
        if geometry is not None and not self.restoreGeometry(geometry):
            raise ValueError("window/geometry cannot be restored")
        if state is not None and not self.restoreState(state, SETTINGS_VERSION):
            raise ValueError("window/state cannot be restored")
        for splitter, value in splitters.items():
            if value is not None and not splitter.restoreState(value):
                raise ValueError(f"window/{splitter.objectName()} cannot be restored")
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
