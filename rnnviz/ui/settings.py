"""Where the window remembers geometry and layout: QSettings, isolated by RNNVIZ_SETTINGS_DIR."""
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
