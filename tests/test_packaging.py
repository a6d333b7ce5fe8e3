"""The packaging kit, checked without building it: no PyInstaller run, no container engine.

``packaging/smoke.sh`` builds the bundle and runs it (in CI with FLOURISH_PACKAGING_SMOKE=1);
these tests keep the recipe honest on every run: the spec's helpers, the files it names,
the server deployment kit (compose, Dockerfile, pg_hba), the Linux menu entry, the icons,
the macOS and Windows recipes and the scripts' syntax.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import os
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SERVER = PACKAGING / "server"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _specutil() -> ModuleType:
    spec = importlib.util.spec_from_file_location("specutil", PACKAGING / "specutil.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


specutil = _specutil()


def _spec_list(name: str) -> list[str]:
    """The string items of the list assigned to ``name`` at the spec's top level."""
    tree = ast.parse((PACKAGING / "flourish.spec").read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.List)
        ):
            return [
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    raise AssertionError(f"no list {name} in flourish.spec")


def _imported_pyside6_modules() -> set[str]:
    pattern = re.compile(r"^\s*(?:from|import)\s+PySide6\.(Qt\w+)", re.M)
    found: set[str] = set()
    for path in [*(ROOT / "desktop").rglob("*.py"), *(ROOT / "sync").rglob("*.py")]:
        found |= {f"PySide6.{m}" for m in pattern.findall(path.read_text(encoding="utf-8"))}
    return found


# -- the spec ---------------------------------------------------------------------------


def test_the_spec_is_python_and_ships_resources_sql_and_metadata() -> None:
    text = (PACKAGING / "flourish.spec").read_text()
    ast.parse(text)
    for needle in (
        'tree(ROOT, "resources")',
        'tree(ROOT, "sql")',
        'copy_metadata("flourish-desktop")',
        'copy_metadata("keyring")',
        'collect_submodules("keyring.backends")',
        "flourish_main.py",
        "rthook_flourish.py",
    ):
        assert needle in text, needle
    assert (PACKAGING / "flourish_main.py").read_text().count("from desktop.cli import main") == 1


def test_the_shipped_data_holds_what_the_program_reads_at_run_time() -> None:
    shipped = {
        str(Path(dest) / Path(src).name)
        for folder in ("resources", "sql")
        for src, dest in specutil.tree(ROOT, folder)
    }
    for needed in (
        "resources/curriculum/skills.json",
        "resources/demo/dataset.json",
        "resources/prompts/assessment.toml",
        "resources/icons/flourish.svg",
        "resources/badges/gold.svg",
        "sql/migrations/env.py",
        "sql/local/schema_v1.sql",
        "sql/seed/seed.sql",
        "sql/objects/grants/roles.sql",
    ):
        assert needed in shipped, needed
    versions = {p.name for p in (ROOT / "sql/migrations/versions").glob("*.py")}
    assert versions and all(f"sql/migrations/versions/{v}" in shipped for v in versions)
    assert not [s for s in shipped if "__pycache__" in s or s.endswith((".pyc", "README.md"))]
    assert "sql/migrations/script.py.mako" not in shipped


def test_hidden_imports_name_real_modules() -> None:
    hidden = _spec_list("hiddenimports")
    assert "psycopg2" in hidden and "alembic.op" in hidden and "sync.sqlobjects" in hidden
    missing = [m for m in hidden if importlib.util.find_spec(m) is None]
    assert missing == []


def test_the_migrations_imports_are_hidden_imports() -> None:
    """Alembic loads sql/migrations/*.py by path: PyInstaller never sees their imports."""
    hidden = set(_spec_list("hiddenimports"))
    # Packages every server command imports anyway (and the standard library's).
    always = {"__future__", "collections.abc", "alembic", "sqlalchemy"}
    scripts = [ROOT / "sql/migrations/env.py", *(ROOT / "sql/migrations/versions").glob("*.py")]
    for path in scripts:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                wanted = [[alias.name] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from a.b import c`: c may be a submodule (alembic.op) or a name in a.b
                wanted = [[f"{node.module}.{alias.name}", node.module] for alias in node.names]
            else:
                continue
            for choices in wanted:
                ok = any(m in hidden or m in always for m in choices)
                assert ok, f"{path.name}: {choices[0]}"


def test_no_excluded_qt_module_is_imported_by_the_program() -> None:
    excluded = {m for m in _spec_list("excludes") if m.startswith("PySide6.")}
    used = _imported_pyside6_modules()
    assert used >= {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets"}
    assert used & excluded == set(), "update packaging/flourish.spec's excludes"


def test_no_dev_tooling_or_file_keyring_is_shipped() -> None:
    excluded = set(_spec_list("excludes"))
    assert {"tests", "pytest", "hypothesis", "keyrings.alt", "PySide6.QtWebEngineCore"} <= excluded


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/plugins/platforms/qwindows.dll", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", False),
        ("PySide6/Qt/plugins/imageformats/libqwebp.so", False),
        ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
        ("PySide6/Qt/plugins/styles/libqmacstyle.dylib", True),
        ("PySide6/plugins/styles/qmodernwindowsstyle.dll", True),
        ("PySide6/Qt/plugins/generic/libqevdevmouseplugin.so", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
        ("PySide6/Qt/lib/libQt6Core.so.6", True),
        ("libpython3.11.so.1.0", True),
    ],
)
def test_plugin_filter(dest: str, kept: bool) -> None:
    assert specutil.plugin_kept(dest) is kept


def test_qt_translations_are_left_out() -> None:
    assert not specutil.data_kept("PySide6/Qt/translations/qtbase_de.qm")
    assert specutil.data_kept("resources/curriculum/skills.json")


def test_prune_orphans_keeps_what_kept_binaries_link_to() -> None:
    binaries = [
        ("PySide6/QtWidgets.abi3.so", "/w/QtWidgets.abi3.so", "EXTENSION"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/p/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "/q/libQt6Widgets.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/q/libQt6Gui.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", "/q/libQt6XcbQpa.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Quick.so.6", "/q/libQt6Quick.so.6", "BINARY"),
        ("libX11.so.6", "/usr/lib/libX11.so.6", "BINARY"),
        ("libcairo.so.2", "/usr/lib/libcairo.so.2", "BINARY"),
        ("libpython3.11.so.1.0", "/py/libpython3.11.so.1.0", "BINARY"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"),
    ]
    links = {
        "/w/QtWidgets.abi3.so": ["libQt6Widgets.so.6"],
        "/q/libQt6Widgets.so.6": ["libQt6Gui.so.6"],
        "/p/libqxcb.so": ["libQt6XcbQpa.so.6"],
        "/q/libQt6XcbQpa.so.6": ["libX11.so.6", "libQt6Gui.so.6"],
    }

    def imports_of(source: str) -> list[tuple[str, str | None]]:
        return [(name, None) for name in links.get(source, [])]

    kept = specutil.prune_orphans(binaries, imports_of, platform="linux")
    names = {dest for dest, _src, _kind in kept}
    assert "PySide6/Qt/lib/libQt6Quick.so.6" not in names and "libcairo.so.2" not in names
    assert {"PySide6/Qt/lib/libQt6XcbQpa.so.6", "libX11.so.6", "libpython3.11.so.1.0"} <= names
    (binaries_kept,) = specutil.drop_dangling_links(kept)
    links_kept = {d for d, _s, k in binaries_kept if k == "SYMLINK"}
    assert links_kept == {"libQt6Gui.so.6"}
    assert specutil.prune_orphans(binaries, imports_of, platform="win32") == binaries


# -- build and smoke scripts ------------------------------------------------------------


SCRIPTS = [
    "packaging/build.sh",
    "packaging/smoke.sh",
    "packaging/linux/install.sh",
    "packaging/server/compose/start-db.sh",
    "packaging/server/compose/init.sh",
    "packaging/server/systemd/flourish-backup",
    "packaging/macos/build-macos.sh",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_and_parse(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK), f"chmod +x {script}"
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_pyinstaller_is_pinned_and_build_sh_installs_the_pin() -> None:
    pins = (PACKAGING / "requirements.txt").read_text()
    assert re.search(r"^pyinstaller==\d+\.\d+(\.\d+)?$", pins, re.M)
    assert re.search(r"^pyinstaller-hooks-contrib==\S+$", pins, re.M)
    build = (PACKAGING / "build.sh").read_text()
    assert "packaging/requirements.txt" in build and "flourish.spec" in build
    assert 'name="flourish-$version-linux-$arch"' in build and '"dist/$name.tar.gz"' in build
    assert "packaging/linux/flourish.desktop" in build


def test_ci_runs_the_smoke_only_when_asked_and_keeps_its_last_line() -> None:
    lines = (ROOT / ".ci" / "run").read_text().rstrip("\n").splitlines()
    assert lines[-1] == "exec .venv/bin/python -m pytest"
    text = "\n".join(lines[:-1])
    assert 'if [ "${FLOURISH_PACKAGING_SMOKE:-}" = "1" ]; then' in text
    assert "bash packaging/smoke.sh" in text


# -- what the bundle carries besides the program ----------------------------------------


def test_desktop_entry_is_valid() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
    parser.read(PACKAGING / "linux" / "flourish.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Flourish"
    assert entry["Exec"].split()[0] == "flourish"
    assert entry["Icon"] == "flourish"
    categories = entry["Categories"].split(";")
    assert entry["Categories"].endswith(";") and "Education" in categories
    assert entry["Terminal"] == "false"
    validator = shutil.which("desktop-file-validate")
    if validator:  # the freedesktop.org validator, when installed (desktop-file-utils)
        result = subprocess.run([validator, str(PACKAGING / "linux" / "flourish.desktop")])
        assert result.returncode == 0


def test_icons_render_to_ico_and_icns(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "make_icons.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    ico = (tmp_path / "flourish.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind, count) == (0, 1, 7)
    for i in range(count):
        width, _h, _c, _r, _planes, bits, size, offset = struct.unpack_from(
            "<BBBBHHII", ico, 6 + 16 * i
        )
        assert bits == 32 and ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + size <= len(ico)
    icns = (tmp_path / "flourish.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack_from(">I", icns, 4)[0] == len(icns)
    kinds, pos = [], 8
    while pos < len(icns):
        kinds.append(icns[pos : pos + 4])
        assert icns[pos + 8 : pos + 16] == b"\x89PNG\r\n\x1a\n"
        pos += struct.unpack_from(">I", icns, pos + 4)[0]
    assert pos == len(icns) and {b"ic07", b"ic08", b"ic09", b"ic10"} <= set(kinds)
    assert (tmp_path / "flourish-256.png").read_bytes()[:4] == b"\x89PNG"


def test_macos_info_plist_template() -> None:
    text = (PACKAGING / "macos" / "Info.plist").read_text()
    info = plistlib.loads(text.replace("@VERSION@", VERSION).encode())
    assert info["CFBundleShortVersionString"] == VERSION == info["CFBundleVersion"]
    assert info["CFBundleIdentifier"] and info["NSHighResolutionCapable"] is True
    assert "CFBundleExecutable" not in info  # PyInstaller's BUNDLE sets it
    plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())


def test_windows_installer_script() -> None:
    text = (PACKAGING / "windows" / "flourish.iss").read_text()
    for needle in (
        "AppVersion={#AppVersion}",
        "#error Pass the version",
        r'Source: "{#Root}\dist\flourish\*"',
        r"{app}\flourishw.exe",
        r"SetupIconFile={#Root}\build\icons\flourish.ico",
        "; SignTool=signtool",
    ):
        assert needle in text, needle
    assert re.search(r"^AppId=\{\{[0-9A-F-]{36}\}$", text, re.M)


# -- the central server kit -------------------------------------------------------------


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((SERVER / "docker-compose.yml").read_text())
    return compose


def test_compose_database_service_is_not_published() -> None:
    db = _compose()["services"]["db"]
    assert db["image"] == "postgres:15"
    assert "ports" not in db  # only the compose network reaches PostgreSQL
    volumes = _compose()["volumes"]
    named = [v for v in db["volumes"] if v.split(":")[0] in volumes]
    assert named == ["flourish-db:/var/lib/postgresql/data"]
    test = db["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL" and test[1].startswith("pg_isready")
    assert db["restart"] == "unless-stopped"
    assert db["entrypoint"] == ["bash", "/etc/flourish/start-db.sh"]


def test_compose_mounts_exist() -> None:
    for name, service in _compose()["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./") and source != "./backups":  # made by the guide's step
                assert (SERVER / source).exists(), (name, source)


def _built_here(service: dict[str, Any]) -> None:
    build = service["build"]
    assert (SERVER / build["context"]).resolve() == ROOT
    assert (SERVER / build["context"] / build["dockerfile"]).resolve() == SERVER / "Dockerfile"


def test_compose_init_migrates_and_creates_the_service_login_once_the_db_is_healthy() -> None:
    init = _compose()["services"]["init"]
    _built_here(init)
    assert init["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert init["restart"] == "no"
    assert init["entrypoint"] == ["sh", "/etc/flourish/init.sh"]
    script = (SERVER / "compose" / "init.sh").read_text()
    assert "flourish server init" in script
    assert "server add-service-login --login flourish_svc" in script
    url = init["environment"]["FLOURISH_DATABASE_URL"]
    assert url.startswith("postgresql://") and "@db:5432/" in url and "sslmode=require" in url
    assert {"PGPASSWORD", "SERVICE_DB_PASSWORD"} <= set(init["environment"])


def test_compose_service_runs_as_its_own_login_behind_caddy() -> None:
    services = _compose()["services"]
    service = services["service"]
    _built_here(service)
    assert service["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    assert service["command"][:4] == ["server", "serve", "--bind", "0.0.0.0:8080"]
    assert "ports" not in service  # Caddy is the only way in
    url = service["environment"]["FLOURISH_DATABASE_URL"]
    assert url.startswith("postgresql://flourish_svc@db:5432/")
    assert service["environment"]["PGPASSWORD"].startswith("${SERVICE_DB_PASSWORD")
    caddy = services["caddy"]
    assert caddy["image"] == "caddy:2"
    assert caddy["depends_on"] == {"service": {"condition": "service_healthy"}}
    assert "./compose/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert any(str(p).endswith(":443") for p in caddy["ports"])
    published = [n for n, s in services.items() if "ports" in s]
    assert published == ["caddy"]


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
@pytest.mark.parametrize("tls", ["internal", "/certs/server.crt /certs/server.key"])
def test_caddyfile_is_valid(tls: str, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "FLOURISH_HOST": "flourish.school.example",
        "FLOURISH_TLS": tls,
    }
    done = subprocess.run(
        ["caddy", "adapt", "--adapter", "caddyfile", "--config", SERVER / "compose" / "Caddyfile"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    route = config["apps"]["http"]["servers"]["srv0"]["routes"][0]
    assert route["match"] == [{"host": ["flourish.school.example"]}]
    proxy = json.dumps(route)
    assert '"handler": "reverse_proxy"' in proxy and '"name": "service"' in proxy
    assert '"port": "8080"' in proxy and '"flush_interval": -1' in proxy


def test_every_compose_variable_is_in_env_example() -> None:
    used = set(re.findall(r"\$\{(\w+)", (SERVER / "docker-compose.yml").read_text()))
    used |= set(re.findall(r"\{\$(\w+)", (SERVER / "compose" / "Caddyfile").read_text()))
    example = (SERVER / ".env.example").read_text()
    defined = set(re.findall(r"^(\w+)=", example, re.M))
    assert used and used <= defined, used - defined


def test_dockerfile_serves_by_default() -> None:
    lines = [
        line.strip()
        for line in (SERVER / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    copies = " ".join(line for line in lines if line.startswith("COPY "))
    for part in ("pyproject.toml", "sync", "desktop", "sql", "resources"):
        assert part in copies, part
    install = next(line for line in lines if line.startswith("RUN pip install"))
    assert " -e " not in install and "install --no-cache-dir . " in install
    entry = next(line for line in lines if line.startswith("ENTRYPOINT "))
    assert json.loads(entry.removeprefix("ENTRYPOINT ")) == ["flourish"]
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == ["server", "serve", "--bind", "0.0.0.0:8080"]
    assert "USER flourish" in lines and "EXPOSE 8080" in lines
    assert any(line.startswith("HEALTHCHECK ") and "/readyz" in line for line in lines)
    ignore = (SERVER / "Dockerfile.dockerignore").read_text()
    for part in ("pyproject.toml", "sync/**", "desktop/**", "sql/**", "resources/**"):
        assert f"!{part}" in ignore, part


def _hba_rows(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(line.split())
    return rows


@pytest.mark.parametrize("path", [SERVER / "pg_hba.conf", SERVER / "compose" / "pg_hba.conf"])
def test_pg_hba_admits_no_teacher(path: Path) -> None:
    rows = _hba_rows(path)
    assert not any("teacher" in row[2] or row[2] == "all" for row in rows if row[0] != "local")
    assert all(row[0] in ("hostssl", "local") for row in rows)  # no plain `host` line
    assert all(row[-1] == "scram-sha-256" for row in rows)


def test_native_pg_hba_has_the_placeholders_the_smoke_replaces() -> None:
    rows = _hba_rows(SERVER / "pg_hba.conf")
    assert rows == [
        ["hostssl", "flourish", "flourish_svc", "198.51.100.10/32", "scram-sha-256"],
        ["hostssl", "flourish", "flourish_it", "192.0.2.0/24", "scram-sha-256"],
    ]
    smoke = (PACKAGING / "smoke_server.py").read_text()
    assert "192.0.2.0/24" in smoke and "198.51.100.10/32" in smoke


def test_compose_logins_match_env_example() -> None:
    example = dict(re.findall(r"^(\w+)=(.*)$", (SERVER / ".env.example").read_text(), re.M))
    rows = _hba_rows(SERVER / "compose" / "pg_hba.conf")
    assert [row[2] for row in rows if row[3] == "samenet"] == [
        example["POSTGRES_USER"],
        "flourish_svc",
    ]


def test_server_guide_covers_the_native_steps() -> None:
    guide = (SERVER / "README.md").read_text()
    for needle in (
        "apt-get install postgresql-15",
        "createuser --createrole",
        "python3 -m venv /opt/flourish/venv",
        "flourish server init",
        "server migrate",
        "server add-service-login",
        "server add-teacher",
        "flourish-server.service",
        "pg_hba.conf",
        "sql/README.md",
        "flourish-backup.timer",
        "Caddy",
    ):
        assert needle in guide, needle


# -- the wheel --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_wheel_install_finds_sql_and_resources_without_the_source_tree(
    tmp_path: Path,
) -> None:
    """``pip install .`` (not editable) carries every tracked file of ``sql/`` and
    ``resources/`` and the installed program finds them, far from the checkout."""
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("sync", "desktop", "sql", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(src)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("flourish_desktop-*.whl")

    shipped = {
        str(p.relative_to(ROOT))
        for folder in ("sql", "resources")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        prefix = re.compile(r"^flourish_desktop-[^/]+\.data/data/share/flourish/")
        in_wheel = {prefix.sub("", n) for n in zf.namelist() if prefix.match(n)}
    assert shipped - in_wheel == set()

    # A bare venv with the wheel; its dependencies come from this venv via PYTHONPATH
    # (where .pth files are not read, so the editable checkout stays out of sight).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(target), "install", "--no-deps", str(wheel)], check=True)
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    probe = (
        "from sync.paths import program_root\n"
        "from sync.server.admin import head_revision\n"
        "from sync.model.curriculum import load_curriculum\n"
        "print(program_root()); print(head_revision()); print(len(load_curriculum().skills))\n"
    )
    ran = subprocess.run(
        [str(target), "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": deps},
    )
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout.split()
    assert Path(out[0]) == venv / "share" / "flourish"
    newest = sorted(p.name for p in (ROOT / "sql/migrations/versions").glob("0*.py"))[-1]
    assert out[1] == newest[:4]
    assert out[2] == "17"
