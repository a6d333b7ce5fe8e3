"""A TCP proxy on 127.0.0.1 that injects network faults: between a laptop and the Flourish
service, or between the service and PostgreSQL.

``online = False`` refuses new connections and cuts the open ones (a laptop leaving the
school network); ``latency_s`` delays every chunk; ``drop_after_bytes`` cuts a connection
once that many bytes went through it (a drop mid-transaction), ``drop_probability`` cuts
a connection at a random chunk. All traffic stays on loopback.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from contextlib import suppress


class FaultProxy:
    def __init__(self, target_port: int, *, seed: int = 1) -> None:
        self.target_port = target_port
        self.online = True
        self.latency_s = 0.0
        self.drop_after_bytes: int | None = None
        self.drop_probability = 0.0
        self.drops = 0
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = int(self._server.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, admin_url: str) -> str:
        """``admin_url`` (a postgresql:// or the service's https:// URL on 127.0.0.1)
        pointed at the proxy."""
        return re.sub(rf":{self.target_port}(?=/|$)", f":{self.port}", admin_url, count=1)

    def go_offline(self) -> None:
        self.online = False
        self.cut_all()

    def go_online(self) -> None:
        self.online = True

    def cut_all(self) -> None:
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                conn.close()

    def close(self) -> None:
        self._stop = True
        self.cut_all()
        with suppress(OSError):
            self._server.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.online:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            budget = [self.drop_after_bytes]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b, budget), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, budget: list[int | None]) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.latency_s:
                    time.sleep(self.latency_s)
                cut = not self.online
                with self._lock:
                    if budget[0] is not None:
                        budget[0] -= len(data)
                        cut = cut or budget[0] <= 0
                    cut = cut or (
                        self.drop_probability and self.rng.random() < self.drop_probability
                    )
                if cut:
                    self.drops += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)
