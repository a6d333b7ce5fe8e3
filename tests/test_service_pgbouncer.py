"""The service through PgBouncer in transaction mode: laptop -> service -> PgBouncer -> PostgreSQL.

In transaction mode consecutive transactions of one client connection may run on
different server connections, so nothing may live on a session: the service sets its
timeouts with ``set_config(..., true)`` in each transaction, switches to the teacher with
``SET LOCAL``, and prepares nothing. Live updates LISTEN on a session of their own, so
``--listen-db`` points at PostgreSQL itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.replication.client.http import ServiceClient
from sync.store.local import sqlite_of
from tests.support.laptops import Laptop, Server, admin_rows, load_demo, make_server
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary
from tests.support.pgcluster import PgCluster
from tests.support.service import Service, client_headers, service_login_url
from tests.test_service_live import _has_target, _new_target

pytestmark = pytest.mark.skipif(
    pgbouncer_binary() is None, reason="needs the Debian package pgbouncer (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def site(
    pg: PgCluster, _template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, PgBouncer]]:
    name = "svc_bouncer"
    url = pg.create_database(name, template=_template)
    load_demo(url)
    server = make_server(url)
    direct = service_login_url(url)
    with PgBouncer(direct, server_pool=2) as bouncer:
        folder = tmp_path_factory.mktemp("service")
        server.service = Service(bouncer.url, folder, args=("--listen-db", direct)).start()
        try:
            yield server, bouncer
        finally:
            server.stop()
    pg.drop_database(name)


def test_push_and_pull_through_pgbouncer_in_transaction_mode(
    site: tuple[Server, PgBouncer], tmp_path: Path
) -> None:
    server, bouncer = site
    assert server.service is not None
    a = Laptop(server, "T001", tmp_path / "A")
    b = Laptop(server, "T001", tmp_path / "B")
    waiting = ServiceClient(
        server.service.url, token=b.result.token, ca_file=str(server.service.tls.ca)
    )
    woke: list[bool] = []
    try:
        a.sync()
        b.sync()
        listener = threading.Thread(target=lambda: woke.append(waiting.wait_for_changes(20)))
        listener.start()
        pk = _new_target(a)
        pushed = a.sync()
        listener.join(25)
        b.sync()
        assert _has_target(b.store, pk)
        with a.store.read() as conn:
            left = sqlite_of(conn).execute(
                "SELECT count(*) FROM sync_operations WHERE status = 'pending'"
            )
            assert left.fetchone()[0] == 0
        assert pushed.summary()

        # more requests at once than server connections: they take turns on the two
        statuses: list[int] = []

        def hello() -> None:
            with server.service.client() as http:  # type: ignore[union-attr]
                for _ in range(5):
                    answer = http.get(
                        "/v1/sync/hello",
                        headers={"Authorization": f"Bearer {a.result.token}", **client_headers()},
                    )
                    statuses.append(answer.status_code)

        threads = [threading.Thread(target=hello) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        waiting.close()
        a.close()
        b.close()
    assert statuses == [200] * 40
    assert woke == [True]  # live updates listen directly and still wake the laptop
    stats = {row["database"]: row for row in bouncer.show("STATS")}
    assert int(stats[bouncer.dbname]["total_xact_count"]) > 40  # it went through PgBouncer
    servers = admin_rows(
        server.admin_url,
        "SELECT count(*) FROM pg_stat_activity WHERE usename = :u "
        "AND application_name <> 'flourish-service-listen'",
        u=bouncer.user,
    )[0][0]
    assert 1 <= servers <= 2  # the service's pool of 4 shared two server connections
