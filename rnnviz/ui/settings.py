"""Where the window remembers geometry and layout: QSettings, isolated by RNNVIZ_SETTINGS_DIR.

Settings are a file the user (or a crash, or another version) may have broken: every value is
read through a check of its type (`saved_state`, `saved_text`, `saved_texts`), and a value
that fails it is treated as missing, so a bad settings file can never stop the window."""
from __future__ import annotations

import os

from PySide6 import QtCore

ORGANISATION = "rnnviz"
APPLICATION = "rnnviz"
SETTINGS_DIR_ENV = "RNNVIZ_SETTINGS_DIR"


def app_settings() -> QtCore.QSettings:
    """The application's settings; an INI file inside $RNNVIZ_SETTINGS_DIR when that is set."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        os.makedirs(folder, exist_ok=True)
        return QtCore.QSettings(os.path.join(folder, "rnnviz.ini"), QtCore.QSettings.IniFormat)
    return QtCore.QSettings(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope,
                            ORGANISATION, APPLICATION)


def unreadable(settings: QtCore.QSettings) -> bool:
    """Whether the settings file could not be parsed (QSettings then reads what it could)."""
    return settings.status() == QtCore.QSettings.FormatError


def saved_state(settings: QtCore.QSettings, key: str) -> QtCore.QByteArray | None:
    """A saved Qt state (geometry, dock or splitter layout): a non-empty QByteArray, None when
    missing; ValueError when the key holds anything else (a hand-edited 'geometry=garbage')."""
    if not settings.contains(key):
        return None
    value = settings.value(key)
    if isinstance(value, (bytes, bytearray)):
        value = QtCore.QByteArray(bytes(value))
    if not isinstance(value, QtCore.QByteArray) or value.isEmpty():
        raise ValueError(f"{key} is not a saved layout")
    return value


def saved_text(settings: QtCore.QSettings, key: str) -> str | None:
    """A saved string, None when missing or not a string."""
    value = settings.value(key)
    return value if isinstance(value, str) and value else None


def saved_texts(settings: QtCore.QSettings, key: str) -> list[str]:
    """A saved list of strings (one string is a list of one); what is not a string is dropped."""
    value = settings.value(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str) and v]
    return []
