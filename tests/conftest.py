"""Shared fixtures: a throwaway PostgreSQL 15 cluster, fresh databases, fresh local stores.

* ``pg`` (session): the running cluster (see :mod:`tests.support.pgcluster`).
* ``pg_url``: a fresh database at the newest migration with seed data, cloned from a
  template that is migrated once per session.
* ``empty_pg_url``: a fresh, empty database.
* ``store``: a fresh local store in a temporary folder; ``demo_store``: a fresh copy of a
  demo store built once per session.

Qt runs offscreen; ``FLOURISH_DATA_DIR`` points into a temporary folder so no test can touch
a real user's data.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_SESSION_DATA = tempfile.mkdtemp(prefix="flourish-test-data-")
os.environ["FLOURISH_DATA_DIR"] = _SESSION_DATA
for _var in (
    "FLOURISH_DATABASE_URL",
    "DATABASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "FLOURISH_PASSWORD",
    "FLOURISH_STORE_KEY",
):
    os.environ.pop(_var, None)
# No test touches a real keyring: the "fail" backend, unless a test brings its own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from sync.store.local import LocalStore  # noqa: E402
from tests.support.pgcluster import PgCluster  # noqa: E402

_counter = itertools.count()
TEMPLATE = "flourish_template"


@pytest.fixture(scope="session")
def pg() -> Iterator[PgCluster]:
    with PgCluster.started() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def _template(pg: PgCluster) -> str:
    from sync.server.admin import init_server

    url = pg.create_database(TEMPLATE)
    init_server(url)
    return TEMPLATE


def _fresh_name(request: pytest.FixtureRequest) -> str:
    base = "".join(ch if ch.isalnum() else "_" for ch in request.node.name.lower())[:40]
    return f"t{next(_counter)}_{base}"


@pytest.fixture
def pg_url(pg: PgCluster, _template: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database at head with seed data (2 teachers, 4 students)."""
    name = _fresh_name(request)
    url = pg.create_database(name, template=_template)
    yield url
    pg.drop_database(name)


@pytest.fixture
def empty_pg_url(pg: PgCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = _fresh_name(request)
    url = pg.create_database(name)
    yield url
    pg.drop_database(name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore.open(tmp_path / "data" / "flourish.sqlite3") as s:
        yield s


@pytest.fixture(scope="session")
def _demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sync.store.profiles import create_demo_store

    return create_demo_store(tmp_path_factory.mktemp("demo-master"))


@pytest.fixture
def demo_store(_demo_file: Path, tmp_path: Path) -> Iterator[LocalStore]:
    target = tmp_path / "demo" / "flourish.sqlite3"
    target.parent.mkdir(parents=True)
    shutil.copy2(_demo_file, target)
    with LocalStore.open(target) as s:
        yield s


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_DATA, ignore_errors=True)
