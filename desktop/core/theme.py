"""Light and dark palettes that follow the system, and the colours of the four levels.

``Appearance.SYSTEM`` (the default) keeps the platform's own palette and follows
``QStyleHints.colorScheme`` live; when the platform reports dark but its style offers no
dark palette (a bare Linux session), the Fusion style with :func:`dark_palette` stands in.
``LIGHT``/``DARK`` force a scheme with the Fusion style.

Level colours are one sequential scale (light to dark green) so "more" reads as "darker",
with text colours that meet WCAG AA contrast (4.5:1, tested); "no evidence" is drawn
hatched in the window's own mid tone so it never looks like Emerging. GUI thread only.
"""

from __future__ import annotations

import sys
from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

import desktop.core.qtfix  # noqa: F401  (PySide6 6.12.0 refcount workaround, first)
from sync.model.vocab import LEVEL_RANK

__all__ = [
    "Appearance",
    "apply_appearance",
    "badge_color",
    "contrast_ratio",
    "dark_palette",
    "highlight_color",
    "is_dark",
    "level_colors",
    "sync_state_color",
]


class Appearance(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


_LEVEL_BG = {
    "Emerging": "#e5f5e0",
    "Developing": "#a1d99b",
    "Proficient": "#41ab5d",
    "Advanced": "#00682b",
}
_LEVEL_FG = {
    "Emerging": "#1d3b1d",
    "Developing": "#0f2e14",
    "Proficient": "#0b1f0e",
    "Advanced": "#ffffff",
}
_BADGE = {"bronze": "#b06a2c", "silver": "#8a96a3", "gold": "#c9a227"}


def level_colors(level: str) -> tuple[QColor, QColor]:
    """(background, text) for a level chip or heat-map cell."""
    if level not in LEVEL_RANK:
        raise KeyError(level)
    return QColor(_LEVEL_BG[level]), QColor(_LEVEL_FG[level])


def badge_color(kind: str) -> QColor:
    return QColor(_BADGE.get(kind, "#888888"))


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2.1 contrast ratio of two opaque colours (1 to 21)."""

    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def highlight_color(*, strong: bool, palette: QPalette | None = None) -> QColor:
    """Background for a quote highlighted in evidence text (readable in both schemes)."""
    if is_dark(palette):
        return QColor("#7a5c00") if strong else QColor("#4a3f1a")
    return QColor("#ffe066") if strong else QColor("#fff3bf")


#: The status bar's sync dot, by :class:`~sync.replication.worker.SyncState` value: light
#: and dark variants, each at least 4.5:1 on its palette's window (tested), and never the
#: only carrier of the meaning (the state is written beside it).
_SYNC_STATE = {
    "local": ("#5f6368", "#9aa0a6"),
    "idle": ("#1b5e20", "#81c995"),
    "syncing": ("#1565c0", "#8ab4f8"),
    "offline": ("#9a4a00", "#ffb74d"),
    "attention": ("#b3261e", "#f28b82"),
}


def sync_state_color(state: str, palette: QPalette | None = None) -> QColor:
    """The colour of the sync state's dot in the status bar, for the palette in use."""
    light, dark = _SYNC_STATE.get(str(state), _SYNC_STATE["local"])
    return QColor(dark if is_dark(palette) else light)


def dark_palette() -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: "#202124",
        role.WindowText: "#e8eaed",
        role.Base: "#17181a",
        role.AlternateBase: "#26282b",
        role.ToolTipBase: "#303134",
        role.ToolTipText: "#e8eaed",
        role.PlaceholderText: "#9aa0a6",
        role.Text: "#e8eaed",
        role.Button: "#2b2d30",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ff8a80",
        role.Light: "#3c4043",
        role.Midlight: "#323438",
        role.Mid: "#5f6368",
        role.Dark: "#0f1011",
        role.Shadow: "#000000",
        role.Highlight: "#2f6cb3",
        role.HighlightedText: "#ffffff",
        role.Link: "#8ab4f8",
        role.LinkVisited: "#c58af9",
    }
    for r, value in colors.items():
        pal.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.Text, role.ButtonText, role.WindowText):
        pal.setColor(disabled, r, QColor("#80868b"))
    return pal


def light_palette() -> QPalette:
    """The style's standard light palette with the text roles it leaves too faint for
    WCAG AA (4.5:1) darkened: placeholder text, links, and bright text (errors)."""
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    pal = style.standardPalette() if style is not None else QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.PlaceholderText, "#5f6368"),
        (role.BrightText, "#b3261e"),
        (role.Highlight, "#1a5fb4"),  # white selected text on it: 6.4:1 (Fusion's: 3.7)
        (role.HighlightedText, "#ffffff"),
        (role.Link, "#0b57d0"),
        (role.LinkVisited, "#7b1fa2"),
    ):
        pal.setColor(r, QColor(value))
    return pal


_native_style: str | None = None


def apply_appearance(appearance: Appearance) -> bool:
    """Apply ``appearance`` to the running application; returns True when dark."""
    global _native_style
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    if _native_style is None:
        _native_style = app.style().name()
    hints = app.styleHints()
    if appearance is Appearance.SYSTEM:
        scheme = hints.colorScheme()
        want_dark = scheme == Qt.ColorScheme.Dark
        if hasattr(hints, "unsetColorScheme"):
            hints.unsetColorScheme()
        if sys.platform in ("win32", "darwin") and _native_style:
            app.setStyle(_native_style)
            app.setPalette(QPalette())
            if want_dark and not is_dark(app.palette()):
                app.setStyle("Fusion")
                app.setPalette(dark_palette())
        else:
            app.setStyle("Fusion")
            app.setPalette(dark_palette() if want_dark else light_palette())
        return is_dark(app.palette())
    app.setStyle("Fusion")
    dark = appearance is Appearance.DARK
    app.setPalette(dark_palette() if dark else light_palette())
    return dark
