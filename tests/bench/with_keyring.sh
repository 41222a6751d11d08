#!/usr/bin/env bash
# Shared by the *_vs_peers.sh benchmarks: sets up, builds the release
# `syncstudio`, and runs the Python orchestrator given (tests/bench/X.py)
# with a private, unlocked keychain for the connection's tokens.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
cargo build --release --quiet --bin syncstudio
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
keyring_home=$(mktemp -d)
HOME="$keyring_home" dbus-run-session -- bash -c \
  'export $(printf bench | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null); exec python3 "$0"' "$1"
