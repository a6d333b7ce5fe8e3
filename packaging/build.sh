#!/usr/bin/env bash
# Build the packaged Flourish app with PyInstaller (packaging/flourish.spec).
#
#   packaging/build.sh              dist/flourish/  (one folder: the `flourish` program and
#                                   _internal/) and dist/flourish-<version>-linux-x86_64.tar.gz
#                                   (that folder, flourish.desktop, the icon, install.sh)
#   packaging/build.sh --onefile    also dist/flourish-onefile, one self-extracting file
#
# Uses .venv (PYTHON=... to use another interpreter) with the project installed; installs
# the pinned PyInstaller from packaging/requirements.txt when it is missing. Intermediate
# files go to build/ (both build/ and dist/ are git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-.venv/bin/python}"
onefile=0
for arg in "$@"; do
  case "$arg" in
    --onefile) onefile=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ ! -x "$PY" ]; then
  echo "build.sh: no $PY; create it first: python3 -m venv .venv && .venv/bin/pip install -e ." >&2
  exit 1
fi

# The pinned PyInstaller, installed when missing or different.
pinned="$(sed -n 's/^pyinstaller==//p' packaging/requirements.txt)"
have="$("$PY" -m PyInstaller --version 2>/dev/null || true)"
if [ "$have" != "$pinned" ]; then
  echo "== installing PyInstaller $pinned (found: ${have:-none})"
  "$PY" -m pip install --quiet -r packaging/requirements.txt
fi

# One version, from pyproject.toml. The bundle carries the installed package metadata
# (for `flourish --version` and the About box), so it must match.
version="$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
installed="$("$PY" -c 'from importlib.metadata import version; print(version("flourish-desktop"))' 2>/dev/null || true)"
if [ "$installed" != "$version" ]; then
  echo "== refreshing the project's metadata (installed: ${installed:-none}, pyproject: $version)"
  "$PY" -m pip install --quiet --no-deps -e .
fi

arch="$(uname -m)"
started=$SECONDS

echo "== icons"
"$PY" packaging/make_icons.py build/icons >/dev/null

echo "== PyInstaller $pinned: dist/flourish/"
export FLOURISH_ICON_DIR="$PWD/build/icons"
"$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/flourish.spec
if [ "$onefile" = 1 ]; then
  echo "== PyInstaller $pinned: dist/flourish-onefile"
  FLOURISH_ONEFILE=1 "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller-onefile packaging/flourish.spec
fi

echo "== archive"
name="flourish-$version-linux-$arch"
stage="build/archive/$name"
rm -rf "build/archive"
mkdir -p "$stage"
cp -a dist/flourish "$stage/flourish"
cp packaging/linux/flourish.desktop packaging/linux/install.sh "$stage/"
cp build/icons/flourish-256.png "$stage/flourish.png"
cp resources/icons/flourish.svg "$stage/flourish.svg"
tar -C build/archive -czf "dist/$name.tar.gz" "$name"

echo "== done in $((SECONDS - started)) s"
echo "bundle   $(du -sh dist/flourish | cut -f1)  dist/flourish/ ($(find dist/flourish -type f | wc -l) files)"
echo "archive  $(du -h "dist/$name.tar.gz" | cut -f1)  dist/$name.tar.gz"
if [ "$onefile" = 1 ]; then
  echo "onefile  $(du -h dist/flourish-onefile | cut -f1)  dist/flourish-onefile"
fi
