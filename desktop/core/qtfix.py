"""A workaround for reference-counting bugs in PySide6 6.12.0 on CPython 3.11.

PySide6 6.12.0 hands some singletons to Python without taking a reference:

* every call of a ``void`` C++ method returns ``None`` that way (``painter.save()``,
  ``widget.setObjectName()``, ``view.repaint()`` …), and so does an invalid ``QVariant``
  (``QModelIndex.data()`` for a role without a value);
* ``SignalInstance.emit()`` returns ``True`` that way.

Each such call drops one reference to ``None`` or ``True`` for good. Item delegates make
dozens of void calls per cell per repaint, so within minutes of use the count reaches zero
and CPython aborts ("none_dealloc: deallocating None" / "bool_dealloc"). The registry
offers no other PySide6 6.x build to pin to.

CPython 3.12 made ``None``, ``True`` and ``False`` immortal; :func:`install` does the same
on 3.11: it adds 2**40 to their reference counts once, so no session can drain them (at
ten thousand leaking calls a second that would take three and a half years). It only does
so when a probe shows the loss, so a fixed PySide6 is left alone. Nothing else changes:
these three objects are never freed anyway.

Import this module before any other Qt use (``desktop.core.tasks`` and ``desktop.shell.app`` do).
The write happens with the GIL held at import time.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QStringListModel, Qt, Signal

__all__ = ["EXTRA_REFERENCES", "Leaks", "install", "probe"]

EXTRA_REFERENCES = 1 << 40
_PROBES = 64


class _Probe(QObject):
    ping = Signal()


class Leaks:
    """References lost per call, as measured by :func:`probe`."""

    def __init__(self, void_none: float, variant_none: float, emit_true: float) -> None:
        self.void_none = void_none
        self.variant_none = variant_none
        self.emit_true = emit_true

    @property
    def any(self) -> bool:
        return max(self.void_none, self.variant_none, self.emit_true) >= 0.5

    def __repr__(self) -> str:
        return (
            f"Leaks(void_none={self.void_none}, variant_none={self.variant_none}, "
            f"emit_true={self.emit_true})"
        )


def _lost(obj: object, call: object) -> float:
    assert callable(call)
    before = sys.getrefcount(obj)
    for _ in range(_PROBES):
        call()
    lost = before - sys.getrefcount(obj)
    _add(obj, max(0, lost))  # give the probe's losses back
    return round(lost / _PROBES, 2)


def _add(obj: object, n: int) -> None:
    if n:
        ctypes.c_ssize_t.from_address(id(obj)).value += n


def probe() -> Leaks:
    """Measure the three losses on private objects (costs a few hundred Qt calls)."""
    holder = _Probe()
    model = QStringListModel(["probe"])
    index = model.index(0)
    return Leaks(
        void_none=_lost(None, lambda: holder.setObjectName("probe")),
        variant_none=_lost(None, lambda: index.data(Qt.ItemDataRole.UserRole)),
        emit_true=_lost(True, lambda: holder.ping.emit()),
    )


_installed = False
LEAKS: Leaks | None = None


def install() -> Leaks | None:
    """Make ``None``, ``True`` and ``False`` effectively immortal if PySide6 leaks them."""
    global _installed, LEAKS
    if _installed:
        return LEAKS
    _installed = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return None  # immortal already
    LEAKS = probe()
    if LEAKS.any:
        for obj in (None, True, False):
            _add(obj, EXTRA_REFERENCES)
    return LEAKS


install()
