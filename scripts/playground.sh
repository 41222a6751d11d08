#!/usr/bin/env bash
# Sets up, builds and starts the desktop app connected to the built-in
# playground org (a local Salesforce with demo data on port 7878, kept in
# ${SYNCSTUDIO_HOME}/playground). `--headless` starts only the org, for a
# server or a terminal: `syncstudio playground`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--headless" ]; then
  shift
  home="${SYNCSTUDIO_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/sync-studio}"
  exec cargo run --quiet --bin syncstudio -- playground --port "${PORT:-7878}" --data "$home/playground" "$@"
fi
(cd ui && npx vite build --logLevel warn)
cargo build --release --quiet -p sync-studio
app="${CARGO_TARGET_DIR:-target}/release/sync-studio"
# Tokens go to the OS keychain: without a desktop session, start one.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "No D-Bus session: starting one with an unlocked gnome-keyring for this run." >&2
  exec dbus-run-session -- bash -c 'export $(printf playground | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null); exec "$1" --playground' _ "$app"
fi
exec "$app" --playground
