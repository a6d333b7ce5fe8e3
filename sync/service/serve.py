"""``flourish server serve``: run the service on uvicorn, with TLS when given a certificate.

Stateless: start as many processes (on as many machines) as the load needs behind any
load balancer; each holds one connection pool. Without ``--tls-cert`` it serves plain HTTP,
which is only for a TLS reverse proxy on the same host (see ``packaging/server``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import FrameType

from sync.errors import ValidationError
from sync.server.central import display_url
from sync.service.db import Database, DbSettings
from sync.service.limits import Limits

__all__ = ["KEEP_ALIVE_S", "parse_bind", "serve"]

log = logging.getLogger("flourish.service")

DEFAULT_BIND = "127.0.0.1:8443"
#: Seconds an idle connection is kept open: longer than any client keeps one (the laptop's
#: httpx: 30 s), so the server never closes a connection the client is about to reuse.
KEEP_ALIVE_S = 75


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(f"--bind {bind!r}: expected HOST:PORT, e.g. 0.0.0.0:8443")
    return host.strip("[]"), int(port)


def serve(
    settings: DbSettings,
    *,
    bind: str = DEFAULT_BIND,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    access_log: bool = True,
    limits: Limits | None = None,
) -> None:
    """Check the database login, then serve until interrupted."""
    import uvicorn

    from sync.service.app import create_app

    host, port = parse_bind(bind)
    if (tls_cert is None) != (tls_key is None):
        raise ValidationError("give both --tls-cert and --tls-key (or neither)")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise ValidationError(f"no such file: {path}")
    probe = Database(settings)  # fail fast, with the reason, before binding the port
    try:
        probe.check_service_login()
    finally:
        probe.dispose()
    scheme = "https" if tls_cert else "http"
    log.info("serving %s://%s:%d for %s", scheme, host, port, display_url(settings.url))
    app = create_app(settings, limits=limits)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # answer the long polls now: uvicorn waits for open requests before stopping
            hub = getattr(app.state, "hub", None)
            if hub is not None:
                hub.release_all_threadsafe()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        access_log=access_log,
        log_level="info",
        server_header=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    Server(config).run()
