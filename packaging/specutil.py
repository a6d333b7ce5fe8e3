"""Helpers of ``packaging/flourish.spec``: what data ships, which Qt plugins stay.

The spec imports this module (PyInstaller runs the spec as a script with the spec's folder
on ``sys.path``); keeping the logic here lets ``tests/test_packaging.py`` test it without
running PyInstaller. A table of contents (TOC) entry is PyInstaller's
``(destination, source, typecode)``; for a ``SYMLINK`` entry the "source" is the link's
target, relative to the bundle root.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "DROP_PLUGINS",
    "SKIP_NAMES",
    "data_kept",
    "drop_dangling_links",
    "plugin_kept",
    "prune_orphans",
    "tree",
]

Entry = tuple[str, str, str]

# Left out of the shipped data folders: documentation, byte-code caches, and Alembic's
# template for *new* revisions (only developers create revisions).
SKIP_NAMES = frozenset({"__pycache__", "README.md", "script.py.mako", ".DS_Store"})
SKIP_SUFFIXES = frozenset({".pyc", ".pyo"})

# Qt plugins to leave out, per plugin folder (None: the whole folder). PyInstaller's Qt
# hooks collect whole folders; the app needs, per folder:
#   platforms      xcb (X11 and XWayland), wayland (native Wayland sessions), offscreen
#                  (headless: `flourish report`, CI); on Windows/macOS their own
#                  (qwindows, qcocoa), which these rules keep.
#   imageformats   svg (icons, badges); PNG is built into QtGui.
#   iconengines    svg (QIcon from .svg files).
#   styles         Fusion is built in; only the native Windows/macOS styles are plugins.
#   platformthemes, platforminputcontexts, xcbglintegrations, wayland-*: the desktop's
#                  file dialogs (XDG portal), input methods (ibus, compose: accents), GL.
DROP_PLUGINS: dict[str, frozenset[str] | None] = {
    # Framebuffer, embedded and remote platforms: not a teacher's laptop.
    "platforms": frozenset({"eglfs", "linuxfb", "minimal", "minimalegl", "vnc", "vkkhrdisplay"}),
    # Image formats no code reads: evidence is text, the art is SVG and PNG.
    "imageformats": frozenset({"gif", "icns", "ico", "jpeg", "pdf", "tga", "tiff", "wbmp", "webp"}),
    # Embedded-Linux input devices (evdev, tslib, TUIO).
    "generic": None,
    # The on-screen keyboard (it needs QtQuick and QML).
    "platforminputcontexts": frozenset({"qtvirtualkeyboardplugin"}),
    # GTK 3 is the desktop's own and is not bundled; the plugin would load the system GTK
    # next to the bundle's copies of cairo and glib. The XDG desktop portal theme (kept)
    # gives native file dialogs on GNOME and KDE, Qt's own dialogs do elsewhere.
    "platformthemes": frozenset({"gtk3"}),
    # EGL device integrations of the eglfs platform (dropped above).
    "egldeviceintegrations": None,
    # Only the Wayland *client* side is needed.
    "wayland-graphics-integration-server": None,
}


def tree(root: Path, folder: str) -> list[tuple[str, str]]:
    """``(source file, destination folder)`` for every shipped file under ``root/folder``."""
    pairs = []
    for path in sorted((root / folder).rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or SKIP_NAMES & set(rel.parts) or path.suffix in SKIP_SUFFIXES:
            continue
        pairs.append((str(path), str(rel.parent)))
    return pairs


def plugin_kept(dest: str) -> bool:
    """False for a Qt plugin that :data:`DROP_PLUGINS` leaves out (``dest``: its path in
    the bundle, e.g. ``PySide6/Qt/plugins/platforms/libqvnc.so``)."""
    parts = Path(dest).parts
    if "plugins" not in parts or len(parts) < parts.index("plugins") + 3:
        return True
    kind = parts[parts.index("plugins") + 1]
    if kind not in DROP_PLUGINS:
        return True
    drop = DROP_PLUGINS[kind]
    if drop is None:
        return False
    base = Path(parts[-1]).name.split(".")[0].removeprefix("lib")  # libqxcb.so -> qxcb
    return base not in drop and base.removeprefix("q") not in drop


def data_kept(dest: str) -> bool:
    """False for Qt's translations (~25 MB): Flourish's UI is English and installs no
    QTranslator, so Qt never loads them."""
    parts = Path(dest).parts
    return not ("PySide6" in parts and "translations" in parts)


def prune_orphans(
    binaries: list[Entry],
    imports_of: Callable[[str], Iterable[tuple[str, str | None]]],
    *,
    platform: str = sys.platform,
) -> list[Entry]:
    """Drop the shared libraries that only left-out plugins needed (Linux).

    PyInstaller adds each plugin's link-time dependencies before the spec filters the
    plugins, so dropping e.g. the virtual keyboard leaves QtQuick and QtQml behind. A
    Qt library (``PySide6/Qt/lib``) or top-level library stays only when something kept
    links to it; every extension module, plugin and package-private library is a root,
    and libpython is loaded by the bootloader. ``imports_of(source)`` lists a binary's
    link-time imports as ``(name, path)`` (PyInstaller's ``bindepend.get_imports``).
    On Windows and macOS nothing is pruned (names and framework layouts differ).
    """
    if not platform.startswith("linux"):
        return binaries

    def prunable(dest: str, kind: str) -> bool:
        shared = kind == "BINARY" and (dest.startswith("PySide6/Qt/lib/") or "/" not in dest)
        return shared and not Path(dest).name.startswith("libpython")

    source_of = {dest: src for dest, src, kind in binaries if kind != "SYMLINK"}
    lib_by_name = {Path(d).name: d for d, _, kind in binaries if prunable(d, kind)}
    for link, target, kind in binaries:  # top-level links to PySide6/Qt/lib/libQt6*.so.6
        if kind == "SYMLINK" and target in lib_by_name.values():
            lib_by_name.setdefault(Path(link).name, target)
    todo = [src for dest, src, kind in binaries if kind != "SYMLINK" and not prunable(dest, kind)]
    kept: set[str] = set()
    seen: set[str] = set()
    while todo:
        source = todo.pop()
        if source in seen:
            continue
        seen.add(source)
        for name, _path in imports_of(source):
            dest = lib_by_name.get(Path(name).name)
            if dest and dest not in kept:
                kept.add(dest)
                todo.append(source_of[dest])
    return [
        (dest, src, kind)
        for dest, src, kind in binaries
        if kind == "SYMLINK" or not prunable(dest, kind) or dest in kept
    ]


def drop_dangling_links(*tocs: list[Entry]) -> list[list[Entry]]:
    """The TOCs without ``SYMLINK`` entries whose target is in none of them.

    PyInstaller keeps top-level links (``libQt6Gui.so.6 -> PySide6/Qt/lib/...``) in the
    TOC it put them in; after pruning, a link may point at a library that is gone."""
    present = {dest for toc in tocs for dest, _src, kind in toc if kind != "SYMLINK"}
    return [[e for e in toc if e[2] != "SYMLINK" or e[1] in present] for toc in tocs]
