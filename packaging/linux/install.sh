#!/bin/sh
# Install Point-E Studio for the current user, without root, from the unpacked .tar.gz:
#
#   ./install.sh               install (or upgrade) into ~/.local
#   ./install.sh --uninstall   remove what install.sh put there (your data folder stays)
#   PREFIX=/some/dir ./install.sh   install somewhere else than ~/.local
#
# Files: $PREFIX/opt/pointe-studio/ (the app), $PREFIX/bin/pointe-studio (launcher link),
# $PREFIX/share/applications/pointe-studio.desktop and the icon under $PREFIX/share/icons.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-"$HOME/.local"}
app_dir="$prefix/opt/pointe-studio"
launcher="$prefix/bin/pointe-studio"
desktop_file="$prefix/share/applications/pointe-studio.desktop"
icon_png="$prefix/share/icons/hicolor/256x256/apps/pointe-studio.png"
icon_svg="$prefix/share/icons/hicolor/scalable/apps/pointe-studio.svg"

refresh_menus() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" 2>/dev/null || true
  fi
}

uninstall() {
  rm -rf "$app_dir" "$app_dir.new"
  rm -f "$launcher" "$desktop_file" "$icon_png" "$icon_svg"
  refresh_menus
  # folders install.sh may have made, only if nothing else is in them
  for dir in "$prefix/opt" "$(dirname "$icon_png")" "$(dirname "$icon_svg")"; do
    rmdir "$dir" 2>/dev/null || true
  done
  echo "Point-E Studio removed from $prefix (your data and settings were kept)."
}

install_app() {
  if [ ! -x "$here/app/pointe-studio" ]; then
    echo "install.sh: $here/app/pointe-studio not found; run me from the unpacked archive." >&2
    exit 1
  fi
  mkdir -p "$prefix/opt" "$prefix/bin" "$(dirname "$desktop_file")" \
    "$(dirname "$icon_png")" "$(dirname "$icon_svg")"
  # copy next to the old version first, then swap: an interrupted upgrade keeps the old app
  rm -rf "$app_dir.new"
  cp -RP "$here/app" "$app_dir.new"
  rm -rf "$app_dir"
  mv "$app_dir.new" "$app_dir"
  ln -sf "$app_dir/pointe-studio" "$launcher"
  sed -e "s|@EXEC@|\"$app_dir/pointe-studio\"|" -e "s|@TRYEXEC@|$app_dir/pointe-studio|" \
    "$here/pointe-studio.desktop.in" >"$desktop_file"
  cp "$here/icons/pointe-studio.png" "$icon_png"
  cp "$here/icons/pointe-studio.svg" "$icon_svg"
  refresh_menus
  echo "Point-E Studio installed in $app_dir"
  case ":$PATH:" in
    *":$prefix/bin:"*) echo "Start it from your menu or with: pointe-studio" ;;
    *) echo "Start it from your menu or with: $launcher ($prefix/bin is not on your PATH)" ;;
  esac
}

case "${1:-}" in
  "") install_app ;;
  --uninstall) uninstall ;;
  -h | --help) sed -n '2,10p' "$0" ;;
  *)
    echo "install.sh: unknown option $1 (try --help)" >&2
    exit 2
    ;;
esac
