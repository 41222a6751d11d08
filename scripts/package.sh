#!/usr/bin/env bash
# Builds the installers with the Tauri bundler: a .deb and an .rpm, each with
# the desktop app (sync-studio) and the headless binary (syncstudio). The
# AppImage, .msi and .dmg are built by .github/workflows/release.yml on hosts
# that have their tools.
#
#   scripts/package.sh           the installer profile (Cargo.toml): what
#                                ships, under target/installer/bundle/{deb,rpm}
#   scripts/package.sh --debug   the debug build scripts/test.sh already made,
#                                bundled the same way under target/debug/bundle
#                                (the install test in CI, without building the
#                                app a second time)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
if [ "${1:-}" = --debug ]; then
  profile=debug bundle_flags=(--debug)
  # The same command as the test run's build, so nothing is built again.
  say "the debug build (as scripts/test.sh makes it)"
  cargo build --workspace --all-targets --quiet
  bins="$target/debug" bundles="$target/debug/bundle"
else
  profile=release bundle_flags=()
  say "building the UI"
  (cd ui && npx vite build --logLevel warn)
  # One cargo run for both binaries, so the crates they share build once.
  say "building sync-studio and syncstudio (installer profile)"
  cargo build --profile installer --locked -p sync-studio -p syncstudio-cli
  # The bundler takes its binaries from <target dir>/release: a staging
  # target dir holds copies, so the everyday release build is left alone.
  stage="$target/installer/stage"
  rm -rf "$stage" && mkdir -p "$stage/release"
  cp "$target/installer/sync-studio" "$target/installer/syncstudio" "$stage/release/"
  export CARGO_TARGET_DIR=$stage
  bins="$stage/release" bundles="$target/installer/bundle"
fi
# The headless binary's path depends on the target dir, so it is given here
# rather than in tauri.conf.json.
files=$(printf '{"/usr/bin/syncstudio": "%s"}' "$bins/syncstudio")
override=$(printf '{"bundle": {"linux": {"deb": {"files": %s}, "rpm": {"files": %s}}}}' "$files" "$files")
say "bundling .deb and .rpm ($profile)"
rm -rf "$bins/bundle/deb" "$bins/bundle/rpm"
(cd ui && npm run --silent tauri -- bundle "${bundle_flags[@]}" --bundles deb,rpm --config "$override" --ci)
if [ "$bundles" != "$bins/bundle" ]; then
  rm -rf "$bundles" && mv "$bins/bundle" "$bundles"
fi
# The bundler compresses the .deb's files with gzip; xz, dpkg's own
# default, makes the download a quarter smaller. The debug bundle takes the
# same path at a quick level, so the install test covers it.
level=9
[ "$profile" = debug ] && level=1
for deb in "$bundles"/deb/*.deb; do
  say "recompressing $(basename "$deb") with xz -$level"
  work=$(mktemp -d)
  dpkg-deb -R "$deb" "$work/pkg"
  dpkg-deb --root-owner-group -Zxz -z"$level" -b "$work/pkg" "$deb" >/dev/null
  rm -rf "$work"
done
ls -l "$bundles"/deb/*.deb "$bundles"/rpm/*.rpm
