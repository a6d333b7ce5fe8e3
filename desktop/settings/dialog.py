"""Settings: the server sign-in, the AI endpoint, the data folder (profile), appearance,
privacy.

* **Server**: URL, login, password and (when the school runs its own certificate
  authority) its CA certificate file (:mod:`desktop.settings.trust`) go to
  :func:`sync.replication.login.login` on a background job;
  the password is handed over once and only ever stored in the OS keyring
  (:mod:`sync.credentials`) — never in the store, QSettings or any file. The field is
  cleared afterwards.
* **AI**: :func:`desktop.assess.save_settings` (the API key, when given, goes to the
  keyring there too).
* **Data folder**: the current profile's folder; open another one or create a new profile.
  The choice is remembered in the UI preferences (a path, not a secret).
* **Appearance**: follow the system, or force light or dark.
* **Privacy**: encryption at rest and signing out (:mod:`desktop.settings.privacy`); both ask the
  window to reopen the store (``reopen_requested``).

GUI thread only; reads and writes run on the task runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.context import AppContext
from desktop.core.errors import describe
from desktop.core.prefs import Prefs
from desktop.core.tasks import TaskContext
from desktop.core.theme import Appearance
from desktop.settings.privacy import PrivacyPage
from desktop.settings.trust import CaCertField
from sync.store import state

__all__ = ["SettingsDialog"]


def _status_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    return label


def _auto_spin(name: str, high: int, *, suffix: str = "", step: int = 1) -> QSpinBox:
    """A number setting whose 0 means "from the server" (shown in words)."""
    box = QSpinBox()
    box.setRange(0, high)
    box.setSingleStep(step)
    box.setSuffix(suffix)
    box.setSpecialValueText("From the server")
    box.setAccessibleName(name)
    return box


class SettingsDialog(QDialog):
    signed_in = Signal()
    appearance_changed = Signal(object)  # Appearance
    switch_profile = Signal(object)  # Path of a data folder
    reopen_requested = Signal(object)  # desktop.core.context.Reopen
    sync_requested = Signal()

    def __init__(
        self, ctx: AppContext, prefs: Prefs, *, tab: str = "server", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Flourish settings")
        self.ctx = ctx
        self.prefs = prefs
        self.tabs = QTabWidget()
        self.tabs.addTab(self._server_tab(), "Server")
        self.tabs.addTab(self._ai_tab(), "AI")
        self.tabs.addTab(self._profile_tab(), "Data folder")
        self.tabs.addTab(self._appearance_tab(), "Appearance")
        self.privacy = PrivacyPage(ctx)
        self.privacy.reopen_requested.connect(self.reopen_requested)
        self.privacy.sync_requested.connect(self.sync_requested)
        self.tabs.addTab(self.privacy, "Privacy")
        index = {"server": 0, "ai": 1, "profile": 2, "appearance": 3, "privacy": 4}.get(tab, 0)
        self.tabs.setCurrentIndex(index)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self._load()
        height = max(self.fontMetrics().height() * 24, self.sizeHint().height())
        self.resize(self.fontMetrics().averageCharWidth() * 90, height)

    # -- server ------------------------------------------------------------------------
    def _server_tab(self) -> QWidget:
        page = QWidget()
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://flourish.school.example")
        self.url.setAccessibleName("Server address")
        self.login_edit = QLineEdit()
        self.login_edit.setAccessibleName("Login")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setObjectName("passwordEdit")
        self.password.setAccessibleName("Password")
        self.ca_cert = CaCertField(self.ctx.tasks)
        self.sign_in = QPushButton("Sign in")
        self.sign_in.setAccessibleName("Sign in")
        self.sign_in.clicked.connect(self.do_sign_in)
        self.server_status = _status_label()
        self.server_status.setAccessibleName("Sign-in status")
        form = QFormLayout()
        form.addRow("Server", self.url)
        form.addRow("Login", self.login_edit)
        form.addRow("Password", self.password)
        form.addRow("CA certificate", self.ca_cert)
        note = QLabel(
            "Signing in keeps only a token from your school's server, in your system's "
            "keyring: never your password, and nothing in Flourish's files. "
            "Without a server Flourish works fully on this laptop. A CA certificate is only "
            "needed when IT says the school's server uses its own."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.sign_in)
        layout.addLayout(row)
        layout.addWidget(self.server_status)
        layout.addWidget(note)
        layout.addStretch(1)
        if self.ctx.is_demo:  # a demo is never signed in: say where signing in happens
            for w in (self.url, self.login_edit, self.password, self.ca_cert, self.sign_in):
                w.setEnabled(False)
            self.server_status.setText(
                "This is the demo class: its changes stay in the demo and are never sent. "
                "To work with your school's server, start Flourish without “demo” (or open "
                "your own data folder in the Data folder tab) and sign in there; the demo is "
                "left as it is."
            )
        return page

    def do_sign_in(self) -> None:
        url, user, password = (
            self.url.text().strip(),
            self.login_edit.text().strip(),
            (self.password.text()),
        )
        ca_file = self.ca_cert.text() or None
        if not url or not user or not password:
            self.server_status.setText("Enter the server, your login and your password.")
            return
        self.sign_in.setEnabled(False)
        self.server_status.setText("Signing in…")
        store = self.ctx.store

        def work(_tc: TaskContext) -> Any:
            from sync.replication.login import login

            return login(store, server_url=url, user=user, password=password, ca_file=ca_file)

        self.password.clear()  # the only copy left is the one handed to the job
        self.ctx.tasks.job(work, self._signed_in, self._sign_in_failed, name="login")

    def _signed_in(self, result: Any) -> None:
        self.sign_in.setEnabled(True)
        teacher = getattr(result, "teacher_id", "")
        text = f"Signed in as {teacher}."
        if getattr(result, "password_stored", True) is False:
            text += (
                " No system keyring is available to keep the sign-in, so Flourish cannot sync "
                "from here: sign in with 'flourish login' and set the FLOURISH_TOKEN it shows."
            )
        self.server_status.setText(text)
        self.signed_in.emit()

    def _sign_in_failed(self, exc: BaseException) -> None:
        self.sign_in.setEnabled(True)
        if isinstance(exc, ImportError):
            self.server_status.setText("This version of Flourish cannot sync yet.")
            return
        title, text = describe(exc)
        self.server_status.setText(f"{title}: {text}")

    # -- AI ------------------------------------------------------------------------------
    def _ai_tab(self) -> QWidget:
        page = QWidget()
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("https://api.openai.com/v1 (default)")
        self.model_edit = QLineEdit()
        self.use_llm_conf = QCheckBox("Use the model's own confidence")
        self.concurrency = _auto_spin("Parallel calls", 16)
        self.timeout = _auto_spin("Timeout per call", 3600, suffix=" s")
        self.max_tokens = _auto_spin("Output limit", 65_536, suffix=" tokens", step=256)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setObjectName("apiKeyEdit")
        self.api_key.setPlaceholderText("leave empty to keep the stored key")
        self.save_ai = QPushButton("Save AI settings")
        self.save_ai.clicked.connect(self.do_save_ai)
        self.test_ai = QPushButton("Test connection")
        self.test_ai.setObjectName("testConnectionButton")
        self.test_ai.setAccessibleName("Test connection")
        self.test_ai.setToolTip(
            "Find out what the endpoint supports: output mode, context length, parallel slots"
        )
        self.test_ai.clicked.connect(self.do_test_ai)
        self.ai_status = _status_label()
        form = QFormLayout()
        form.addRow("Endpoint", self.base_url)
        form.addRow("Model", self.model_edit)
        form.addRow("", self.use_llm_conf)
        form.addRow("Parallel calls", self.concurrency)
        form.addRow("Timeout per call", self.timeout)
        form.addRow("Output limit", self.max_tokens)
        form.addRow("API key", self.api_key)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.test_ai)
        row.addWidget(self.save_ai)
        layout.addLayout(row)
        layout.addWidget(self.ai_status)
        layout.addStretch(1)
        return page

    def do_save_ai(self) -> None:
        store = self.ctx.store
        base_url = self.base_url.text().strip() or None
        model = self.model_edit.text().strip()
        use_llm = self.use_llm_conf.isChecked()
        concurrency = self.concurrency.value()
        timeout, max_tokens = self.timeout.value(), self.max_tokens.value()
        api_key = self.api_key.text().strip() or None
        self.api_key.clear()

        def work(_tc: TaskContext) -> bool:
            from desktop.assess import save_settings

            return bool(
                save_settings(
                    store,
                    base_url=base_url,
                    model=model,
                    use_llm_confidence=use_llm,
                    concurrency=concurrency,
                    api_key=api_key,
                    timeout_s=timeout,
                    max_tokens=max_tokens,
                )
            )

        def done(stored: bool) -> None:
            self.ai_status.setText(
                "Saved."
                if stored
                else "Saved, but no system keyring can hold the API key: set OPENAI_API_KEY."
            )

        self.ctx.tasks.job(
            work, done, lambda exc: self.ai_status.setText(describe(exc)[1]), name="ai-settings"
        )

    def do_test_ai(self) -> None:
        """Probe the endpoint as saved (environment first), on a background job."""
        store = self.ctx.store
        self.test_ai.setEnabled(False)
        self.ai_status.setText("Testing the connection…")

        def work(_tc: TaskContext) -> str:
            from desktop.assess import connection_report, load_settings

            return str(connection_report(store, load_settings(store)))

        def done(text: str) -> None:
            self.test_ai.setEnabled(True)
            self.ai_status.setText(text)

        def failed(exc: BaseException) -> None:
            self.test_ai.setEnabled(True)
            self.ai_status.setText(describe(exc)[1])

        self.ctx.tasks.job(work, done, failed, name="ai-test")

    # -- profile -------------------------------------------------------------------------
    def _profile_tab(self) -> QWidget:
        page = QWidget()
        folder = self.ctx.profile.data_dir
        self.folder_label = QLabel(str(folder))
        self.folder_label.setWordWrap(True)
        kind = {"demo": "demo class", "server": "signed in", "local": "this laptop only"}
        self.profile_label = QLabel(kind.get(self.ctx.profile.profile, self.ctx.profile.profile))
        other = QPushButton("Open another data folder…")
        other.clicked.connect(self._choose_folder)
        form = QFormLayout()
        form.addRow("Data folder", self.folder_label)
        form.addRow("Profile", self.profile_label)
        note = QLabel(
            "Each data folder is one profile: one teacher's local copy. Choosing an empty "
            "folder creates a new profile there."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(other)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Flourish data folder")
        if folder:
            self.choose_folder(Path(folder))

    def choose_folder(self, folder: Path) -> None:
        self.prefs.data_dir = folder
        self.switch_profile.emit(folder)

    # -- appearance ----------------------------------------------------------------------
    def _appearance_tab(self) -> QWidget:
        page = QWidget()
        self.appearance_group = QButtonGroup(self)
        layout = QVBoxLayout(page)
        labels = {
            Appearance.SYSTEM: "Follow the system (light or dark)",
            Appearance.LIGHT: "Light",
            Appearance.DARK: "Dark",
        }
        current = self.prefs.appearance
        for i, (value, text) in enumerate(labels.items()):
            button = QRadioButton(text)
            button.setChecked(value is current)
            self.appearance_group.addButton(button, i)
            layout.addWidget(button)
        self.appearance_group.idClicked.connect(
            lambda i: self.appearance_changed.emit(list(labels)[i])
        )
        layout.addStretch(1)
        return page

    # -- loading current values ----------------------------------------------------------
    def _load(self) -> None:
        store = self.ctx.store

        def work(_tc: TaskContext) -> dict[str, Any]:
            values: dict[str, Any] = {
                "server_url": store.state(state.SERVER_URL),
                "login": store.state(state.LOGIN),
                "server_ca": store.state(state.SERVER_CA),
                "last_sync": store.state(state.LAST_SYNC),
            }
            from desktop.assess import load_settings

            s = load_settings(store)
            values.update(
                base_url=s.base_url,
                model=s.model,
                use_llm=s.use_llm_confidence,
                concurrency=s.concurrency,
                timeout=s.timeout_s,
                max_tokens=s.max_tokens,
                has_key=bool(s.api_key),
            )
            return values

        self.ctx.tasks.job(work, self._loaded, lambda _e: None, name="settings-load")

    def _loaded(self, v: dict[str, Any]) -> None:
        if v.get("server_url"):
            self.url.setText(str(v["server_url"]))
            self.login_edit.setText(str(v.get("login") or ""))
            self.ca_cert.set_text(str(v.get("server_ca") or ""))
            last = v.get("last_sync") or "never"
            self.server_status.setText(f"Signed in as {v.get('login')}; last sync: {last}.")
        if "model" in v:
            self.base_url.setText(v.get("base_url") or "")
            self.model_edit.setText(str(v["model"]))
            self.use_llm_conf.setChecked(bool(v.get("use_llm")))
            self.concurrency.setValue(int(v.get("concurrency") or 0))
            self.timeout.setValue(int(v.get("timeout") or 0))
            self.max_tokens.setValue(int(v.get("max_tokens") or 0))
            if v.get("has_key"):
                self.api_key.setPlaceholderText("a key is stored; type to replace it")
