"""What every window shares: the open store, the signed-in teacher, the task runner and the
one app-wide change signal.

Every write returns the rows it changed (:class:`sync.store.local.Change`); the operation that
made it publishes them once on :class:`ChangeBus` as a :class:`ChangeSet`, and each view
decides from the tables touched whether it needs to re-read anything. No view polls the
database on a timer.

Threading rules: :func:`load_profile` reads SQLite and must run on a worker thread (the
app runs it through :meth:`TaskRunner.job`; tests may call it directly). Everything else
here lives on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.core.tasks import TaskRunner
from sync.model.curriculum import Curriculum, load_curriculum
from sync.store.local import Change, LocalStore
from sync.store.state import PROFILE, SERVER_URL, TEACHER_ID

__all__ = [
    "AppContext",
    "ChangeBus",
    "ChangeSet",
    "Profile",
    "Reopen",
    "load_profile",
]

#: Tables whose rows feed the review queue, the roster and the student views.
REVIEW_TABLES = frozenset({"assessments", "teacher_corrections", "students", "data_entries"})


@dataclass(frozen=True)
class ChangeSet:
    """Rows changed by one operation, and who made it (``"review"``, ``"sync"``, ...).

    ``everything`` marks a change too broad to list (a pull, a profile switch): every view
    refreshes.
    """

    changes: tuple[Change, ...] = ()
    source: str = ""
    everything: bool = False

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(c.table for c in self.changes)

    def touches(self, *tables: str) -> bool:
        return self.everything or bool(self.tables.intersection(tables))

    def touches_synced_data(self) -> bool:
        """True when the change could add to the sync queue."""
        return self.everything or any(not c.table.startswith("sync_") for c in self.changes)


class ChangeBus(QObject):
    """The one app-wide signal: ``changed(ChangeSet)``, emitted on the GUI thread."""

    changed = Signal(object)

    def publish(self, changes: Iterable[Change], *, source: str = "") -> None:
        batch = tuple(changes)
        if batch:
            self.changed.emit(ChangeSet(batch, source))

    def publish_everything(self, *, source: str = "") -> None:
        self.changed.emit(ChangeSet((), source, everything=True))


@dataclass(frozen=True)
class Profile:
    """What the app needs to know about the open store before showing a window."""

    teacher_id: str | None
    teacher_name: str | None
    profile: str
    server_url: str | None
    data_dir: Path


def load_profile(store: LocalStore) -> Profile:
    """Read the store's sign-in state (worker thread)."""
    with store.read() as conn:
        state: dict[str, str] = {
            str(k): str(v)
            for k, v in conn.exec_driver_sql(
                "SELECT key, value FROM sync_state WHERE key IN (?, ?, ?)",
                (TEACHER_ID, PROFILE, SERVER_URL),
            )
        }
        teacher = state.get(TEACHER_ID)
        name = None
        if teacher:
            row = conn.exec_driver_sql("SELECT name FROM teachers WHERE id = ?", (teacher,)).first()
            name = None if row is None else str(row[0])
    return Profile(
        teacher_id=teacher,
        teacher_name=name,
        profile=state.get(PROFILE) or "local",
        server_url=state.get(SERVER_URL),
        data_dir=store.path.parent,
    )


@dataclass(frozen=True)
class Reopen:
    """What a window asks of the app when the store file itself must change.

    The app closes the window and the store, runs ``prepare(store path)`` on a worker thread
    (encrypt, decrypt, sign out: work on a *closed* file; its return value is a sentence
    for the teacher), then opens the store in ``folder`` again in a fresh window — or the
    first-run dialog when ``prepare`` removed it. ``key`` opens an encrypted store whose
    key is not in the keyring: it lives in memory only and is never shown or written.
    """

    folder: Path
    prepare: Callable[[Path], str | None] | None = None
    key: str | None = field(default=None, repr=False)
    notice: str | None = None


@dataclass
class AppContext:
    """The open store and the shared services of one main window (GUI thread)."""

    store: LocalStore
    profile: Profile
    tasks: TaskRunner
    bus: ChangeBus = field(default_factory=ChangeBus)
    curriculum: Curriculum = field(default_factory=load_curriculum)

    @property
    def teacher_id(self) -> str | None:
        return self.profile.teacher_id

    @property
    def is_demo(self) -> bool:
        return self.profile.profile == "demo"

    @classmethod
    def create(cls, store: LocalStore, profile: Profile | None = None) -> AppContext:
        """A context on ``store``; without ``profile`` it is read here (tests only)."""
        return cls(store=store, profile=profile or load_profile(store), tasks=TaskRunner())
