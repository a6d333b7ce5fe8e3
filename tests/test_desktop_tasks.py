"""The task runner (writer order, cancel, progress, errors), the GC guard and the PySide6
6.12.0 reference-count workaround."""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from desktop.core import gcguard, qtfix
from desktop.core.tasks import Cancelled, TaskContext, TaskRunner


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def test_writes_apply_in_submission_order_off_the_gui_thread(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    gui = threading.get_ident()
    seen: list[int] = []
    threads: set[int] = set()
    done: list[int] = []

    def write(n: int) -> int:
        time.sleep(0.002 if n % 2 else 0)
        seen.append(n)
        threads.add(threading.get_ident())
        return n

    for n in range(30):
        runner.write(lambda n=n: write(n), done.append)
    qtbot.waitUntil(lambda: runner.idle)
    assert seen == list(range(30)) and done == list(range(30))
    assert len(threads) == 1 and gui not in threads


def test_callbacks_run_on_the_gui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    where: list[int] = []
    runner.read(lambda: 1, lambda _v: where.append(threading.get_ident()))
    qtbot.waitUntil(lambda: runner.idle)
    assert where == [threading.get_ident()]


def test_job_progress_and_cancel(qtbot: QtBot, runner: TaskRunner) -> None:
    progress: list[tuple[int, int | None]] = []
    errors: list[BaseException] = []
    started = threading.Event()

    def long(tc: TaskContext) -> str:
        started.set()
        for n in range(1, 1000):
            tc.check()
            tc.progress(n, 1000)
            time.sleep(0.001)
        return "finished"

    task = runner.job(long, lambda _v: None, errors.append, lambda d, t: progress.append((d, t)))
    started.wait(5)
    qtbot.waitUntil(lambda: bool(progress))
    task.cancel()
    qtbot.waitUntil(lambda: runner.idle)
    assert errors and isinstance(errors[0], Cancelled)
    assert progress[-1][0] < 999


def test_a_task_cancelled_while_queued_never_runs(qtbot: QtBot, runner: TaskRunner) -> None:
    gate = threading.Event()
    ran: list[str] = []
    runner.write(lambda: gate.wait(5))
    queued = runner.write(lambda: ran.append("ran"))
    queued.cancel()
    gate.set()
    qtbot.waitUntil(lambda: runner.idle)
    assert ran == [] and queued.finished


def test_failures_without_a_handler_reach_the_error_signal(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    with qtbot.waitSignal(runner.error) as blocker:
        runner.read(lambda: 1 / 0)
    assert isinstance(blocker.args[0], ZeroDivisionError)


def test_no_callbacks_after_shutdown(qtbot: QtBot) -> None:
    r = TaskRunner()
    called: list[int] = []
    r.write(lambda: time.sleep(0.05), lambda _v: called.append(1))
    r.shutdown(wait=True)  # the queued write still runs, its callback does not
    qtbot.wait(50)
    assert called == []


def test_garbage_is_collected_on_the_gui_thread_only(qtbot: QtBot) -> None:
    r = TaskRunner()
    try:
        assert not gc.isenabled()
        threads: list[int] = []
        gc.callbacks.append(lambda phase, _info: threads.append(threading.get_ident()))
        try:
            for _ in range(5000):  # cycles made on a worker thread
                r.read(lambda: [[] for _ in range(50)])
            qtbot.waitUntil(lambda: r.idle)
            for _ in range(3000):
                a: list[object] = []
                a.append(a)
            gcguard.collect_if_needed()
        finally:
            gc.callbacks.pop()
        assert threads and set(threads) == {threading.get_ident()}
    finally:
        r.shutdown()
    assert gc.isenabled()


class _Emitter(QObject):
    ping = Signal(object)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal there")
def test_pyside_reference_leaks_cannot_drain_none_or_true() -> None:
    """PySide6 6.12.0 drops a reference to None per void call and to True per emit."""
    leaks = qtfix.probe()
    if not leaks.any:
        pytest.skip("this PySide6 does not leak references")
    assert sys.getrefcount(None) > qtfix.EXTRA_REFERENCES // 2
    assert sys.getrefcount(True) > qtfix.EXTRA_REFERENCES // 2
    emitter = _Emitter()
    for _ in range(20_000):
        emitter.setObjectName("x")  # void: drops None
        emitter.ping.emit(1)  # drops True
    assert sys.getrefcount(None) > qtfix.EXTRA_REFERENCES // 2
