"""An HTTPS client of the Flourish service: certificate verified, errors in plain words.

A school's own CA (or a self-signed certificate) is trusted with ``ca_file`` (``flourish
login --ca-cert FILE``); otherwise the system's trusted CAs. Every request carries the
program's version (the service answers 426 to an old client) and the device token.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx

from sync.errors import (
    AuthError,
    ConfigurationError,
    SchemaVersionError,
    ServerError,
    TransientError,
    ValidationError,
)
from sync.replication.protocol import VERSION_HEADER, app_version
from sync.replication.push import BatchResult, OpResult
from sync.replication.wire import Op, pk_value

__all__ = [
    "DIRECT_URL_MESSAGE",
    "KEEPALIVE_EXPIRY_S",
    "MAX_PUSH_BYTES",
    "WAIT_PATH",
    "ServiceClient",
    "check_ca_file",
    "is_database_url",
    "is_service_url",
    "require_service_url",
    "tls_context",
]

#: A push request is split when its body would exceed this (the service takes 8 MiB).
MAX_PUSH_BYTES = 4 * 1024 * 1024
#: The long poll of live updates (``?timeout=`` 1-60 s, ``&since=`` the last answer's mark).
WAIT_PATH = "/v1/sync/wait"
#: How long an idle connection stays in the pool: well under the 75 s the service keeps one
#: (``sync/service/serve.py``), so the laptop drops an idle connection before the server does.
KEEPALIVE_EXPIRY_S = 30.0
#: Failures of a connection that the server may have closed just as it was reused (before
#: any answer): the request is sent once more on a fresh connection. Every ``/v1`` request is
#: safe to resend (a push is applied exactly once per device and operation id).
STALE_CONNECTION = (
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
    httpx.ConnectError,
)


def queued(op: Op) -> dict[str, Any]:
    """The queue row an operation was parsed from (the service parses it again)."""
    if op.kind == "upsert":
        payload = json.dumps(op.row, separators=(",", ":"))
    else:
        payload = json.dumps({"id": pk_value(op.table, op.pk), "sync_version": op.base_version})
    return {
        "op_id": op.op_id,
        "table": op.table,
        "row_pk": op.pk,
        "op": op.kind,
        "payload": payload,
        "sync_hlc": op.hlc,
    }


#: What a laptop hears when it still knows the database's address (an older version synced
#: with PostgreSQL directly): its data and queue stay, and go out after the new sign-in.
DIRECT_URL_MESSAGE = (
    "this version syncs through your school's Flourish server: ask IT for its https address"
)


def is_service_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def is_database_url(url: str | None) -> bool:
    """A PostgreSQL address (``postgresql://``, ``postgres://``, ``postgresql+driver://``)."""
    return bool(url) and str(url).lower().startswith(("postgresql", "postgres:"))


def require_service_url(url: str) -> None:
    """Refuse anything but the Flourish server's address, a database's in plain words."""
    if is_database_url(url):
        raise ConfigurationError(DIRECT_URL_MESSAGE)
    if not is_service_url(url):
        raise ConfigurationError(f"{url}: expected the Flourish server's https:// address")


def _context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return (
            ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"TLS: cannot read the CA certificate {ca_file}: {exc}") from exc


#: A CA file bigger than this is not a certificate (a bundle of every public CA is ~200 KiB).
MAX_CA_BYTES = 1024 * 1024


def check_ca_file(path: str) -> str:
    """The absolute path of a readable PEM CA certificate file, or a ValidationError that
    says what is wrong with it (missing, a folder, unreadable, not PEM, not a certificate)."""
    given = path.strip()
    if not given:
        raise ValidationError("CA certificate: choose the certificate file (PEM)")
    file = Path(given).expanduser().resolve()
    if not file.exists():
        raise ValidationError(f"CA certificate {given}: no such file")
    if not file.is_file():
        raise ValidationError(f"CA certificate {given}: a folder, not a certificate file")
    try:
        if file.stat().st_size > MAX_CA_BYTES:
            raise ValidationError(f"CA certificate {given}: too large to be a certificate")
        data = file.read_bytes()
    except OSError as exc:
        raise ValidationError(f"CA certificate {given}: cannot read it ({exc.strerror})") from exc
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValidationError(
            f"CA certificate {given}: no PEM certificate in it (a text file that begins "
            "with -----BEGIN CERTIFICATE-----; IT can convert a .der or .cer file)"
        )
    try:
        ssl.create_default_context(cafile=str(file))
    except ssl.SSLError as exc:
        raise ValidationError(
            f"CA certificate {given}: the certificate cannot be read ({exc.reason or exc})"
        ) from exc
    return str(file)


def _certificate_problem(exc: Exception) -> bool:
    return isinstance(exc, httpx.ConnectError) and (
        "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate" in str(exc).lower()
    )


tls_context = _context  # the live-update watcher's client trusts the same CA


class ServiceClient:
    """One warm HTTPS connection (keep-alive) to the service; thread-safe.

    An idle connection is dropped after :data:`KEEPALIVE_EXPIRY_S`; a request whose reused
    connection turns out closed by the server is sent once more (:data:`STALE_CONNECTION`).
    """

    def __init__(
        self, base_url: str, *, token: str | None = None, ca_file: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {VERSION_HEADER: app_version(), "User-Agent": f"Flourish/{app_version()}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=self.base_url,
            verify=_context(ca_file) if self.base_url.startswith("https") else False,
            headers=headers,
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )
        self.resent = 0  # requests sent again after their connection was found closed
        self.mark: str | None = None  # the latest live-update answer's mark

    def close(self) -> None:
        self.http.close()

    # -- transport -------------------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None) -> Any:
        if body is None:
            return self._answer(self._send(method, path))
        content = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        return self._answer(self._send(method, path, content=content, headers=headers))

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request, sent a second time (once) when its connection was found closed;
        transport failures in plain words."""
        try:
            try:
                return self.http.request(method, path, **options)
            except STALE_CONNECTION as exc:
                if _certificate_problem(exc):
                    raise
                # the server closed a pooled connection as it was reused (or it never came
                # back): the pool has dropped it; a fresh connection answers or fails for good
                self.resent += 1
                return self.http.request(method, path, **options)
        except httpx.ConnectError as exc:
            if _certificate_problem(exc):
                raise ConfigurationError(
                    f"TLS: the server certificate could not be verified ({exc}); trust the "
                    "school's CA certificate in Settings ▸ Server (or with 'flourish login "
                    "--ca-cert FILE')"
                ) from exc
            raise TransientError(f"server unreachable: {exc} ({self.base_url})") from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"server unreachable: timed out ({self.base_url})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"connection to the server was lost ({exc})") from exc

    @staticmethod
    def _answer(answer: httpx.Response) -> Any:
        if answer.status_code < 300:
            return answer.json()
        code = ""
        try:
            problem = answer.json()
            message = str(problem.get("error") or answer.reason_phrase)
            code = str(problem.get("code") or "")
        except (ValueError, AttributeError):
            message = f"HTTP {answer.status_code} {answer.reason_phrase}"
        status = answer.status_code
        if status == 401:
            raise AuthError(message)
        if status == 403:
            raise AuthError(f"permission denied: {message}")
        if status == 426 or code == "schema":
            raise SchemaVersionError(message)
        if status in (429, 502, 503, 504):
            raise TransientError(f"the server is busy or unavailable: {message}")
        raise ServerError(f"the server refused the request: {message}")

    # -- sign-in and handshake -------------------------------------------------------
    def sign_in(self, login: str, password: str, device_name: str) -> dict[str, Any]:
        body = {"login": login, "password": password, "device_name": device_name}
        answer: dict[str, Any] = self.call("POST", "/v1/login", body)
        self.http.headers["Authorization"] = f"Bearer {answer['token']}"
        return answer

    def hello(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", "/v1/sync/hello")
        return answer

    def register(self, device_uuid: str, hostname: str) -> dict[str, Any]:
        body = {"device_uuid": device_uuid, "hostname": hostname[:255] or "laptop"}
        answer: dict[str, Any] = self.call("POST", "/v1/sync/register", body)
        return answer

    # -- push --------------------------------------------------------------------------
    def push(self, device_no: int, ops: list[Op], now: int) -> BatchResult:
        """Send ``ops`` as queued; split when the body would be too big."""
        return self._push(device_no, [queued(op) for op in ops], now)

    def _push(self, device_no: int, raw: list[dict[str, Any]], now: int) -> BatchResult:
        size = sum(len(r["payload"]) + 200 for r in raw)
        if size > MAX_PUSH_BYTES and len(raw) > 1:
            half = len(raw) // 2
            first = self._push(device_no, raw[:half], now)
            second = self._push(device_no, raw[half:], now)
            return BatchResult(
                results=first.results + second.results,
                skew_ms=second.skew_ms,
                conflicts=first.conflicts + second.conflicts,
                events=first.events + second.events,
            )
        body = {
            "device_no": device_no,
            "client_now_ms": now,
            "ops": raw,
        }
        answer = self.call("POST", "/v1/sync/push", body)
        return BatchResult(
            results=[OpResult(**r) for r in answer["results"]],
            skew_ms=int(answer["skew_ms"]),
            conflicts=int(answer["conflicts"]),
            events=list(answer["events"]),
        )

    # -- pull (the source the pull's window reads) -------------------------------------
    def window_hi(self) -> str:
        return str(self.call("POST", "/v1/sync/pull/window", {})["hi"])

    def page(
        self, step: str, lo: str, hi: str, after: tuple[str, int], limit: int
    ) -> list[tuple[Any, ...]]:
        body = _page_body(step, lo, hi, after, limit)
        return [tuple(r) for r in self.call("POST", "/v1/sync/pull/page", body)["rows"]]

    def pages(
        self, lo: str, hi: str, step: str, after: tuple[str, int], limit: int
    ) -> tuple[list[tuple[str, list[tuple[Any, ...]]]], tuple[str, tuple[str, int]] | None]:
        answer = self.call("POST", "/v1/sync/pull/pages", _page_body(step, lo, hi, after, limit))
        found = [(p["step"], [tuple(r) for r in p["rows"]]) for p in answer["pages"]]
        following = answer["next"]
        if following is None:
            return found, None
        at = (str(following["after_txid"]), int(following["after_version"]))
        return found, (str(following["step"]), at)

    def fetch(self, table: str, by: str, value: str) -> list[tuple[Any, ...]]:
        body = {"table": table, "by": by, "value": value}
        return [tuple(r) for r in self.call("POST", "/v1/sync/pull/rows", body)["rows"]]

    # -- live updates --------------------------------------------------------------------
    def wait_for_changes(self, timeout: int = 25, since: str | None = None) -> bool:
        """Block until something this teacher can see changes (True) or ``timeout`` seconds
        (1-60) pass (False). ``since``: the :attr:`mark` of an earlier answer, so that a
        change committed between the two waits answers this one at once. The app waits
        with :class:`~sync.replication.client.live.ChangeWatcher`, which can be
        interrupted; this is the same call, plainly."""
        seconds = max(1, min(60, int(timeout)))
        params: dict[str, Any] = {"timeout": seconds}
        if since:
            params["since"] = since
        answer = self._answer(
            self._send(
                "GET",
                WAIT_PATH,
                params=params,
                timeout=httpx.Timeout(seconds + 30.0, connect=10.0),
            )
        )
        # an older service answers without a mark: every wait then starts from its request
        self.mark = str(answer["mark"]) if answer.get("mark") else None
        return bool(answer["changed"])

    def twin(self) -> ServiceClient:
        return self  # httpx.Client is thread-safe; the pool opens a second connection


def _page_body(step: str, lo: str, hi: str, after: tuple[str, int], limit: int) -> dict[str, Any]:
    """Where a page (or a run of pages) starts: the window, the step and the keyset."""
    return {
        "step": step,
        "lo": lo,
        "hi": hi,
        "after_txid": str(after[0]),
        "after_version": int(after[1]),
        "limit": limit,
    }
