#!/usr/bin/env bash
# Sets up, builds and starts the desktop app connected to the built-in
# playground org (a local Salesforce with demo data on port 7878, kept in
# ${SYNCSTUDIO_HOME}/playground). `--headless` starts only the org, for a
# server or a terminal: `syncstudio playground`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
home="${SYNCSTUDIO_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/sync-studio}"
export SYNCSTUDIO_HOME="$home"
if [ "${1:-}" = "--headless" ]; then
  shift
  exec cargo run --quiet --bin syncstudio -- playground --port "${PORT:-7878}" --data "$home/playground" "$@"
fi
(cd ui && npx vite build --logLevel warn)
cargo build --release --quiet -p sync-studio
app="${CARGO_TARGET_DIR:-target}/release/sync-studio"
# Tokens go to the OS keychain: without a desktop session, start one with
# a keyring of its own in the data folder (never the login keyring in
# ~/.local/share/keyrings, whose password we cannot know).
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "No D-Bus session: starting one with a private keyring in $home/keyring." >&2
  exec scripts/private-keyring.sh "$home/keyring" "$app" --playground
fi
exec "$app" --playground
