"""The laptop's HTTPS client and a server that closes idle keep-alive connections.

A server may close a pooled connection just as the laptop reuses it: the request then dies
before any answer ("Server disconnected without sending a response"). Every ``/v1`` request
is safe to resend, so :class:`~sync.replication.client.http.ServiceClient` sends it once
more on a fresh connection — once, not forever. The server here is a few lines of plain
sockets that answer the first request on each connection and close the connection at the
second without answering: exactly what a server does that timed the connection out.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from sync.errors import TransientError
from sync.replication.client.http import KEEPALIVE_EXPIRY_S, ServiceClient
from sync.service.serve import KEEP_ALIVE_S

BODY = b'{"teacher_id":"T001"}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


class ClosingServer:
    """Answers ``answers_per_connection`` requests on a connection, then closes it when the
    next request arrives, without a word."""

    def __init__(self, answers_per_connection: int) -> None:
        self.answers_per_connection = answers_per_connection
        self.connections = 0
        self.requests = 0  # requests that arrived, answered or not
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            answered = 0
            while _read_request(conn):
                self.requests += 1
                if answered == self.answers_per_connection:
                    return  # closed under the client's feet, before any response
                conn.sendall(ANSWER)
                answered += 1

    def close(self) -> None:
        self.sock.close()


def _read_request(conn: socket.socket) -> bool:
    """Read one bodiless request's head; False when the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


@pytest.fixture
def closing() -> Iterator[ClosingServer]:
    server = ClosingServer(answers_per_connection=1)
    yield server
    server.close()


def test_a_request_on_a_connection_the_server_closed_is_sent_once_more(
    closing: ClosingServer,
) -> None:
    client = ServiceClient(closing.url, token="t")
    try:
        assert client.hello() == {"teacher_id": "T001"}
        assert client.resent == 0
        # the pooled connection is reused; the server closes it instead of answering
        assert client.hello() == {"teacher_id": "T001"}
        assert client.resent == 1
        assert (closing.connections, closing.requests) == (2, 3)
    finally:
        client.close()


def test_a_server_that_never_answers_fails_after_one_resend() -> None:
    server = ClosingServer(answers_per_connection=0)
    client = ServiceClient(server.url, token="t")
    try:
        with pytest.raises(TransientError, match="connection to the server was lost"):
            client.hello()
        assert (server.connections, server.requests, client.resent) == (2, 2, 1)
    finally:
        client.close()
        server.close()


def test_the_laptop_drops_idle_connections_before_the_service_does() -> None:
    client = ServiceClient("http://127.0.0.1:9", token="t")
    try:
        pool = client.http._transport._pool  # type: ignore[attr-defined]
        assert pool._keepalive_expiry == KEEPALIVE_EXPIRY_S == 30.0
    finally:
        client.close()
    assert KEEPALIVE_EXPIRY_S < KEEP_ALIVE_S
