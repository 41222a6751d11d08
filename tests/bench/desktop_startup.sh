#!/usr/bin/env bash
# Desktop app start-up and memory, printed as a table (a benchmark, not a
# test: these machines are shared and noisy).
#   - start: from launching the binary to the first painted screen (the UI
#     reports it after two animation frames; the app logs the wall clock);
#     the median of RUNS launches, each with a fresh data folder.
#   - memory: proportional set size (PSS) of the app and all its WebKit
#     processes after 30 s idle on the Connections screen.
# Both with WebKit's defaults and with WEBKIT_DISABLE_COMPOSITING_MODE=1.
# Usage: tests/bench/desktop_startup.sh [APP_BINARY]   (RUNS=5 IDLE=30)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-5}
idle=${IDLE:-30}
app=${1:-target/release/sync-studio}
if [ -z "${1:-}" ]; then
  (cd ui && npx vite build --logLevel warn)
  cargo build --release --quiet -p sync-studio
fi
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$app"
fi

now_ms() { date +%s%3N; }

# PSS in kB of a process and every process below it.
tree_pss() {
  local pids=("$1") all=() p
  while [ ${#pids[@]} -gt 0 ]; do
    p=${pids[0]}; pids=("${pids[@]:1}"); all+=("$p")
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids+=("$c"); done
  done
  for p in "${all[@]}"; do awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null; done | awk '{s+=$1} END {print s+0}'
}

# Launches the app; echoes "start_ms pid log".
launch() {
  local home log
  home=$(mktemp -d); log="$home/stderr.log"
  local t0; t0=$(now_ms)
  SYNCSTUDIO_HOME="$home" "$app" 2>"$log" >/dev/null &
  local pid=$!
  for _ in $(seq 1 300); do
    grep -q "first screen painted" "$log" && break
    sleep 0.05
  done
  local painted
  painted=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'epoch_ms=[0-9]*' | head -1 | cut -d= -f2)
  [ -n "$painted" ] || { echo "the app never painted; its log:" >&2; cat "$log" >&2; kill "$pid"; exit 1; }
  echo "$((painted - t0)) $pid $home"
}

measure() { # label, env...
  local label=$1; shift
  local starts=() r pid home
  for _ in $(seq 1 "$runs"); do
    read -r ms pid home < <(env "$@" bash -c "$(declare -f now_ms launch); app='$app'; launch")
    starts+=("$ms")
    kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$home"
  done
  local median
  median=$(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  read -r _ pid home < <(env "$@" bash -c "$(declare -f now_ms launch); app='$app'; launch")
  sleep "$idle"
  local pss; pss=$(tree_pss "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$home"
  printf '| %-38s | %10s ms | %8s MB | %s |\n' "$label" "$median" "$((pss / 1024))" "$(printf '%s ' "${starts[@]}")"
}

echo "Sync Studio desktop, $(basename "$app"), $runs launches, PSS after ${idle}s idle on Connections"
echo "| configuration                          | first paint   | PSS         | each launch (ms) |"
echo "|----------------------------------------|---------------|-------------|------------------|"
measure "WebKit defaults"
measure "WEBKIT_DISABLE_COMPOSITING_MODE=1" WEBKIT_DISABLE_COMPOSITING_MODE=1
