"""Live updates: one LISTEN connection per process wakes the laptops waiting on it.

The database announces every committed change on the channel :data:`CHANNEL` (the
statement-level ``sync_notify`` triggers, migration 0008): the payload is the id of a
teacher whose laptops can see the changed rows, or ``*`` when every teacher can (a
``teachers`` row). PostgreSQL delivers a notification only when its transaction commits,
and once per distinct payload per transaction.

:class:`ChangeHub` holds the process's one listening connection (psycopg2 in autocommit,
read by the event loop when its socket is readable — no thread, no pooled connection) and
the laptops waiting in ``GET /v1/sync/wait``: each waits on an asyncio future, so a
waiting laptop costs a socket and a few hundred bytes, never a database connection.

Each answer carries a *mark* (:meth:`ChangeHub.mark`: this process's id and its count of
notifications); a laptop that sends it back with its next wait (``since``) is woken at once
by a change announced between the two waits, while no wait of its was open. A mark of
another process (the service restarted) counts from now, as a wait without one does.

A notification may be lost only while the listener is disconnected; it reconnects with a
backoff and then wakes every waiting laptop (a sync finds whatever it missed), and the
laptop's timer stays as the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from typing import Any

import psycopg2
import psycopg2.extensions

from sync.server.central import DEFAULT_CONNECT_TIMEOUT, display_url, normalise_url

__all__ = ["CHANNEL", "EVERYONE", "MARK_PATTERN", "ChangeHub"]

log = logging.getLogger("flourish.service")

CHANNEL = "flourish_changes"
EVERYONE = "*"
_TEACHER = re.compile(r"^[A-Za-z0-9_-]{1,10}$")
#: A mark as :meth:`ChangeHub.mark` makes it: ``<process id, 8 hex>-<notification count>``.
MARK_PATTERN = r"^[0-9a-f]{8}-[0-9]{1,18}$"


class ChangeHub:
    """The process's listener and its waiting requests; use it on the event loop only."""

    def __init__(self, url: str, *, retry_max_s: float = 5.0) -> None:
        self.url = url
        self.retry_max_s = retry_max_s
        self.seq = 0  # notifications seen by this process, in order
        self.process = secrets.token_hex(4)  # tells this process's marks from another's
        self._last: dict[str, int] = {}  # teacher id -> seq of its latest notification
        self._everyone = 0  # seq of the latest notification for every teacher
        self._waiters: dict[str, set[asyncio.Future[bool]]] = {}
        self._conn: psycopg2.extensions.connection | None = None
        # its socket, kept: a closed psycopg2 connection no longer tells its fileno(), and
        # a reader left registered would swallow the next connection's (same-numbered) fd
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._closed = False
        self.connected = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Listen (or keep trying in the background while the database is away)."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._listen()
        except psycopg2.Error as exc:
            log.warning("live updates: cannot listen yet (%s); retrying", _first_line(exc))
            self._reconnect = asyncio.create_task(self._reconnect_loop())

    async def stop(self) -> None:
        self._closed = True
        task = self._reconnect
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drop_connection()
        self.release_all()

    def release_all(self) -> None:
        """Answer every waiting laptop now ("changed": a sync elsewhere is worth it); the
        process is shutting down."""
        self._closed = True
        for waiters in self._waiters.values():
            for future in waiters:
                if not future.done():
                    future.set_result(True)

    def release_all_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.release_all)

    # -- waiting ------------------------------------------------------------------------
    def mark(self) -> str:
        """Where the announcements stand now, for a laptop to send back as ``since``."""
        return f"{self.process}-{self.seq}"

    def since(self, mark: str | None) -> int:
        """The notification count a wait starts from: the mark's when this process made
        it, else now (no mark, or one from before a restart: its count means nothing here)."""
        if mark:
            process, _, count = mark.partition("-")
            if process == self.process and count.isdigit():
                return min(int(count), self.seq)
        return self.seq

    def changed_since(self, teacher_id: str, since: int) -> bool:
        return self._last.get(teacher_id, 0) > since or self._everyone > since

    @property
    def waiting(self) -> int:
        return sum(len(w) for w in self._waiters.values())

    async def wait(self, teacher_id: str, since: int, timeout: float) -> bool:
        """True as soon as a change for ``teacher_id`` arrives after :attr:`seq` was
        ``since``; False after ``timeout`` seconds without one."""
        if self._closed or self.changed_since(teacher_id, since):
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(teacher_id, set())
        waiters.add(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        finally:
            waiters.discard(future)
            if not waiters:
                self._waiters.pop(teacher_id, None)

    def _wake(self, payload: str) -> None:
        self.seq += 1
        if payload == EVERYONE:
            self._everyone = self.seq
            targets: list[asyncio.Future[bool]] = [f for w in self._waiters.values() for f in w]
        elif _TEACHER.match(payload):
            self._last[payload] = self.seq
            targets = list(self._waiters.get(payload, ()))
        else:
            log.warning("live updates: ignoring a notification with payload %r", payload[:40])
            return
        for future in targets:
            if not future.done():
                future.set_result(True)

    # -- the listening connection ----------------------------------------------------
    async def _listen(self) -> None:
        conn = await asyncio.to_thread(self._connect)
        assert self._loop is not None
        self._conn, self._fd = conn, conn.fileno()
        self._loop.add_reader(self._fd, self._readable)
        self.connected.set()
        log.info("live updates: listening on %s", display_url(self.url))

    def _connect(self) -> psycopg2.extensions.connection:
        dsn = normalise_url(self.url).set(drivername="postgresql")
        conn = psycopg2.connect(
            dsn.render_as_string(hide_password=False),
            connect_timeout=DEFAULT_CONNECT_TIMEOUT,
            application_name="flourish-service-listen",
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {CHANNEL}")
        return conn

    def _readable(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            conn.poll()
        except psycopg2.Error as exc:
            log.warning("live updates: lost the listener (%s); reconnecting", _first_line(exc))
            self._drop_connection()
            if not self._closed and self._reconnect is None:
                self._reconnect = asyncio.ensure_future(self._reconnect_loop())
            return
        while conn.notifies:
            self._wake(conn.notifies.pop(0).payload)

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        fd, self._fd = self._fd, None
        self.connected.clear()
        if fd is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(fd)
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.close()

    async def _reconnect_loop(self) -> None:
        delay = 0.2
        try:
            while not self._closed:
                await asyncio.sleep(delay)
                try:
                    await self._listen()
                except psycopg2.Error as exc:
                    log.debug("live updates: still cannot listen: %s", _first_line(exc))
                    delay = min(self.retry_max_s, delay * 2)
                    continue
                self._wake(EVERYONE)  # whatever was announced meanwhile is lost: wake all
                return
        finally:
            self._reconnect = None


def _first_line(exc: Any) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
