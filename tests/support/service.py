"""A real ``flourish server serve`` process on 127.0.0.1 for tests, over TLS.

:func:`make_tls` makes a throwaway CA and a certificate for 127.0.0.1 signed by it;
:class:`Service` starts the service as a child process against a test database with its
own service login (a member of ``flourish_service``) and waits until ``/readyz`` answers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.replication.protocol import VERSION_HEADER, app_version
from sync.server.service_admin import add_service_login
from tests.support.pgcluster import free_port

SERVICE_PASSWORD = "service-pass-123456"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Tls:
    ca: Path
    cert: Path
    key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_tls(folder: Path, host: str = "127.0.0.1") -> Tls:
    """A CA and a server certificate for ``host`` (an IP address SAN) signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Flourish test school CA"))
        .issuer_name(_name("Flourish test school CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    tls.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tls.key.chmod(0o600)
    return tls


def service_login_url(admin_url: str) -> str:
    """Create the database's service login (one per test database); its URL."""
    parts = urlsplit(admin_url)
    login = f"svc_{parts.path.lstrip('/')}"[:63]
    add_service_login(admin_url, login=login, password=SERVICE_PASSWORD)
    netloc = f"{login}:{SERVICE_PASSWORD}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def client_headers() -> dict[str, str]:
    return {VERSION_HEADER: app_version()}


class Service:
    """``flourish server serve`` as a child process; a context manager."""

    def __init__(
        self, db_url: str, folder: Path, *, tls: Tls | None = None, args: tuple[str, ...] = ()
    ) -> None:
        self.db_url = db_url
        self.args = args  # more ``flourish server serve`` options
        self.folder = folder
        self.tls = tls or make_tls(folder / "tls")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "service.log"

    def start(self, timeout: float = 30.0) -> Service:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-c",
            "import sys; from desktop.cli import main; sys.exit(main())",
            "--data-dir",
            str(self.folder / "data"),
            "server",
            "serve",
            "--db",
            self.db_url,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--tls-cert",
            str(self.tls.cert),
            "--tls-key",
            str(self.tls.key),
            "--pool-size",
            "4",
            *self.args,
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log.read_text()[-2000:]}")
            try:
                if self.client().get("/readyz").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the service did not get ready: {self.log.read_text()[-2000:]}")

    def client(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        return httpx.Client(base_url=self.url, verify=context, timeout=10.0)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()
