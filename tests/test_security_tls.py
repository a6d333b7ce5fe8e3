"""Transport: sslmode from the URL, verify-full recommended, a clear error when the server
certificate does not verify."""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.errors import ConfigurationError
from sync.server.central import create_engine_for, health_check
from tests.support.pgcluster import PgCluster


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls() -> Iterator[tuple[PgCluster, Path]]:
    folder = Path(tempfile.mkdtemp(prefix="flourish-tls-"))
    ca_key, ca = _ca("Flourish test CA")
    _other_key, other_ca = _ca("Some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "other-ca.pem").write_bytes(_pem(other_ca))
    (folder / "server.crt").write_bytes(_pem(cert))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cluster = PgCluster(
        settings=[
            "ssl = on",
            f"ssl_cert_file = '{folder / 'server.crt'}'",
            f"ssl_key_file = '{folder / 'server.key'}'",
        ]
    )
    folder.chmod(0o755)
    cluster.give_to_server(folder / "server.key", 0o600)
    cluster.give_to_server(folder / "server.crt", 0o644)
    try:
        cluster.init()
        cluster.start()
        yield cluster, folder
    finally:
        cluster.destroy()


def url(cluster: PgCluster, query: str, host: str = "127.0.0.1") -> str:
    return cluster.url("postgres").replace("@127.0.0.1:", f"@{host}:") + "?" + query


def test_verify_full_with_the_right_ca(tls: tuple[PgCluster, Path]) -> None:
    cluster, folder = tls
    engine = create_engine_for(url(cluster, f"sslmode=verify-full&sslrootcert={folder}/ca.pem"))
    health_check(engine)
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).scalar()
            is True
        )
    engine.dispose()


def test_a_certificate_from_another_ca_is_a_clear_error(tls: tuple[PgCluster, Path]) -> None:
    cluster, folder = tls
    bad = url(cluster, f"sslmode=verify-full&sslrootcert={folder}/other-ca.pem")
    with pytest.raises(
        ConfigurationError, match="TLS: the server certificate could not be verified"
    ):
        health_check(create_engine_for(bad))


def test_a_host_name_mismatch_is_a_clear_error(tls: tuple[PgCluster, Path]) -> None:
    cluster, folder = tls
    wrong_host = url(cluster, f"sslmode=verify-full&sslrootcert={folder}/ca.pem", host="localhost")
    with pytest.raises(ConfigurationError, match="TLS"):
        health_check(create_engine_for(wrong_host))


def test_require_encrypts_without_verifying(tls: tuple[PgCluster, Path]) -> None:
    cluster, _folder = tls
    health_check(create_engine_for(url(cluster, "sslmode=require")))
