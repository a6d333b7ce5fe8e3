"""Settings ▸ Server: trusting the school's own CA certificate, against a real service.

The service's certificate is signed by a test CA that the laptop does not trust (no
``SSL_CERT_FILE`` here): signing in fails in plain words until the CA certificate file is
chosen in the dialog; then it succeeds and the store records the file for every later
sync, as ``flourish login --ca-cert FILE`` does. Bad files are named with what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from desktop.core.context import AppContext
from desktop.core.prefs import Prefs
from desktop.settings.dialog import SettingsDialog
from sync.store import state
from sync.store.local import LocalStore
from tests.support.laptops import PASSWORD, Server, make_server
from tests.support.memkeyring import memory_keyring
from tests.test_desktop_support import isolate_settings

NOT_A_CERT = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return isolate_settings(monkeypatch, tmp_path)


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    made = make_server(pg_url, teachers=("T001",), database_logins=False)
    made.serve(tmp_path / "service")
    yield made
    made.stop()


@pytest.fixture
def dialog(qtbot: QtBot, store: LocalStore) -> Iterator[SettingsDialog]:
    ctx = AppContext.create(store)
    shown = SettingsDialog(ctx, Prefs(), tab="server")
    qtbot.addWidget(shown)
    with ExitStack() as keep:
        keep.enter_context(memory_keyring())
        yield shown
        shown.close()
        ctx.tasks.shutdown()


def _check(qtbot: QtBot, dialog: SettingsDialog, path: str, expected: str) -> None:
    dialog.ca_cert.choose_file(path)
    qtbot.waitUntil(lambda: expected in dialog.ca_cert.status.text(), timeout=10_000)


def test_a_bad_ca_file_is_named_with_what_is_wrong(
    qtbot: QtBot, dialog: SettingsDialog, tmp_path: Path
) -> None:
    garbage = tmp_path / "school.der"
    garbage.write_bytes(b"\x30\x82\x01\x0a not a pem file")
    broken = tmp_path / "broken.pem"
    broken.write_text(NOT_A_CERT)
    _check(qtbot, dialog, str(tmp_path / "missing.pem"), "missing.pem: no such file")
    _check(qtbot, dialog, str(tmp_path), "a folder, not a certificate file")
    _check(qtbot, dialog, str(garbage), "school.der: no PEM certificate in it")
    _check(qtbot, dialog, str(broken), "broken.pem: the certificate cannot be read")
    dialog.ca_cert.path.clear()
    dialog.ca_cert.check()
    assert dialog.ca_cert.status.text() == ""  # no CA: the system's certificates


def test_sign_in_trusts_the_chosen_ca_and_the_store_keeps_it(
    qtbot: QtBot, dialog: SettingsDialog, store: LocalStore, server: Server, tmp_path: Path
) -> None:
    service = server.running()
    dialog.url.setText(service.url)
    dialog.login_edit.setText(server.logins["T001"])

    dialog.password.setText(PASSWORD)
    dialog.sign_in.click()  # the test CA is not trusted yet
    qtbot.waitUntil(lambda: "could not be verified" in dialog.server_status.text(), timeout=20_000)
    assert "Settings ▸ Server" in dialog.server_status.text()
    assert store.state(state.SERVER_URL) is None

    dialog.password.setText(PASSWORD)
    dialog.ca_cert.choose_file(str(tmp_path / "nowhere.pem"))
    dialog.sign_in.click()  # a bad file stops the sign-in before any request
    qtbot.waitUntil(
        lambda: "nowhere.pem: no such file" in dialog.server_status.text(), timeout=20_000
    )
    assert store.state(state.SERVER_CA) is None

    _check(qtbot, dialog, str(service.tls.ca), "Certificate file OK")
    dialog.password.setText(PASSWORD)
    dialog.sign_in.click()
    qtbot.waitUntil(lambda: "Signed in as T001" in dialog.server_status.text(), timeout=20_000)
    assert store.state(state.SERVER_CA) == str(service.tls.ca.resolve())
    assert store.state(state.SERVER_URL) == service.url

    # opened again, the dialog shows the file the store trusts
    again = SettingsDialog(dialog.ctx, Prefs(), tab="server")
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.ca_cert.text() == str(service.tls.ca.resolve()), timeout=10_000)
    again.close()


def test_every_control_on_the_server_page_has_an_accessible_name(
    dialog: SettingsDialog,
) -> None:
    page = dialog.tabs.widget(0)
    controls = [*page.findChildren(QLineEdit), *page.findChildren(QAbstractButton)]
    assert dialog.ca_cert.path in controls and dialog.ca_cert.choose in controls
    for control in controls:
        assert control.accessibleName(), control.objectName() or type(control).__name__
    assert dialog.ca_cert.status in page.findChildren(QLabel)
    assert dialog.ca_cert.choose.text() == "Choose…"
