#!/usr/bin/env bash
# Streams ROWS (default 1,000,000) records to CSV from the playground with
# `syncstudio query`, jsforce (query + autoFetch) and simple-salesforce
# (query_all_iter), in one run, and prints time, rows/s and peak RSS.
#   tests/bench/query_vs_peers.sh            # 1,000,000 rows
#   ROWS=100000 tests/bench/query_vs_peers.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
cargo build --release --quiet --bin syncstudio
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
keyring_home=$(mktemp -d)
HOME="$keyring_home" dbus-run-session -- bash -c \
  'export $(printf bench | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null); exec python3 tests/bench/query_vs_peers.py'
