"""When things go wrong: a damaged store is told apart from an encrypted one (SQLite's own
checks), a data folder that cannot be created is one clear line, a file keyring is never
"the system keyring", and the CLI's small failures — on real files and real commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.settings.passphrase import check_key
from desktop.shell.recovery import offer_recovery
from sync import credentials
from sync.errors import StoreError
from sync.store.health import StoreDamagedError, header_state, quick_check
from sync.store.local import LocalStore
from tests.test_desktop_support import free_port


def flourish(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    code = "import sys; from desktop.cli import main; sys.exit(main(sys.argv[1:]))"
    extra = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return subprocess.run(
        [sys.executable, "-c", code, *extra, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "FLOURISH_PASSWORD": "wrong"},
    )


@pytest.fixture
def demo_copy(demo_store: LocalStore, tmp_path: Path) -> Path:
    """A closed demo store in its own data folder, with an automatic backup beside it."""
    path = demo_store.path
    demo_store.close()
    folder = tmp_path / "data"
    folder.mkdir()
    target = folder / "flourish.sqlite3"
    shutil.copy2(path, target)
    (folder / "backups").mkdir()
    shutil.copy2(path, folder / "backups" / "flourish-before-upgrade-20261201.sqlite3")
    return target


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_damaged_first_bytes_are_damage_not_encryption(demo_copy: Path) -> None:
    assert header_state(demo_copy) == "plain"
    _overwrite(demo_copy, 0, b"\x00" * 16)
    assert header_state(demo_copy) == "damaged"
    assert check_key(demo_copy, None) is None  # no passphrase is asked for
    with pytest.raises(StoreDamagedError) as caught:
        LocalStore.open(demo_copy, create=False)
    message = str(caught.value)
    assert "is damaged" in message and "passphrase" not in message
    assert "flourish-before-upgrade-20261201.sqlite3" in message


def test_a_damaged_page_in_the_middle_is_one_line_in_the_cli(demo_copy: Path) -> None:
    import sqlite3

    with sqlite3.connect(demo_copy) as conn:  # the assessments table's own page
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'assessments'"
        ).fetchone()[0]
    conn.close()
    _overwrite(demo_copy, (root - 1) * page, b"\xff" * page)
    assert quick_check(demo_copy)  # SQLite itself sees it
    done = flourish("correct", "1", "--level", "2", data_dir=demo_copy.parent)
    list_all = flourish("list", "assessments", data_dir=demo_copy.parent)
    for result in (done, list_all):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "is damaged" in result.stderr


def test_the_app_restores_the_automatic_backup(qapp: QApplication, demo_copy: Path) -> None:
    _overwrite(demo_copy, 0, b"\x00" * 16)
    with pytest.raises(StoreDamagedError) as caught:
        LocalStore.open(demo_copy, create=False)

    def answer() -> None:
        box = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "recoveryBox")
        assert isinstance(box, QMessageBox)
        assert box.text() == "Flourish's data file on this laptop is damaged and cannot be opened."
        next(b for b in box.buttons() if b.text() == "Restore the automatic backup").click()

    QTimer.singleShot(100, answer)
    folder = offer_recovery(caught.value, demo_copy.parent)
    assert folder == demo_copy.parent
    kept = list(demo_copy.parent.glob("flourish.sqlite3.damaged-*"))
    assert len(kept) == 1 and header_state(kept[0]) == "damaged"  # kept, never deleted
    with LocalStore.open(demo_copy, create=False) as store, store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM students").scalar_one() == 4


def test_a_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "Flourish"
    with pytest.raises(StoreError, match="the data folder .* cannot be used"):
        LocalStore.open(folder / "flourish.sqlite3")
    result = flourish("login", "--server", "postgresql://x@127.0.0.1:1/f", "--user", "x",
                      data_dir=folder)  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0] and "cannot be used" in lines[0]


@pytest.fixture
def read_only_folder(demo_copy: Path) -> Iterator[Path]:
    """The demo's data folder on a file system mounted read-only. Root ignores permission
    bits, so only a read-only mount makes a folder read-only for the test's user."""
    mount = demo_copy.parent.parent / "ro"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {made.stderr.strip()}")
    try:
        shutil.copytree(demo_copy.parent, mount / "data")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "data"
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_read_only_data_folder_is_one_clear_line(read_only_folder: Path) -> None:
    store = read_only_folder / "flourish.sqlite3"
    assert store.is_file()
    with pytest.raises(StoreError, match="the data folder .* cannot be used"):
        LocalStore.open(store)
    for args in (
        ("status",),
        ("list", "students"),
        ("add-student", "--name", "Sam", "--grade", "7"),
    ):
        result = flourish(*args, data_dir=read_only_folder)
        assert result.returncode == 1, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert str(read_only_folder) in lines[0] and "cannot be used" in lines[0]
        assert "write access" in lines[0] and "Traceback" not in result.stderr


def test_a_file_keyring_is_not_the_system_keyring(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    keyring.set_keyring(ring)
    try:
        assert credentials.keyring_available() is False
        assert credentials.set_secret("server:x@host", "s3cret") is False
        assert not (tmp_path / "keyring_pass.cfg").exists()
        assert credentials.get_secret("server:x@host") is None
    finally:
        keyring.set_keyring(previous)


def test_cli_small_failures(tmp_path: Path, demo_copy: Path) -> None:
    data = demo_copy.parent
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    status = flourish("status", data_dir=empty)
    assert status.returncode == 1 and "there is no Flourish data in" in status.stderr
    report = flourish("report", "S001", "--out", str(tmp_path / "no" / "dir" / "x.pdf"),
                      data_dir=data)  # fmt: skip
    assert report.returncode == 1
    assert report.stderr.strip().splitlines() == [
        f"flourish: cannot write the report to {tmp_path / 'no' / 'dir' / 'x.pdf'}: the folder "
        f"{tmp_path / 'no' / 'dir'} does not exist"
    ]
    bad_date = flourish("report", "S001", "--out", str(tmp_path / "x.pdf"), "--from",
                        "2026-13-01", data_dir=data)  # fmt: skip
    assert bad_date.returncode == 2
    assert bad_date.stderr.startswith("usage: ") and " report " in bad_date.stderr.splitlines()[0]
    backup = flourish("backup", "--out", str(tmp_path / "nope" / "b.sqlite3"), data_dir=data)
    assert backup.returncode == 1 and not (tmp_path / "nope").exists()
    fresh = tmp_path / "fresh"
    login = flourish("login", "--server", f"postgresql://t@127.0.0.1:{free_port()}/f",
                     "--user", "t", data_dir=fresh)  # fmt: skip
    assert login.returncode == 1
    assert not (fresh / "flourish.sqlite3").exists()
