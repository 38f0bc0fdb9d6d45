"""The File menu: new, open, save, recent files, export, share codes, unsaved changes, reopen on start.

Every file problem is shown in a message box naming what is wrong, and the session is left as
it was (Session.load_file and paste_share_code change nothing on failure).
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.state import sessionfile, sharecode
from rnnviz.state.sessionfile import SessionFileError
from rnnviz.ui.settings import SETTINGS_DIR_ENV, app_settings, saved_text, saved_texts

FILTER = "rnnviz session (*.json);;All files (*)"
MAX_RECENT = 8
KEY_RECENT = "session/recent"
KEY_LAST = "session/last"
KEY_REOPEN = "session/reopen_last"


# ----- settings: recent files and "reopen last session on start" -----------------------------
def recent_files() -> list[str]:
    """Session files opened or saved lately, newest first (only those that still exist)."""
    return [p for p in saved_texts(app_settings(), KEY_RECENT) if _is_file(p)]


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):       # a name too long, a NUL byte: not a file of ours
        return False


def remember(path) -> None:
    """Record a session file as the last one used and at the top of the recent list."""
    path = str(Path(path).resolve())
    s = app_settings()
    paths = [path] + [p for p in recent_files() if p != path]
    s.setValue(KEY_RECENT, paths[:MAX_RECENT])
    s.setValue(KEY_LAST, path)
    s.sync()


def reopen_last() -> bool:
    """Whether the last session reopens when rnnviz starts without a file or preset."""
    value = app_settings().value(KEY_REOPEN, False)
    return value in (True, "true", "1", 1)


def set_reopen_last(on: bool) -> None:
    s = app_settings()
    s.setValue(KEY_REOPEN, bool(on))
    s.sync()


def startup_session(session):
    """(session, note): the last session when the user asked for that, else the one given.

    `note` says why the last session could not be reopened (None when all went well)."""
    if not reopen_last():
        return session, None
    last = saved_text(app_settings(), KEY_LAST)
    if not last:
        return session, None
    try:
        session.load_file(last)
    except SessionFileError as exc:
        return session, f"could not reopen the last session ({exc}); opening the default demo"
    return session, None


def can_ask() -> bool:
    """Whether a user can answer a dialog (not on Qt's offscreen platform: tests, exports)."""
    return QtGui.QGuiApplication.platformName() not in ("offscreen", "minimal")


# ----- recovery: unsaved changes nobody could be asked about -------------------------------------
def recovery_dir() -> Path:
    """Where unsaved sessions are kept: $RNNVIZ_SETTINGS_DIR/recovery when that is set, else
    the user's application data folder (~/.local/share/rnnviz/rnnviz/recovery on Linux)."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if not folder:
        folder = QtCore.QStandardPaths.writableLocation(
            QtCore.QStandardPaths.AppDataLocation) or tempfile.gettempdir()
    return Path(folder) / "recovery"


def save_recovery(session) -> Path:
    """Save a session to a new file in recovery_dir(); its path (SessionFileError, OSError)."""
    base = Path(session.path).stem if session.path else (session.preset_name or "session")
    base = re.sub(r"[^\w.-]+", "_", base)[:80] or "session"
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    path = folder / f"{base}-unsaved-{stamp}.json"
    for k in range(2, 100):
        if not path.exists():
            break
        path = folder / f"{base}-unsaved-{stamp}-{k}.json"
    sessionfile.save(path, session.to_dict())
    return path


# ----- the actions --------------------------------------------------------------------------
class FileActions(QtCore.QObject):
    """File menu actions bound to one window and its session."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.actions: dict[str, QtGui.QAction] = {}
        self.base_title = window.windowTitle()
        self._unsubscribe = self.session.events.subscribe(self._on_event)
        window.destroyed.connect(lambda *_: self._unsubscribe())
        if self.session.path:
            remember(self.session.path)
        self.update_title()

    def _action(self, key: str, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        action = QtGui.QAction(text, self.window)
        action.setObjectName(key)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip or text)
        action.triggered.connect(lambda *_: slot())
        self.actions[key] = action
        return action

    def build_menu(self, menu: QtWidgets.QMenu) -> None:
        """Insert the file actions above the menu's existing entries (Quit)."""
        first = menu.actions()[0] if menu.actions() else None
        Key = QtGui.QKeySequence
        entries = [
            self._action("new", "&New (default demo)", self.new, Key.New,
                         "Start again from the built-in default demo"),
            self._action("open", "&Open…", self.open, Key.Open, "Open a session file"),
            None,   # Open recent
            self._action("save", "&Save", self.save, Key.Save,
                         "Save the session: settings, hand-edited weights, view"),
            self._action("save_as", "Save &As…", self.save_as, "Ctrl+Shift+S",
                         "Save the session under a new name"),
            "-",
            self._action("export", "&Export…", self.export, "Ctrl+E",
                         "Save a plot or the whole window as a PNG or SVG image for slides"),
            "-",
            self._action("copy_setup", "&Copy set-up as text", self.copy_setup,
                         "Ctrl+Shift+C", "Copy a share code of the whole configuration "
                         "(not hand-edited weights) to the clipboard"),
            self._action("paste_setup", "&Paste set-up", self.paste_setup, "Ctrl+Shift+V",
                         "Replace the configuration by a share code from the clipboard"),
            "-",
        ]
        reopen = QtGui.QAction("Reopen last session on start", self.window, checkable=True)
        reopen.setObjectName("reopen_last")
        reopen.setChecked(reopen_last())
        reopen.toggled.connect(set_reopen_last)
        self.actions["reopen_last"] = reopen
        entries += [reopen, "-"]
        self.recent_menu = QtWidgets.QMenu("Open &recent", menu)
        self.recent_menu.aboutToShow.connect(self.fill_recent)
        for entry in entries:
            if entry is None:
                menu.insertMenu(first, self.recent_menu)
            elif entry == "-":
                menu.insertSeparator(first)
            else:
                menu.insertAction(first, entry)
        for action in self.actions.values():
            self.window.addAction(action)       # shortcuts work with the menu closed

    def fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = recent_files()
        for path in paths:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not paths:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # ----- messages ----------------------------------------------------------------------------
    def error(self, title: str, text: str) -> None:
        QtWidgets.QMessageBox.warning(self.window, f"rnnviz: {title}", text)

    def maybe_save(self) -> bool:
        """Offer to save unsaved changes; False when the user cancels."""
        if not self.session.dirty:
            return True
        name = Path(self.session.path).name if self.session.path else "this session"
        B = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self.window, "rnnviz: unsaved changes",
            f"Save the changes to {name}?", B.Save | B.Discard | B.Cancel, B.Save)
        if answer == B.Save:
            return self.save()
        return answer == B.Discard

    def close_guard(self) -> bool:
        """MainWindow.close_guards entry: False vetoes closing."""
        if not can_ask():           # nobody could answer the question (offscreen, a script)
            self.keep_unsaved()
            return True
        return self.maybe_save()

    def keep_unsaved(self) -> Path | None:
        """Closing with unsaved changes and no one to ask (offscreen, a second Ctrl+C): keep
        them in a recovery file rather than lose a lecturer's work; it goes to the top of Open
        recent (and reopens when "Reopen last session" is on); stderr says where. Its path."""
        if not self.session.dirty:
            return None
        try:
            path = save_recovery(self.session)
        except Exception as exc:    # noqa: BLE001 - keeping a copy must never block closing
            print(f"rnnviz: the unsaved changes could not be kept: {exc}", file=sys.stderr)
            return None
        remember(path)
        print(f"rnnviz: unsaved changes kept in {path} (open it with: rnnviz '{path}')",
              file=sys.stderr)
        return path

    # ----- new / open / save ------------------------------------------------------------------
    def new(self) -> None:
        if not self.maybe_save():
            return
        from rnnviz.state.session import Session
        fresh = Session.demo()
        self.session.from_dict(fresh.to_dict(), source="new")
        self.session.path = None
        self.update_title()

    def open(self) -> None:
        folder = str(Path(self.session.path).parent) if self.session.path else ""
        name, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open a session", folder,
                                                        FILTER)
        if name:
            self.open_path(name)

    def open_path(self, path) -> bool:
        """Open a session file; a message box (and no change) when it cannot be used."""
        try:
            sessionfile.load(path)          # a bad file is reported before any question
            if not self.maybe_save():
                return False
            self.session.load_file(path)
        except SessionFileError as exc:
            self.error("cannot open the session", f"{Path(path).name} cannot be opened:\n\n{exc}"
                                                  "\n\nThe current session is unchanged.")
            return False
        remember(path)
        self.update_title()
        self.window.status.showMessage(f"opened {path}", 8000)
        return True

    def save(self) -> bool:
        if not self.session.path:
            return self.save_as()
        return self.save_to(self.session.path)

    def save_as(self) -> bool:
        start = self.session.path or f"{self.session.preset_name or 'rnnviz-session'}.json"
        name, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save the session", start,
                                                        FILTER)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != ".json":
            path = path.with_name(path.name + ".json")
        return self.save_to(path)

    def save_to(self, path) -> bool:
        try:
            self.session.save_file(path)
        except SessionFileError as exc:
            self.error("cannot save the session", str(exc))
            return False
        remember(path)
        self.update_title()
        self.window.status.showMessage(f"saved {path}", 8000)
        return True

    def export(self) -> None:
        from rnnviz.ui.actions.export import export_dialog
        export_dialog(self.window)

    # ----- share codes ----------------------------------------------------------------------------
    def copy_setup(self) -> None:
        try:
            code, notes = self.session.share()
        except ValueError as exc:
            self.error("cannot copy the set-up", str(exc))
            return
        QtWidgets.QApplication.clipboard().setText(code)
        said = f"set-up copied to the clipboard as one line of {len(code):,} characters"
        self.window.status.showMessage("; ".join([said, *notes]), 15000 if notes else 8000)

    def paste_setup(self) -> bool:
        text = QtWidgets.QApplication.clipboard().text()
        try:
            sharecode.decode(text)
        except ValueError as exc:
            self.error("cannot paste the set-up", f"The clipboard does not hold a usable "
                       f"set-up:\n\n{exc}\n\nThe current session is unchanged.")
            return False
        if not self.maybe_save():
            return False
        problems = self.session.paste_share_code(text)
        if problems:
            self.error("cannot paste the set-up", "; ".join(p.message for p in problems))
            return False
        self.session.path = None
        self.update_title()
        self.window.status.showMessage("set-up pasted from the clipboard", 8000)
        return True

    # ----- title --------------------------------------------------------------------------------
    def update_title(self) -> None:
        name = Path(self.session.path).name if self.session.path else None
        self.window.setWindowTitle(f"{name}[*] — {self.base_title}" if name
                                   else f"{self.base_title}[*]")
        self.window.setWindowModified(bool(self.session.dirty))

    def _on_event(self, name: str, **payload) -> None:
        if name in ("config", "params", "loaded", "saved"):
            self.window.setWindowModified(bool(self.session.dirty))


def install(window) -> FileActions:
    """Add the file actions to a MainWindow's File menu and guard its closing."""
    actions = FileActions(window)
    actions.build_menu(window.menus["file"])
    window.close_guards.append(actions.close_guard)
    window.file_actions = actions
    return actions
