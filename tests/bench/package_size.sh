#!/usr/bin/env bash
# Sizes of the installers scripts/package.sh builds, against the aim
# (≤ 12 MB for the .deb), with what is inside them. Builds them first
# unless NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-$PWD/target}
[ "${NO_BUILD:-}" = 1 ] || bash scripts/package.sh >&2
deb=$(ls "$target"/installer/bundle/deb/*.deb | head -1)
rpm=$(ls "$target"/installer/bundle/rpm/*.rpm | head -1)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
size() { stat -c %s "$1"; }
installed_kb=$(dpkg-deb -f "$deb" Installed-Size)
printf '| what | size | aim |\n|---|---|---|\n'
printf '| `.deb` (%s) | %s | ≤ 12 MB |\n' "$(basename "$deb")" "$(mb "$(size "$deb")")"
printf '| `.rpm` (%s) | %s | |\n' "$(basename "$rpm")" "$(mb "$(size "$rpm")")"
printf '| installed (the .deb'"'"'s Installed-Size) | %s | |\n' "$(mb $((installed_kb * 1024)))"
printf '| `sync-studio` (the app, UI inside) | %s | |\n' "$(mb "$(size "$target/installer/sync-studio")")"
printf '| `syncstudio` (the headless binary, playground inside) | %s | |\n' "$(mb "$(size "$target/installer/syncstudio")")"
printf '| `ui/dist` (before it is embedded) | %s | |\n' "$(mb "$(du -sb ui/dist | cut -f1)")"
