#!/usr/bin/env bash
# Build Flourish.app and a disk image on macOS (it cannot run on the Linux build machine).
#
#   packaging/macos/build-macos.sh
#
# Needs: macOS 11+, Xcode's command line tools, a Python 3.11 venv (.venv) with the project
# installed (`pip install -e '.[encryption]'`). A universal2 Python from python.org gives a
# bundle for both Intel and Apple silicon only if every wheel is universal2 too (PySide6's
# is; check the others), else build once on each architecture.
#
# Signing and notarization (optional; without them macOS Gatekeeper warns on first start):
#   FLOURISH_CODESIGN_IDENTITY="Developer ID Application: <Name> (<TEAMID>)"
#   FLOURISH_NOTARY_PROFILE=<a profile stored with `xcrun notarytool store-credentials`>
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-.venv/bin/python}"

"$PY" -m pip install --quiet -r packaging/requirements.txt
version="$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
arch="$(uname -m)"

"$PY" packaging/make_icons.py build/icons >/dev/null
# PyInstaller signs every binary and the .app with FLOURISH_CODESIGN_IDENTITY (hardened
# runtime, packaging/macos/entitlements.plist) when it is set; ad hoc otherwise.
FLOURISH_ICON_DIR="$PWD/build/icons" "$PY" -m PyInstaller --noconfirm \
  --distpath dist --workpath build/pyinstaller packaging/flourish.spec
app="dist/Flourish.app"
"$app/Contents/MacOS/flourish" --version

dmg="dist/flourish-$version-macos-$arch.dmg"
rm -f "$dmg"
stage="build/dmg"
rm -rf "$stage" && mkdir -p "$stage"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "Flourish $version" -srcfolder "$stage" -ov -format UDZO "$dmg"

if [ -n "${FLOURISH_CODESIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$FLOURISH_CODESIGN_IDENTITY" "$dmg"
fi
if [ -n "${FLOURISH_NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$dmg" --keychain-profile "$FLOURISH_NOTARY_PROFILE" --wait
  xcrun stapler staple "$dmg"
fi
echo "built $app and $dmg"
