"""A lost laptop hands over nothing: owner-only files, encryption at rest, sign-out wipe,
and no secret in the data folder or the logs after a whole scripted session."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import actions
from sync.credentials import server_key_name
from sync.errors import StoreError, ValidationError
from sync.replication.login import sign_out
from sync.store.local import LocalStore
from sync.store.profiles import create_demo_store
from sync.store.storefile import decrypt, encrypt, is_encrypted, store_key_name
from tests.support.laptops import PASSWORD, Laptop, Server, make_server, served
from tests.support.memkeyring import memory_keyring


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def demo_copy(tmp_path: Path) -> Path:
    path = create_demo_store(tmp_path / "demo-src")
    target = tmp_path / "data" / "flourish.sqlite3"
    target.parent.mkdir(mode=0o700)
    shutil.copy2(path, target)
    return target


def test_encryption_round_trip_with_a_passphrase(tmp_path: Path) -> None:
    path = demo_copy(tmp_path)
    assert b"Lucas" in path.read_bytes()
    encrypt(path, key="correct horse battery staple")
    assert is_encrypted(path) and mode(path) == 0o600
    blob = path.read_bytes()
    assert b"Lucas" not in blob and b"SQLite format 3" not in blob
    with pytest.raises(StoreError, match="key is not available"):
        LocalStore.open(path)
    with pytest.raises(StoreError, match="wrong"):
        LocalStore.open(path, key="wrong passphrase")
    with LocalStore.open(path, key="correct horse battery staple") as store:
        actions.correct(store, assessment_id=1, teacher_id="T001", level=4)
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM students").scalar() == 4
        copy = store.backup(tmp_path / "b" / "copy.sqlite3")
    assert is_encrypted(copy) and mode(copy) == 0o600  # backups stay encrypted
    for side in (path, copy):
        assert b"Lucas" not in side.read_bytes()
    with LocalStore.open(copy, key="correct horse battery staple") as again, again.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM teacher_corrections").scalar() == 1
    decrypt(path, key="correct horse battery staple")
    assert not is_encrypted(path)
    with LocalStore.open(path) as plain, plain.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sync_operations").scalar() == 1


def test_encryption_key_in_the_keyring(tmp_path: Path) -> None:
    path = demo_copy(tmp_path)
    with memory_keyring() as ring:
        key = encrypt(path)
        assert ring.items[("Flourish", store_key_name(path))] == key
        with LocalStore.open(path) as store, store.read() as conn:  # key from the keyring
            assert conn.exec_driver_sql("SELECT count(*) FROM assessments").scalar() > 100
    assert key not in path.read_bytes().decode("latin-1")


def test_encrypting_without_a_keyring_needs_a_passphrase(tmp_path: Path) -> None:
    path = demo_copy(tmp_path)
    with pytest.raises(StoreError, match="no keyring"):
        encrypt(path)
    assert not is_encrypted(path)


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    """Teacher T001 behind a real service process (laptops sync through it)."""
    made = make_server(pg_url, teachers=("T001",), database_logins=False)
    made.serve(tmp_path / "service")
    yield made
    made.stop()


def test_an_encrypted_laptop_syncs(server: Server, tmp_path: Path) -> None:
    lap = Laptop(server, "T001", tmp_path / "L")
    lap.sync()
    lap.close()
    encrypt(lap.store.path, key="a passphrase for sync")
    with LocalStore.open(lap.store.path, key="a passphrase for sync") as store:
        from sync.replication.engine import SyncEngine

        actions.add_entry(
            store,
            student_id="S001",
            teacher_id="T001",
            entry_type="parent_note",
            content="Encrypted and synced.",
        )
        with SyncEngine.from_store(store, token=lap.token) as engine:
            report = engine.sync_once()
    assert report.pushed == 1


def test_sign_out_refuses_unsent_changes_then_wipes(server: Server, tmp_path: Path) -> None:
    with memory_keyring() as ring:
        lap = Laptop(server, "T001", tmp_path / "L")
        lap.sync()
        ring.set_password(
            "Flourish", server_key_name(server.logins["T001"], "127.0.0.1"), lap.token
        )
        actions.add_entry(
            lap.store,
            student_id="S001",
            teacher_id="T001",
            entry_type="parent_note",
            content="Not sent yet.",
        )
        lap.store.backup(lap.store.path.parent / "backups" / "flourish-manual.sqlite3")
        path = lap.store.path
        with pytest.raises(ValidationError, match="1 change\\(s\\) have not reached"):
            sign_out(path)
        lap.sync()
        lap.close()
        assert sign_out(path) == 0
        leftovers = [p.name for p in path.parent.rglob("*") if p.is_file()]
        assert leftovers == []
        assert ring.items == {}


def _walk_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_no_secret_in_the_data_folder_or_logs_after_a_session(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A scripted session through the CLI with only a file keyring installed (keyrings.alt,
    which the dev extra brings): it is never taken for the system keyring — nothing is
    written to it — the secrets come from the environment, and afterwards no file of the
    data folder (or the home folder) holds a secret."""
    server = served(pg_url, tmp_path / "service", ("T001",))
    request.addfinalizer(server.stop)
    service = server.running()
    home = tmp_path / "home"
    data = tmp_path / "data"
    env = dict(
        os.environ,
        HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(home / ".local" / "share"),
    )
    env.pop("FLOURISH_PASSWORD", None)
    env.pop("FLOURISH_TOKEN", None)
    api_key = "sk-test-0123456789abcdefSECRET"

    def flourish(
        *args: str, stdin: str | None = None, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "desktop.cli", "--data-dir", str(data), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=dict(env, **(extra or {})),
            timeout=180,
        )

    signed = flourish(
        "login",
        "--server",
        service.url,
        "--user",
        server.logins["T001"],
        "--ca-cert",
        str(service.tls.ca),
        stdin=PASSWORD + "\n",
    )
    assert signed.returncode == 0, signed.stderr
    assert "kept in the system keyring" not in signed.stdout
    assert "no system keyring here" in signed.stdout
    token = signed.stdout.split("FLOURISH_TOKEN=", 1)[1].split()[0]
    env["FLOURISH_TOKEN"] = token  # what the login told the teacher to do
    assert flourish("sync").returncode == 0
    store_py = (
        "import sys; from sync.store.local import LocalStore;"
        "from desktop.assess import save_settings;"
        f"s = LocalStore.open(r'{data / 'flourish.sqlite3'}');"
        f"print(save_settings(s, base_url='http://127.0.0.1:9/v1', model='m', "
        f"use_llm_confidence=False, concurrency=2, api_key='{api_key}'))"
    )
    saved = subprocess.run(
        [sys.executable, "-c", store_py], capture_output=True, text=True, env=env, timeout=120
    )
    assert saved.stdout.strip() == "False", saved.stderr  # not stored: no system keyring
    assert flourish("correct", "1", "--level", "3", "--notes", "seen in class").returncode == 0
    assert flourish("sync").returncode == 0
    assert flourish("status", "--json").returncode == 0
    bad = flourish("sync", extra={"FLOURISH_TOKEN": "x"})  # a refusal in the log, too
    assert bad.returncode == 1 and "sign in again" in bad.stderr
    files = _walk_bytes(data)
    assert any(name.endswith("flourish.log") for name in files)
    for name, blob in files.items():
        assert PASSWORD.encode() not in blob, name
        assert token.encode() not in blob, name
        assert api_key.encode() not in blob, name
    # and nothing went to the file keyring either
    assert not list(home.rglob("keyring_pass.cfg"))
    for name, blob in _walk_bytes(home).items():
        assert PASSWORD.encode() not in blob, name
        assert token.encode() not in blob, name
        assert api_key.encode() not in blob, name
    # owner-only: the folder, the store, its WAL and the log
    assert mode(data) == 0o700
    for name in files:
        assert mode(Path(name)) & 0o077 == 0, name
