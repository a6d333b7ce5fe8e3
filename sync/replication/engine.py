"""The sync engine: push the laptop's queue, then pull the server's changes.

:class:`SyncEngine` is used by ``flourish sync`` (once, headless) and by the sync loop
(:mod:`sync.replication.worker`, on its own thread, with retry and backoff around it). It
talks to the school's Flourish server over HTTPS only (:mod:`sync.replication.client`):
the server runs every step in one database transaction as the teacher and decides the
merge; no laptop code opens a database connection. One engine keeps one warm HTTPS
connection; it is not thread-safe: use it from one thread at a time. ``sync_once`` never
leaves the local store half-updated: each pushed batch is acknowledged in one local
transaction (:mod:`sync.replication.client.send`), each pulled page is applied in one
(:mod:`sync.replication.client.pull`).

Every round starts with a handshake: the service answers which teacher the device token
stands for (it must be this store's) and the server's epoch (a server restored from a
backup has a new one: the laptop then sends everything it holds again and pulls from the
beginning).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sync.credentials import get_secret, server_key_name
from sync.errors import AuthError, FlourishError, SchemaVersionError, ServerError
from sync.replication.client.http import ServiceClient, require_service_url
from sync.replication.client.pull import PullReport, pull
from sync.replication.client.send import PushCounts, send_queue
from sync.replication.protocol import SYNC_PROTOCOL
from sync.store import queue
from sync.store.local import LocalStore, sqlite_of
from sync.store.state import (
    DEVICE_NO,
    DEVICE_UUID,
    LAST_ERROR,
    LAST_SYNC,
    LOGIN,
    PULL_CURSOR,
    PULL_RESUME,
    SERVER_CA,
    SERVER_EPOCH,
    SERVER_URL,
    TEACHER_ID,
)
from sync.store.state import save as save_state

__all__ = ["SYNC_PROTOCOL", "NotConfigured", "SyncEngine", "SyncReport"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]


class NotConfigured(FlourishError):
    """This store has no server to sync with (``flourish login`` first)."""


@dataclass
class SyncReport(PushCounts):
    """What one round did: the push's counts, the pull's report and the time taken."""

    pull: PullReport = field(default_factory=PullReport)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"pushed {self.pushed} change(s) ({self.lost} lost, {self.rejected} rejected), "
            f"pulled {self.pull.rows} row(s) and {self.pull.deleted} deletion(s), "
            f"{self.conflicts} new conflict(s) in {self.seconds:.2f} s"
        )


class SyncEngine:
    """Push then pull for one local store (see the module docstring for the rules)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        url: str,
        token: str,
        batch_size: int = 2000,
        page_size: int = 5000,
        ca_file: str | None = None,
    ) -> None:
        require_service_url(url)
        self.store = store
        self.url = url
        self.token = token
        self.batch_size = batch_size
        self.page_size = page_size
        self.ca_file = ca_file
        self._service: ServiceClient | None = None

    @classmethod
    def from_store(
        cls,
        store: LocalStore,
        *,
        token: str | None = None,
        password: str | None = None,
        **options: Any,
    ) -> SyncEngine:
        """The engine for the server this store is signed in to; the device token from
        ``token`` (``password`` is its older name), else the OS keyring, else
        ``FLOURISH_TOKEN``."""
        token = token or password
        url = store.state(SERVER_URL)
        login = store.state(LOGIN)
        if not url or not login:
            raise NotConfigured("this laptop is not signed in to a server: run 'flourish login'")
        try:
            require_service_url(url)  # a store signed in directly to the database before
        except ServerError as exc:
            store.set_state({LAST_ERROR: str(exc)})
            raise
        host = urlsplit(url).hostname or ""
        token = token or get_secret(server_key_name(login, host), env="FLOURISH_TOKEN")
        if token is None:
            raise AuthError(
                f"not signed in to {url} on this laptop: sign in again ('flourish login')"
            )
        return cls(store, url=url, token=token, ca_file=store.state(SERVER_CA), **options)

    def _client(self) -> ServiceClient:
        if self._service is None:
            self._service = ServiceClient(self.url, token=self.token, ca_file=self.ca_file)
        return self._service

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None

    def __enter__(self) -> SyncEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one round ---------------------------------------------------------------------
    def sync_once(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Push every pending change, then pull. Raises ServerError subclasses."""
        return self._run(progress, cancel, push=True, pull_after=True)

    def push(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Only push the queue (the pull part of :meth:`sync_once` is skipped)."""
        return self._run(progress, cancel, push=True, pull_after=False)

    def pull(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """Only pull (nothing queued is sent)."""
        return self._run(progress, cancel, push=False, pull_after=True)

    def _run(
        self,
        progress: Progress | None,
        cancel: threading.Event | None,
        *,
        push: bool,
        pull_after: bool,
    ) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport()
        try:
            service = self._client()
            self._handshake(service)
            if push:
                device = self.store.device_no
                counts = send_queue(
                    self.store,
                    lambda ops, now: service.push(device, ops, now),
                    batch_size=self.batch_size,
                    progress=progress,
                    cancel=cancel,
                )
                for name, value in vars(counts).items():
                    setattr(report, name, value)
            if pull_after:
                report.pull = pull(
                    service, self.store, page_size=self.page_size, progress=progress, cancel=cancel
                )
        except ServerError as exc:
            self._record_error(exc)
            raise
        report.seconds = time.perf_counter() - started
        if push and pull_after:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
            self.store.set_state({LAST_SYNC: now + "Z", LAST_ERROR: None})
        return report

    def _handshake(self, service: ServiceClient) -> None:
        """The token's teacher must be this store's; a new server epoch means a restore."""
        hello = service.hello()
        if int(hello.get("protocol", 0)) != SYNC_PROTOCOL:
            raise SchemaVersionError(
                f"update required: this Flourish speaks sync protocol {SYNC_PROTOCOL}, the "
                f"server {hello.get('protocol')} (server version {hello.get('server_version')})"
            )
        expected = self.store.state(TEACHER_ID)
        if expected and hello["teacher_id"] != expected:
            raise AuthError(
                f"this sign-in is not the teacher this laptop belongs to "
                f"({hello['teacher_id']} vs {expected})"
            )

        def register() -> int:
            answer = service.register(str(self.store.state(DEVICE_UUID)), socket.gethostname())
            return int(answer["device_no"])

        self.check_epoch(hello.get("server_epoch"), register)

    def check_epoch(self, epoch: str | None, register: Callable[[], int]) -> None:
        """Compare the server's epoch with the one this store last saw (see above)."""
        known = self.store.state(SERVER_EPOCH)
        if epoch is None or epoch == known:
            return
        if known is not None:
            self._recover_after_restore(register())
        self.store.set_state({SERVER_EPOCH: epoch})

    def _recover_after_restore(self, device_no: int) -> None:
        """The server lost what came after its backup; this laptop still has it.

        Everything it holds is queued again as it is (same stamps: timestamp-wins keeps
        whichever side is newer), the device is registered again if the backup predates it
        (``device_no`` is what the registration answered), and the next pull starts from
        the beginning.
        """
        from sync.model.tables import SYNCED_TABLES
        from sync.store.capture import requeue_sql

        log.warning("the server was restored from a backup: re-sending this laptop's data")
        with self.store.apply_remote() as conn:
            raw = sqlite_of(conn)
            # operations sent before may have been lost with the restore: send them again
            queue.resend_all(raw)
            for table in SYNCED_TABLES:
                if table not in ("teachers", "sync_conflicts"):
                    raw.execute(requeue_sql(table))
            save_state(raw, {PULL_CURSOR: "0", DEVICE_NO: str(device_no), PULL_RESUME: None})

    def _record_error(self, exc: BaseException) -> None:
        try:
            self.store.set_state({LAST_ERROR: str(exc)})
        except Exception:  # never hide the original error
            log.exception("could not record the sync error")
