"""Live updates on the laptop: wait on the service for changes, in a thread of its own.

:class:`ChangeWatcher` long-polls ``GET /v1/sync/wait`` (the same call as
:meth:`~sync.replication.client.http.ServiceClient.wait_for_changes`, made with httpx's
asyncio client so that :meth:`ChangeWatcher.stop` interrupts a wait at once instead of
after its timeout) and calls ``on_change`` whenever the service says something this
teacher can see changed. It never syncs itself: the sync loop does, on its own thread.

Each wait sends the previous answer's mark (``since``), so a change committed while no
wait was open (between two polls, or while a 429 pause lasted) answers the next at once.

It ends on the first failure (offline, signed out, an old server without live updates):
the sync loop's next successful round starts a new one, and its timer keeps syncing
meanwhile. Too many requests (429) only pause it for the ``Retry-After`` the service asks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx

from sync.replication.client.http import WAIT_PATH, is_service_url, tls_context
from sync.replication.protocol import VERSION_HEADER, app_version

__all__ = ["ChangeWatcher", "watcher_for"]

log = logging.getLogger(__name__)


class ChangeWatcher:
    """One long poll after another until stopped or failed (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        on_change: Callable[[], Any],
        ca_file: str | None = None,
        timeout_s: int = 25,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.on_change = on_change
        self.ca_file = ca_file
        self.timeout_s = timeout_s
        self.wakes = 0  # answers that said "changed"
        self.polls = 0  # answers received
        self.ended: str | None = None  # why it stopped, once it has
        self.mark: str | None = None  # the previous answer's mark, sent as ``since``
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()
        self._ready = threading.Event()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ChangeWatcher:
        self._thread = threading.Thread(target=self._run, name="flourish-live", daemon=True)
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop now (an open wait is cancelled); ``timeout``: wait that long for the thread."""
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop closed meanwhile: the thread is ending anyway
                pass
        if timeout is not None and self._thread is not None:
            self._thread.join(timeout)

    # -- the thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # noqa: BLE001 - a watcher must never take the app down
            log.warning("live updates stopped: %s", exc)
            self.ended = self.ended or f"unexpected: {exc}"
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._ready.set()
        if self._stopping.is_set():
            return
        headers = {
            VERSION_HEADER: app_version(),
            "User-Agent": f"Flourish/{app_version()}",
            "Authorization": f"Bearer {self.token}",
        }
        verify: Any = tls_context(self.ca_file) if self.base_url.startswith("https") else False
        timeout = httpx.Timeout(self.timeout_s + 30.0, connect=10.0)
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, verify=verify, headers=headers, timeout=timeout
            ) as http:
                while not self._stopping.is_set():
                    if not await self._poll(http):
                        return
        except asyncio.CancelledError:
            self.ended = self.ended or "stopped"

    async def _poll(self, http: httpx.AsyncClient) -> bool:
        """One long poll; False when the watcher should end."""
        try:
            params: dict[str, Any] = {"timeout": self.timeout_s}
            if self.mark:
                params["since"] = self.mark
            answer = await http.get(WAIT_PATH, params=params)
        except httpx.HTTPError as exc:
            self.ended = f"offline: {exc or type(exc).__name__}"
            return False
        self.polls += 1
        if answer.status_code == 429:
            await asyncio.sleep(_retry_after(answer))
            return True
        if answer.status_code != 200:
            self.ended = f"HTTP {answer.status_code}"
            return False
        try:
            body = answer.json()
            changed = bool(body["changed"])
            # an older service sends no mark: each wait then starts from its own request
            self.mark = str(body["mark"]) if body.get("mark") else None
        except (ValueError, KeyError, TypeError, AttributeError):
            self.ended = "the service's answer was not understood"
            return False
        if changed:
            self.wakes += 1
            self.on_change()
        return True


def _retry_after(answer: httpx.Response) -> float:
    try:
        return min(60.0, max(1.0, float(answer.headers.get("Retry-After", "5"))))
    except ValueError:
        return 5.0


def watcher_for(
    url: str | None, token: str | None, ca_file: str | None, on_change: Callable[[], Any]
) -> ChangeWatcher | None:
    """A started watcher for a laptop that syncs through the service; None otherwise."""
    if not url or not token or not is_service_url(url):
        return None
    return ChangeWatcher(url, token=token, ca_file=ca_file, on_change=on_change).start()
