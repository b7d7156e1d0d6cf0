#!/bin/sh
# Make a drag-to-Applications disk image from the app bundle (macOS; hdiutil).
#
#   packaging/macos/make_dmg.sh "dist/Point-E Studio.app" dist/PointE-Studio-0.1.0.dmg
#
# Sign the .app before this and notarise the .dmg after it (see packaging/README.md).
set -eu

if [ "$#" -lt 2 ]; then
  echo "usage: make_dmg.sh APP OUT.dmg [VOLUME NAME]" >&2
  exit 2
fi
app=$1
out=$2
volname=${3:-"Point-E Studio"}
if [ ! -d "$app" ]; then
  echo "make_dmg.sh: $app is not an app bundle" >&2
  exit 1
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
ditto "$app" "$staging/$(basename "$app")"
ln -s /Applications "$staging/Applications"
rm -f "$out"
hdiutil create -volname "$volname" -srcfolder "$staging" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 -ov "$out"
echo "wrote $out"
