#!/usr/bin/env bash
# Sets up, builds and starts the playground org: a local Salesforce with demo
# data at http://127.0.0.1:${PORT:-7878}, kept in ${SYNCSTUDIO_HOME}/playground.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
home="${SYNCSTUDIO_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/sync-studio}"
exec cargo run --quiet --bin syncstudio -- playground --port "${PORT:-7878}" --data "$home/playground" "$@"
