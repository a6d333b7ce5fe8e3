"""One sync round through the Flourish service (the engine's HTTPS path).

The same steps as the direct path — handshake (the teacher and the server's epoch),
push the queue in batches with the engine's pipelining, pull with the same cursor and
resume points — but every server step is an HTTPS request that the service runs in one
transaction as the teacher (:mod:`sync.service.sync_api`).
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

from sync.errors import AuthError
from sync.replication.client.http import ServiceClient
from sync.replication.pull import pull_remote

if TYPE_CHECKING:
    from sync.replication.engine import Progress, SyncEngine, SyncReport

__all__ = ["run_through_service"]


def _client(engine: SyncEngine) -> ServiceClient:
    if engine._service is None:
        engine._service = ServiceClient(engine.url, token=engine.password, ca_file=engine.ca_file)
    return engine._service


def run_through_service(
    engine: SyncEngine,
    report: SyncReport,
    progress: Progress | None,
    cancel: threading.Event | None,
    push: bool,
    pull_after: bool,
) -> None:
    service = _client(engine)
    hello = service.hello()
    expected = engine.store.state("teacher_id")
    if expected and hello["teacher_id"] != expected:
        raise AuthError(
            f"this sign-in is not the teacher this laptop belongs to "
            f"({hello['teacher_id']} vs {expected})"
        )

    def register() -> int:
        answer = service.register(str(engine.store.state("device_uuid")), socket.gethostname())
        return int(answer["device_no"])

    engine.check_epoch(hello.get("server_epoch"), register)
    if push:
        device = engine.store.device_no
        engine._push_all(lambda ops, now: service.push(device, ops, now), report, progress, cancel)
    if pull_after:
        report.pull = pull_remote(
            service, engine.store, page_size=engine.page_size, progress=progress, cancel=cancel
        )
