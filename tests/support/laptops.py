"""Laptops for sync tests: real local stores signed in, through a real ``flourish server
serve`` process on 127.0.0.1, to the test database as teachers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sync.replication.engine import SyncEngine, SyncReport
from sync.replication.login import login
from sync.server.admin import add_teacher
from sync.store.local import LocalStore
from tests.support.dblogin import teacher_database_login
from tests.support.service import Service, service_login_url

PASSWORD = "teacher-pass-123"


@dataclass
class Server:
    """The test database, with admin URL and one login per teacher; laptops sign in and
    sync through ``service``, a real ``flourish server serve`` process (:meth:`serve`)."""

    admin_url: str
    logins: dict[str, str]
    service: Service | None = None

    def url_for(self, teacher: str) -> str:
        """Where that teacher's laptops sync: the service."""
        return self.running().url

    def running(self) -> Service:
        if self.service is None:
            raise RuntimeError("start the service first (Server.serve)")
        return self.service

    def serve(self, folder: Path) -> Server:
        """Start the service in front of this database (stop it with :meth:`stop`)."""
        self.service = Service(service_login_url(self.admin_url), folder).start()
        return self

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    @property
    def dbname(self) -> str:
        return urlsplit(self.admin_url).path.lstrip("/")

    def teacher_url(self, teacher: str) -> str:
        """The teacher's own database login (made for the database guard tests only)."""
        parts = urlsplit(self.admin_url)
        return f"postgresql://{self.logins[teacher]}@{parts.hostname}:{parts.port}{parts.path}"


def load_demo(admin_url: str) -> None:
    """The demo dataset on the server (as the admin)."""
    from sync.server.admin import load_demo_central
    from sync.server.central import create_engine_for

    engine = create_engine_for(admin_url)
    with engine.begin() as conn:
        load_demo_central(conn)
    engine.dispose()


def admin_rows(admin_url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    """Run ``sql`` on the server as the admin; the rows it returns (if any)."""
    from sqlalchemy import text

    from sync.server.central import create_engine_for

    engine = create_engine_for(admin_url)
    with engine.begin() as conn:
        result = conn.execute(text(sql), params)
        rows = [tuple(r) for r in result] if result.returns_rows else []
    engine.dispose()
    return rows


def make_server(
    admin_url: str, teachers: tuple[str, ...] = ("T001", "T002"), *, database_logins: bool = True
) -> Server:
    """Teachers with a service password; with ``database_logins`` also a database login of
    their own of the same name (for the tests that show the database guards itself)."""
    db = urlsplit(admin_url).path.lstrip("/")
    logins = {}
    for teacher in teachers:
        name = f"{teacher.lower()}_{db}"[:63]
        add_teacher(admin_url, teacher_id=teacher, login=name, password=PASSWORD)
        if database_logins:
            teacher_database_login(admin_url, login=name, teacher_id=teacher, password=PASSWORD)
        logins[teacher] = name
    return Server(admin_url, logins)


def served(admin_url: str, folder: Path, teachers: tuple[str, ...] = ("T001", "T002")) -> Server:
    """The demo data, the teachers and a running service (stop it with ``Server.stop``)."""
    load_demo(admin_url)
    return make_server(admin_url, teachers).serve(folder)


class Laptop:
    """One teacher's laptop: a store plus a warm engine (closed by :meth:`close`)."""

    def __init__(
        self, server: Server, teacher: str, folder: Path, *, url: str | None = None
    ) -> None:
        """``url``: where to reach the service (e.g. through a fault proxy)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.teacher = teacher
        self.store = LocalStore.open(folder / "flourish.sqlite3")
        service = server.running()
        self.result = login(
            self.store,
            server_url=url or service.url,
            user=server.logins[teacher],
            password=PASSWORD,
            remember=False,
            ca_file=str(service.tls.ca),
        )
        self.token = str(self.result.token)
        self.engine = SyncEngine.from_store(self.store, token=self.token)

    @property
    def device_no(self) -> int:
        return self.result.device_no

    def sync(self) -> SyncReport:
        return self.engine.sync_once()

    def close(self) -> None:
        self.engine.close()
        self.store.close()
