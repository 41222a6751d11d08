#!/usr/bin/env bash
# Inserts ROWS (default 1,000,000) Contacts from one CSV into the playground
# over HTTPS with `syncstudio import`, jsforce (bulk2.loadAndWaitForResults),
# simple-salesforce (bulk2.Contact.insert) and the floor: curl doing the bare
# Bulk API 2.0 calls. Prints wall time, rows/s, client CPU and peak RSS.
#   tests/bench/import_vs_peers.sh            # 1,000,000 rows
#   ROWS=100000 tests/bench/import_vs_peers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
cargo build --release --quiet --bin syncstudio
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
keyring_home=$(mktemp -d)
HOME="$keyring_home" dbus-run-session -- bash -c \
  'export $(printf bench | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null); exec python3 tests/bench/import_vs_peers.py'
