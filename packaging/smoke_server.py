"""A throwaway PostgreSQL 15 set up like the native guide, for ``packaging/smoke.sh``.

    .venv/bin/python packaging/smoke_server.py ENV_FILE

Starts a cluster with ``tests/support/pgcluster.py`` (127.0.0.1, a free port, a temporary
folder; as the ``postgres`` system user when run as root) configured as
``packaging/server/README.md`` says a school's server is:

* ``ssl = on`` with a certificate for 127.0.0.1 (self-signed, made with ``openssl``), so
  laptops can connect with ``sslmode=verify-full``;
* ``pg_hba.conf`` = the kit's ``packaging/server/pg_hba.conf`` (the service's login from
  the service's host and IT's login from "its network", both 127.0.0.1/32 here, over TLS;
  nobody else) after two lines for this harness: local socket connections and the
  harness superuser over TCP (they stand in for ``sudo -u postgres`` on a real server).

Then writes ENV_FILE (shell assignments: ``PG_PORT``, ``PG_SOCKDIR``, ``PG_SUPERUSER``,
``PG_SUPERPASS``, ``PG_CA``, ``PG_BINDIR``) and keeps running until SIGTERM/SIGINT, when it
stops and deletes the cluster. Runs from the source tree (it is a test helper; the frozen
program is what it serves).
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.pgcluster import SUPERPASS, SUPERUSER, PgCluster  # noqa: E402

KIT_HBA = ROOT / "packaging" / "server" / "pg_hba.conf"
# the placeholders in the kit's file (TEST-NET-1 and -2) and what they become here
PLACEHOLDERS = {"192.0.2.0/24": "127.0.0.1/32", "198.51.100.10/32": "127.0.0.1/32"}

HARNESS_HBA = f"""\
# smoke harness: the cluster's superuser (stands in for `sudo -u postgres` on a server)
local    all       all                        trust
host     all       {SUPERUSER}        127.0.0.1/32  scram-sha-256
"""


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA for verify-full)."""
    crt, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(crt),
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


def hba_text() -> str:
    kit = KIT_HBA.read_text(encoding="utf-8")
    for placeholder, here in PLACEHOLDERS.items():
        if placeholder not in kit:
            raise SystemExit(f"{KIT_HBA} no longer has the placeholder {placeholder}")
        kit = kit.replace(placeholder, here)
    return HARNESS_HBA + "\n" + kit


def start_cluster() -> tuple[PgCluster, Path]:
    """A started cluster with TLS and the kit's pg_hba.conf; its certificate (own CA).
    The caller destroys it."""
    cluster = PgCluster()
    try:
        certs = cluster.root / "certs"
        certs.mkdir()
        certs.chmod(0o755)
        crt, key = make_certificate(certs)
        cluster.give_to_server(key, 0o600)
        cluster.give_to_server(crt, 0o644)
        cluster.extra_settings += [
            "ssl = on",
            f"ssl_cert_file = '{crt}'",
            f"ssl_key_file = '{key}'",
        ]
        cluster.init()
        hba = cluster.datadir / "pg_hba.conf"
        hba.write_text(hba_text(), encoding="utf-8")
        cluster.give_to_server(hba, 0o600)
        cluster.start()
    except BaseException:
        cluster.destroy()
        raise
    return cluster, crt


def serve(env_file: Path) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    cluster, crt = start_cluster()
    try:
        values = {
            "PG_PORT": str(cluster.port),
            "PG_SOCKDIR": str(cluster.sockdir),
            "PG_SUPERUSER": SUPERUSER,
            "PG_SUPERPASS": SUPERPASS,
            "PG_CA": str(crt),
            "PG_BINDIR": str(cluster.bindir),
        }
        tmp = env_file.with_suffix(".tmp")
        tmp.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()))
        tmp.replace(env_file)  # appears whole: smoke.sh waits for it
        print(f"PostgreSQL 15 with TLS on 127.0.0.1:{cluster.port}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        cluster.destroy()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: smoke_server.py ENV_FILE", file=sys.stderr)
        return 2
    serve(Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
