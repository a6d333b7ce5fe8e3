"""UI preferences: window geometry, splitter sizes, appearance, the chosen data folder.

Stored with ``QSettings`` in the platform's native place (registry, plist, ``~/.config``);
``FLOURISH_SETTINGS_FILE`` points it at an INI file instead (the tests do). **No secrets
ever go here**: passwords and API keys live in the OS keyring (:mod:`sync.credentials`).
GUI thread only (QSettings is cheap and local; it is not the database).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from desktop.core.theme import Appearance

__all__ = ["SETTINGS_ENV", "Prefs"]

SETTINGS_ENV = "FLOURISH_SETTINGS_FILE"
_FORBIDDEN = ("password", "secret", "api_key", "token")


class Prefs:
    """Typed access to the UI preferences."""

    def __init__(self, settings: QSettings | None = None) -> None:
        if settings is None:
            path = os.environ.get(SETTINGS_ENV)
            if path:
                settings = QSettings(path, QSettings.Format.IniFormat)
            else:
                settings = QSettings("Flourish", "Flourish Desktop")
        self.settings = settings

    def _set(self, key: str, value: object) -> None:
        if any(word in key.lower() for word in _FORBIDDEN):
            raise ValueError(f"{key}: secrets belong in the OS keyring, not in settings")
        self.settings.setValue(key, value)

    # -- geometry ----------------------------------------------------------------------
    def geometry(self, key: str) -> QByteArray | None:
        value = self.settings.value(f"geometry/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, key: str, value: QByteArray) -> None:
        self._set(f"geometry/{key}", value)

    # -- appearance --------------------------------------------------------------------
    @property
    def appearance(self) -> Appearance:
        try:
            return Appearance(str(self.settings.value("ui/appearance", "system")))
        except ValueError:
            return Appearance.SYSTEM

    @appearance.setter
    def appearance(self, value: Appearance) -> None:
        self._set("ui/appearance", value.value)

    @property
    def by_document(self) -> bool:
        return str(self.settings.value("review/by_document", "false")).lower() == "true"

    @by_document.setter
    def by_document(self, value: bool) -> None:
        self._set("review/by_document", "true" if value else "false")

    # -- data folder -------------------------------------------------------------------
    @property
    def data_dir(self) -> Path | None:
        value = self.settings.value("profile/data_dir")
        return Path(str(value)) if value else None

    @data_dir.setter
    def data_dir(self, value: Path | None) -> None:
        if value is None:
            self.settings.remove("profile/data_dir")
        else:
            self._set("profile/data_dir", str(value))

    def sync(self) -> None:
        self.settings.sync()
