#!/usr/bin/env bash
# Builds the installers with the Tauri bundler: a .deb and an .rpm, each with
# the desktop app (sync-studio) and the headless binary (syncstudio), under
# target/release/bundle/{deb,rpm}/. The AppImage, .msi and .dmg are built by
# .github/workflows/release.yml on hosts that have their tools.
#
#   scripts/package.sh           release build: what ships
#   scripts/package.sh --debug   the debug build scripts/test.sh already made,
#                                bundled the same way under target/debug/bundle
#                                (the install test in CI, without building the
#                                app a second time)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
profile=release bundle_flags=()
if [ "${1:-}" = --debug ]; then
  profile=debug bundle_flags=(--debug)
  # The same command as the test run's build, so nothing is built again.
  say "the debug build (as scripts/test.sh makes it)"
  cargo build --workspace --all-targets --quiet
else
  say "building the UI"
  (cd ui && npx vite build --logLevel warn)
  # One cargo run for both binaries, so the crates they share build once.
  say "building sync-studio and syncstudio (release)"
  cargo build --release --locked -p sync-studio -p syncstudio-cli
fi
cli="$target/$profile/syncstudio"
# The headless binary's path depends on the target dir, so it is given here
# rather than in tauri.conf.json.
files=$(printf '{"/usr/bin/syncstudio": "%s"}' "$cli")
override=$(printf '{"bundle": {"linux": {"deb": {"files": %s}, "rpm": {"files": %s}}}}' "$files" "$files")
say "bundling .deb and .rpm ($profile)"
rm -rf "$target/$profile/bundle/deb" "$target/$profile/bundle/rpm"
(cd ui && npm run --silent tauri -- bundle "${bundle_flags[@]}" --bundles deb,rpm --config "$override" --ci)
ls -l "$target/$profile"/bundle/deb/*.deb "$target/$profile"/bundle/rpm/*.rpm
