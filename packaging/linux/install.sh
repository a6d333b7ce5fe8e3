#!/usr/bin/env bash
# Install Flourish from this archive (flourish-<version>-linux-x86_64.tar.gz).
#
#   sudo ./install.sh            for every user: /opt/flourish, /usr/local/bin/flourish,
#                                the menu entry and icon under /usr/local/share
#   ./install.sh --user          for you only: ~/.local/opt/flourish, ~/.local/bin/flourish,
#                                ~/.local/share/applications and icons
#   ./install.sh --uninstall [--user]
#
# The program folder is only read: each teacher's data goes to ~/.local/share/Flourish
# (or FLOURISH_DATA_DIR), settings to ~/.config/Flourish. Upgrading is running the
# newer archive's install.sh: the folder is replaced, data is left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

mode=system
action=install
for arg in "$@"; do
  case "$arg" in
    --user) mode=user ;;
    --uninstall) action=uninstall ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ "$mode" = user ]; then
  opt="$HOME/.local/opt/flourish"; bin="$HOME/.local/bin"; share="$HOME/.local/share"
else
  opt=/opt/flourish; bin=/usr/local/bin; share=/usr/local/share
fi
apps="$share/applications"
icons="$share/icons/hicolor"

refresh() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$icons" || true
}

if [ "$action" = uninstall ]; then
  rm -rf "$opt"
  rm -f "$bin/flourish" "$apps/flourish.desktop" \
    "$icons/256x256/apps/flourish.png" "$icons/scalable/apps/flourish.svg"
  refresh
  echo "Flourish removed (teachers' data in ~/.local/share/Flourish is kept)."
  exit 0
fi

mkdir -p "$(dirname "$opt")" "$bin" "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
rm -rf "$opt.new"
cp -a "$here/flourish" "$opt.new"
rm -rf "$opt"
mv "$opt.new" "$opt"
chmod -R a+rX,go-w "$opt"
ln -sfn "$opt/flourish" "$bin/flourish"
# The menu entry names the installed program by its full path (~/.local/bin is not on
# every desktop session's PATH).
sed -e "s|^Exec=flourish|Exec=$opt/flourish|" -e "s|^TryExec=flourish|TryExec=$opt/flourish|" \
  "$here/flourish.desktop" >"$apps/flourish.desktop"
chmod 0644 "$apps/flourish.desktop"
install -m 0644 "$here/flourish.png" "$icons/256x256/apps/flourish.png"
install -m 0644 "$here/flourish.svg" "$icons/scalable/apps/flourish.svg"
refresh
echo "Flourish $("$opt/flourish" --version | cut -d' ' -f2) installed in $opt; run 'flourish' or use the menu."
case ":$PATH:" in *":$bin:"*) ;; *) echo "note: $bin is not on your PATH" ;; esac
