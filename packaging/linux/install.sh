#!/bin/sh
# Adds Claude Code Fallback from this folder to your desktop: an application-menu entry, its
# icon, and `ccf` on your PATH (a link in ~/.local/bin). Nothing is copied out of this
# folder, so keep it where it is (for example ~/.local/opt/claude-code-fallback).
#   ./install.sh              install for the current user
#   ./install.sh --uninstall  remove exactly what install.sh added
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=$HOME/.local/bin
name=claude-code-fallback
desktop_file=$data/applications/$name.desktop

uninstall() {
  rm -f "$desktop_file" "$bin/ccf"
  for size in 256 512; do
    rm -f "$data/icons/hicolor/${size}x${size}/apps/$name.png"
  done
  echo "Removed the menu entry, the icons and $bin/ccf. Delete $here to remove the app itself."
}

install() {
  [ -x "$here/ccf" ] || { echo "install.sh: $here/ccf is missing" >&2; exit 1; }
  mkdir -p "$data/applications" "$bin"
  for size in 256 512; do
    mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
    cp "$here/icons/$name-$size.png" "$data/icons/hicolor/${size}x${size}/apps/$name.png"
  done
  # Exec needs the absolute path, quoted and escaped as the Desktop Entry spec says.
  escaped=$(printf '%s' "$here/ccf" | sed -e 's/[\\"`$]/\\&/g' -e 's/\\/\\\\/g' -e 's/%/%%/g')
  { grep -v '^Exec=' "$here/$name.desktop"; printf 'Exec="%s"\n' "$escaped"; } > "$desktop_file"
  ln -sf "$here/ccf" "$bin/ccf"
  echo "Installed: \"Claude Code Fallback\" is in your application menu, and $bin/ccf runs it."
  case ":$PATH:" in *":$bin:"*) ;; *) echo "Add $bin to your PATH to type \`ccf\` in a terminal." ;; esac
}

case "${1:-}" in
  --uninstall) uninstall ;;
  "") install ;;
  *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac
