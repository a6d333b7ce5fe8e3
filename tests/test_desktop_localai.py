"""The app's side of a school's own model server: "Test connection", the AI limits in
Settings ▸ AI, "waiting for the model (…)" while it runs, "Re-assess this entry", and the
teacher's choice of skills ("Assess new evidence for chosen skills…")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel
from pytestqt.qtbot import QtBot

from desktop.core.prefs import Prefs
from desktop.evidence.skillchoice import SkillChoiceDialog
from desktop.settings.dialog import SettingsDialog
from desktop.shell.mainwindow import MainWindow
from sync.store.local import LocalStore
from tests.support.fake_openai import FakeOpenAI, auto, content
from tests.support.local_servers import LLAMA_CPP, OLLAMA
from tests.test_desktop_student import show_student
from tests.test_desktop_support import close_window, isolate_settings, open_window


@pytest.fixture
def window(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    isolate_settings(monkeypatch, tmp_path)
    w = open_window(qtbot, demo_store)
    yield w
    close_window(w)


def _label_of(dialog: SettingsDialog, field: object) -> str:
    form = next(f for f in dialog.findChildren(QFormLayout) if f.labelForField(field))  # type: ignore[arg-type]
    label = form.labelForField(field)  # type: ignore[arg-type]
    assert isinstance(label, QLabel)
    return label.text()


def test_test_connection_and_the_ai_limits_in_settings(
    qtbot: QtBot, demo_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop.core.context import AppContext

    isolate_settings(monkeypatch, tmp_path)
    ctx = AppContext.create(demo_store)
    with FakeOpenAI(server=LLAMA_CPP) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "fake-model")
        dialog = SettingsDialog(ctx, Prefs(), tab="ai")
        qtbot.addWidget(dialog)
        try:
            # every new control has an accessible name and a visible label
            for field, name in (
                (dialog.concurrency, "Parallel calls"),
                (dialog.timeout, "Timeout per call"),
                (dialog.max_tokens, "Output limit"),
            ):
                assert field.accessibleName() == name and _label_of(dialog, field) == name
                assert field.specialValueText() == "From the server"
            assert dialog.test_ai.accessibleName() == dialog.test_ai.text() == "Test connection"
            qtbot.waitUntil(lambda: dialog.model_edit.text() == "fake-model", timeout=10_000)
            dialog.test_ai.click()
            assert not dialog.test_ai.isEnabled()
            qtbot.waitUntil(lambda: dialog.test_ai.isEnabled(), timeout=20_000)
            text = dialog.ai_status.text()
            assert "llama.cpp server" in text and "output mode json_schema" in text, text
            assert "context 4,096 tokens" in text and "2 call(s) at a time" in text
            assert fake.probes and any(r.path == "/props" for r in fake.other)
            # the limits are saved; 0 is "from the server"
            dialog.timeout.setValue(240)
            dialog.max_tokens.setValue(1024)
            dialog.concurrency.setValue(0)
            dialog.save_ai.click()
            qtbot.waitUntil(lambda: dialog.ai_status.text().startswith("Saved"), timeout=10_000)
        finally:
            dialog.close()
            ctx.tasks.shutdown()
    states = demo_store.states("ai_timeout_s", "ai_max_tokens", "ai_concurrency")
    assert states == {"ai_timeout_s": "240", "ai_max_tokens": "1024", "ai_concurrency": None}


def test_reassess_this_entry_and_the_waiting_text(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    with FakeOpenAI(server=OLLAMA, default=content('{"proposals": []}')) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "fake-model")
        shown: list[str] = []
        w.assess.status.connect(shown.append)
        w.menu_actions["assess"].trigger()
        qtbot.waitUntil(lambda: not w.assess.running, timeout=60_000)
        assert any(t.startswith("waiting for the model (CPU server") for t in shown), shown
        show_student(qtbot, w, "S001")
        timeline = w.student.timeline
        button = timeline.reassess
        assert button.accessibleName() == button.text() == "Re-assess this entry"
        assert not button.isEnabled()  # nothing selected yet
        row = next(n for n, e in enumerate(timeline.model.rows) if e.id == "DE008")
        timeline.view.selectRow(row)
        qtbot.waitUntil(button.isEnabled)
        fake.default = auto()  # the model now finds evidence
        before = len(fake.requests)
        button.click()
        qtbot.waitUntil(lambda: not w.assess.running, timeout=60_000)
        assert len(fake.requests) > before
        assert all("DE008" not in r.body for r in fake.requests[before:])  # ids never sent
    with w.ctx.store.read() as conn:
        count = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM assessments WHERE data_entry_id = 'DE008'"
        ).scalar_one()
    assert count > 0


def test_assess_for_chosen_skills_asks_about_exactly_those(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        w.menu_actions["assess_skills"].trigger()
        dialog = w.dialog
        assert isinstance(dialog, SkillChoiceDialog) and not dialog.ok.isEnabled()
        items = {i.text(0): i for i in dialog.skill_items()}
        assert len(items) == 17
        items["Metacognition"].setCheckState(0, Qt.CheckState.Checked)
        items["Collaboration"].setCheckState(0, Qt.CheckState.Checked)
        assert dialog.ok.isEnabled() and dialog.ok.text() == "Assess"
        dialog.ok.click()
        qtbot.waitUntil(lambda: w.assess.running, timeout=10_000)
        qtbot.waitUntil(lambda: not w.assess.running, timeout=60_000)
        assert len(fake.requests) == 4  # the demo's four awaiting entries
        for r in fake.requests:
            schema = r.json["response_format"]["json_schema"]["schema"]
            enum = schema["properties"]["proposals"]["items"]["properties"]["skill_name"]["enum"]
            assert enum == ["Metacognition", "Collaboration"]
