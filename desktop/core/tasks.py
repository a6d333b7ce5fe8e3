"""Background operations: slow work off the GUI thread, results back on it.

Modelled on Anki's ``taskman``/``QueryOp``: the GUI hands a plain function to a
:class:`TaskRunner` together with callbacks; the function runs on a worker thread and the
callbacks run on the GUI thread. Three lanes:

* :meth:`TaskRunner.read` — short reads of the local store on a small pool (concurrent;
  SQLite WAL readers never block the writer).
* :meth:`TaskRunner.write` — every write of the local store on **one** writer thread, in
  submission order. Teacher decisions therefore apply in the order they were made, and an
  undo always runs after the decision it undoes.
* :meth:`TaskRunner.job` — long operations (sync, AI assessment, imports) on their own
  pool, with cancellation and progress: the function receives a :class:`TaskContext`.

Threading rules (read before using):

* The background function must never touch a widget or any QObject; it gets only its
  arguments and returns plain values. Callbacks (``on_done``, ``on_error``,
  ``on_progress``) always run on the GUI thread.
* After :meth:`TaskRunner.shutdown` no callback runs any more; pending writes still finish.
* While a runner is alive, Python's cyclic garbage collector runs on the GUI thread only
  (:mod:`desktop.core.gcguard`): a collection on a worker thread could otherwise destroy a Qt
  object that belongs to the GUI thread.
* A cancelled task still runs ``on_done``/``on_error`` unless the function returned early;
  use :attr:`Task.cancelled` in the callback when the difference matters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal

import desktop.core.qtfix  # noqa: F401  (PySide6 6.12.0 refcount workaround, first)
from desktop.core import gcguard

__all__ = ["Cancelled", "LatestRead", "Task", "TaskContext", "TaskRunner"]

T = TypeVar("T")
log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int | None], None]


class Cancelled(Exception):
    """Raised inside a background function by :meth:`TaskContext.check` after a cancel."""


class TaskContext:
    """What a long background function gets: a cancel flag and a progress reporter.

    Safe to use from the worker thread only; :meth:`progress` is throttled to one GUI
    update per 50 ms (the last value is always delivered).
    """

    def __init__(self, cancel: threading.Event, report: Callable[[int, int | None], None]):
        self.cancel_event = cancel
        self._report = report
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()

    def progress(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self._last >= 0.05 or (total is not None and done >= total):
            self._last = now
            self._report(done, total)


class Task(Generic[T]):
    """A handle on a submitted operation (GUI thread only).

    It holds no reference to the operation's callbacks, so dropping a dialog that started
    a task never leaves a reference cycle through the thread pool.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancel_event = threading.Event()
        self.finished = False

    def cancel(self) -> None:
        """Ask the operation to stop; one that has not started yet never runs."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


class _Dispatcher(QObject):
    """Lives on the GUI thread; a signal emitted from a worker is queued to it."""

    call = Signal(object)

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self.call.connect(self._run)

    def _run(self, fn: Callable[[], None]) -> None:
        fn()


class TaskRunner(QObject):
    """Runs functions on worker threads and calls back on the GUI thread (see module doc).

    ``error`` is emitted (GUI thread) for a failure that has no ``on_error`` callback;
    the main window connects it to the one place that shows errors.
    """

    error = Signal(object)

    def __init__(self, parent: QObject | None = None, *, readers: int = 3) -> None:
        super().__init__(parent)
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="flourish-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="flourish-write")
        self._jobs = ThreadPoolExecutor(3, thread_name_prefix="flourish-job")
        self._dispatch = _Dispatcher(self)
        self._in_flight = 0
        self._closed = False
        gcguard.acquire()

    # -- public lanes ------------------------------------------------------------------
    def read(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
        *,
        name: str = "read",
    ) -> Task[T]:
        return self._submit(self._readers, name, lambda _ctx: fn(), on_done, on_error, None)

    def write(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
        *,
        name: str = "write",
    ) -> Task[T]:
        return self._submit(self._writer, name, lambda _ctx: fn(), on_done, on_error, None)

    def job(
        self,
        fn: Callable[[TaskContext], T],
        on_done: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
        on_progress: ProgressFn | None = None,
        *,
        name: str = "job",
    ) -> Task[T]:
        return self._submit(self._jobs, name, fn, on_done, on_error, on_progress)

    @property
    def idle(self) -> bool:
        """No operation is running or waiting for its callback (GUI thread)."""
        return self._in_flight == 0

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop delivering callbacks; let queued writes finish (when ``wait``).

        Queued reads and jobs that have not started are dropped; running ones are asked
        to stop through their cancel flag by their owners.
        """
        if self._closed:
            return
        self._closed = True
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._jobs.shutdown(wait=False, cancel_futures=True)
        self._writer.shutdown(wait=wait)
        gcguard.release()

    # -- machinery ---------------------------------------------------------------------
    def _post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread (callable from any thread)."""
        if not self._closed:
            try:
                self._dispatch.call.emit(fn)
            except RuntimeError:  # the dispatcher was deleted during shutdown
                pass

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        name: str,
        fn: Callable[[TaskContext], T],
        on_done: Callable[[T], Any] | None,
        on_error: Callable[[BaseException], Any] | None,
        on_progress: ProgressFn | None,
    ) -> Task[T]:
        task: Task[T] = Task(name)
        if self._closed:
            task.finished = True
            return task

        def report(done: int, total: int | None) -> None:
            if on_progress is not None:
                self._post(lambda: None if self._closed else on_progress(done, total))

        ctx = TaskContext(task.cancel_event, report)

        def finish(ok: bool, value: Any) -> None:
            self._in_flight -= 1
            task.finished = True
            if self._closed:
                return
            if ok:
                if on_done is not None:
                    on_done(value)
            elif on_error is not None:
                on_error(value)
            elif not isinstance(value, Cancelled):
                self.error.emit(value)

        def deliver(ok: bool, value: object) -> None:
            self._post(lambda: finish(ok, value))

        def work() -> None:
            if task.cancel_event.is_set():  # cancelled while queued: never started
                deliver(False, Cancelled())
                return
            try:
                value = fn(ctx)
            except BaseException as exc:  # reported on the GUI thread, never swallowed
                if not isinstance(exc, Cancelled):
                    log.error("background %s failed", name, exc_info=exc)
                deliver(False, exc)
            else:
                deliver(True, value)

        self._in_flight += 1
        try:
            pool.submit(work)
        except RuntimeError:  # pool already shut down
            self._in_flight -= 1
            task.finished = True
        return task


class LatestRead(Generic[T]):
    """One background read at a time for a view that refreshes on every change: asked
    again while a read runs, it reads once more when that one has landed, so the view
    ends on the latest data without a pile of reads."""

    def __init__(
        self,
        tasks: TaskRunner,
        name: str,
        *,
        again: Callable[[], None],
        loaded: Callable[[T], None],
    ) -> None:
        self.tasks, self.name, self.again, self.loaded = tasks, name, again, loaded
        self.loading = False
        self.dirty = False

    def start(self, work: Callable[[], T]) -> None:
        if self.loading:
            self.dirty = True
            return
        self.loading = True
        self.tasks.read(work, self._landed, self._failed, name=self.name)

    def _failed(self, exc: BaseException) -> None:
        self.loading = False
        self.tasks.error.emit(exc)

    def _landed(self, value: T) -> None:
        self.loading = False
        self.loaded(value)
        if self.dirty:
            self.dirty = False
            self.again()
