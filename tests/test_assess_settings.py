"""Settings and secrets, prompt resources, the command line, and the no-Qt rule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.fail import Keyring as FailKeyring

from desktop.assess import PromptError, load_prompts, load_settings, save_settings
from desktop.assess._capabilities import Capabilities, effective
from desktop.assess._prompts import response_schema, system_message
from sync import actions
from sync.credentials import SERVICE, llm_key_name
from sync.model.curriculum import load_curriculum
from sync.model.vocab import LEVELS
from sync.store.local import LocalStore
from tests.support.fake_openai import FakeOpenAI, http_error
from tests.test_assess_pipeline import fake_server  # noqa: F401  (the `fake` fixture)
from tests.test_cli import flourish

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-test-0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    """An OS keyring stand-in (the build machine has none)."""

    priority = 1  # type: ignore[assignment]
    viable = False  # never picked by keyring's own backend discovery

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "USE_LLM_CONFIDENCE"):
        monkeypatch.delenv(var, raising=False)


def store_bytes(store: LocalStore) -> bytes:
    data = b""
    for suffix in ("", "-wal"):
        path = Path(str(store.path) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


# -- settings ---------------------------------------------------------------------------------


def test_defaults(store: LocalStore, clean_env: None) -> None:
    s = load_settings(store)
    assert (s.base_url, s.model, s.api_key, s.use_llm_confidence, s.concurrency) == (
        None,
        "gpt-4o",
        None,
        False,
        None,
    )
    assert s.timeout_s is None and s.max_tokens is None and s.context_tokens is None
    # "from the server": a cloud endpoint gets 4 calls at a time, 60 s, 2,048 output tokens
    cloud = effective(s, None)
    assert (cloud.concurrency, cloud.timeout_s, cloud.max_tokens) == (4, 60.0, 2048)
    local = effective(s, Capabilities("http://127.0.0.1:8000/v1", "m", kind="llama-cpp-python"))
    assert (local.concurrency, local.timeout_s) == (1, 300.0)  # one slot: one at a time
    small = Capabilities("http://127.0.0.1:8080/v1", "m", kind="llama.cpp", context_tokens=2048)
    assert effective(s, small).max_tokens == 512  # a quarter of a small context for the reply
    assert effective(s, replace(small, slots=4)).concurrency == 4


def test_saved_settings_and_key_in_the_keyring_only(
    store: LocalStore, clean_env: None, memory_keyring: MemoryKeyring
) -> None:
    ok = save_settings(
        store,
        base_url="http://llm.school.example/v1/",
        model="llama3.1",
        use_llm_confidence=True,
        concurrency=8,
        api_key=SECRET,
    )
    assert ok
    assert memory_keyring.data == {(SERVICE, llm_key_name("http://llm.school.example/v1")): SECRET}
    s = load_settings(store)
    assert (s.base_url, s.model, s.api_key, s.use_llm_confidence, s.concurrency) == (
        "http://llm.school.example/v1",
        "llama3.1",
        SECRET,
        True,
        8,
    )
    assert SECRET not in repr(s)
    assert SECRET.encode() not in store_bytes(store)
    # None keeps the key, "" deletes it
    save_settings(store, base_url=s.base_url, model="m", use_llm_confidence=False,
                  concurrency=99, api_key=None)  # fmt: skip
    assert load_settings(store).api_key == SECRET and load_settings(store).concurrency == 16
    save_settings(store, base_url=s.base_url, model="m", use_llm_confidence=False,
                  concurrency=0, api_key="")  # fmt: skip
    loaded = load_settings(store)
    assert loaded.api_key is None and loaded.concurrency is None  # 0: from the server


def test_without_a_keyring_the_key_is_refused_not_written(
    store: LocalStore, clean_env: None, no_keyring: None
) -> None:
    ok = save_settings(
        store, base_url=None, model="gpt-4o", use_llm_confidence=False, concurrency=4,
        api_key=SECRET,
    )  # fmt: skip
    assert ok is False
    assert SECRET.encode() not in store_bytes(store)
    assert load_settings(store).api_key is None


def test_environment_overrides_the_store(
    store: LocalStore, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_settings(store, base_url="http://a/v1", model="saved", use_llm_confidence=False,
                  concurrency=2, api_key=None)  # fmt: skip
    monkeypatch.setenv("OPENAI_BASE_URL", "http://b/v1")
    monkeypatch.setenv("OPENAI_MODEL", "from-env")
    monkeypatch.setenv("USE_LLM_CONFIDENCE", "true")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    s = load_settings(store)
    assert (s.base_url, s.model, s.use_llm_confidence, s.api_key, s.concurrency) == (
        "http://b/v1",
        "from-env",
        True,
        "env-key",
        2,
    )


# -- prompts ----------------------------------------------------------------------------------


def test_the_shipped_prompt_and_schema() -> None:
    prompts = load_prompts()
    curriculum = load_curriculum()
    assert prompts.version == "assess-1.3"
    system = system_message(prompts, curriculum)
    for skill in curriculum.skills:
        assert f"## {skill.name} ({skill.category})" in system
        for level in LEVELS:
            assert skill.levels[level] in system
    assert "$" not in system
    schema = response_schema(["[STUDENT_1]"], ["Creativity"])
    item = schema["properties"]["proposals"]["items"]
    assert item["additionalProperties"] is False and len(item["required"]) == 6


@pytest.mark.parametrize(
    "text, message",
    [
        ('prompt_version = "x"', "system must be a non-empty string"),
        ("prompt_version = [", "not valid TOML"),
        ("", "prompt_version must be a non-empty string"),
        ('prompt_version = "a-very-long-version-string"', "at most 20 characters"),
    ],
)
def test_malformed_prompt_file_names_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "assessment.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PromptError, match=re.escape(str(path)) + ".*" + re.escape(message)):
        load_prompts(path)


def test_prompt_placeholders_are_checked(tmp_path: Path) -> None:
    shipped = (ROOT / "resources" / "prompts" / "assessment.toml").read_text(encoding="utf-8")
    path = tmp_path / "assessment.toml"
    path.write_text(shipped.replace("$text", "$evidence"), encoding="utf-8")
    with pytest.raises(PromptError, match=r"user lacks \$text"):
        load_prompts(path)
    path.write_text(shipped.replace("$levels", "$levels $colour"), encoding="utf-8")
    with pytest.raises(PromptError, match=r"system uses unknown \$colour"):
        load_prompts(path)


# -- command line -----------------------------------------------------------------------------


def test_cli_assess_then_calibration(demo_store: LocalStore, fake: FakeOpenAI) -> None:
    folder = demo_store.path.parent
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "fake-model", "OPENAI_API_KEY": "k"}
    result = flourish("assess", "--limit", "2", data_dir=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 entries assessed:") and len(fake.requests) == 2
    actions.correct(demo_store, assessment_id=1, teacher_id="T001", level=1)
    actions.correct(demo_store, assessment_id=2, teacher_id="T001", level="Developing")
    cal = flourish("assess", "--calibration", data_dir=folder)
    assert cal.returncode == 0, cal.stderr
    assert re.search(r"Self-Awareness\s+0\.85-1\.00\s+1\s+0\s+0\.00\s+0\.86", cal.stdout)
    assert re.search(r"Task Initiation\s+0\.50-0\.69\s+1\s+1\s+1\.00", cal.stdout)
    assert "AI usage, model fake-model, prompt assess-1.3: 2 calls" in cal.stdout
    rest = flourish("assess", data_dir=folder, env=env)
    assert rest.returncode == 0 and rest.stdout.startswith("2 entries assessed:")
    again = flourish("assess", data_dir=folder, env=env)
    assert again.returncode == 0 and "nothing to assess" in again.stdout


def test_cli_assess_failures_are_one_line(
    demo_store: LocalStore, fake: FakeOpenAI, tmp_path: Path
) -> None:
    folder = demo_store.path.parent
    no_key = flourish("assess", data_dir=folder, env={"OPENAI_BASE_URL": ""})
    assert no_key.returncode == 1 and "no API key" in no_key.stderr
    assert len(no_key.stderr.strip().splitlines()) == 1
    fake.default = http_error(401, "Incorrect API key provided")
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "wrong"}
    bad = flourish("assess", data_dir=folder, env=env)
    assert bad.returncode == 1 and "4 entries not assessed yet" in bad.stderr
    assert "rejected the API key" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    missing = flourish("assess", data_dir=tmp_path / "nowhere")
    assert missing.returncode == 1 and "no local store" in missing.stderr


# -- layering ---------------------------------------------------------------------------------


def test_the_pipeline_never_imports_qt_even_lazily() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|desktop\.(?!assess\b))", re.M)
    sources = list((ROOT / "desktop" / "assess").rglob("*.py"))
    assert sources
    assert [str(p) for p in sources if pattern.search(p.read_text(encoding="utf-8"))] == []
