#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, the UI's types, lint,
# unit tests and build, clippy, the Rust tests (nextest), the desktop app end
# to end under Xvfb, and the third-party client suites against the playground.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 2

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
failed=()
passed_total=0
failed_total=0
logs=$(mktemp -d)

step() { # name, command...
  local name=$1; shift
  say "$name"
  "$@" 2>&1 | tee "$logs/$name.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("$name")
}

step fmt cargo fmt --all -- --check
# The app embeds ui/dist, so the UI is built before any Rust.
step ui bash -c 'cd ui && npm run --silent typecheck && npm run --silent lint && npx vitest run && npx vite build --logLevel warn'
step clippy cargo clippy --workspace --all-targets --quiet -- -D warnings
# What ships: licenses allowed for a distributed app, banned and duplicate
# crates, sources; and no dependency left unused.
step deny bash -c 'cargo deny --log-level error check licenses bans sources && {
  if [ "${SYNCSTUDIO_ADVISORIES:-}" = 1 ]; then cargo deny check advisories;
  else echo "advisories: skipped (the RustSec database cannot be fetched here; SYNCSTUDIO_ADVISORIES=1 runs it)"; fi; }'
step machete cargo machete
# Every target at once, so the test run below reuses these builds: a plain
# `cargo build` resolves features without dev-dependencies and would build
# Tauri and everything above it a second time.
step build cargo build --workspace --all-targets --quiet
# The keychain tests use a real Secret Service: gnome-keyring, unlocked, on
# a private D-Bus session, with its files in a throwaway HOME.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
keyring_home=$(mktemp -d)
# gnome-keyring-daemon can abort when a client goes away in the middle of a
# call (an upstream race; these tests kill syncstudio processes on purpose,
# and the daemon took every later test down with it once). As systemd does
# on a desktop, a watcher starts it again, on the same files, whenever the
# Secret Service leaves the bus; the CLI tests caught in the gap are run
# again (.config/nextest.toml), and show as flaky.
keychain_session='
  unlock() { export $(printf syncstudio | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null); }
  running() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"
  }
  unlock
  for _ in $(seq 50); do running && break; sleep 0.1; done
  (while sleep 0.2; do running || { echo "keychain: gnome-keyring-daemon stopped; starting it again" >&2; unlock; }; done) &
  watcher=$!
  "$@"; status=$?
  kill "$watcher" 2>/dev/null
  exit "$status"'
with_keychain() {
  HOME="$keyring_home" dbus-run-session -- bash -c "$keychain_session" _ "$@"
}
step rust-tests with_keychain cargo nextest run --workspace --no-fail-fast --failure-output final
# The real app binary (built above) in a real window on a virtual display,
# driven through tauri-driver; screenshots land in target/e2e.
export SYNCSTUDIO_APP="${CARGO_TARGET_DIR:-$PWD/target}/debug/sync-studio"
package_tests='test(the_deb_installs) | test(the_rpm_holds)'
step e2e with_keychain xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo nextest run --workspace -E "package(e2e) & not ($package_tests)" --run-ignored only --test-threads 1 --no-fail-fast --failure-output final
# The installers of the build above (bundling a release build too would
# build the app a second time: `scripts/package.sh` does that), installed
# with apt, started, checked through WebDriver and removed; the .rpm read
# with rpm.
step package bash scripts/package.sh --debug
bundle="${CARGO_TARGET_DIR:-$PWD/target}/debug/bundle"
export SYNCSTUDIO_DEB=$(ls "$bundle"/deb/*.deb 2>/dev/null | head -1) SYNCSTUDIO_RPM=$(ls "$bundle"/rpm/*.rpm 2>/dev/null | head -1)
step package-tests with_keychain xvfb-run -a -s "-screen 0 1280x800x24" \
  cargo nextest run --workspace -E "package(e2e) & ($package_tests)" --run-ignored only --test-threads 1 --no-fail-fast --failure-output final
step jsforce bash -c 'cd tests/conformance/jsforce && node --test --test-reporter=tap'
step simple-salesforce python3 -m pytest -q tests/conformance/simple_salesforce

# One closing line over every suite.
n() { sed 's/\x1b\[[0-9;]*m//g' "$2" 2>/dev/null | grep -Eo "$1" | grep -Eo '[0-9]+' | tail -1; }
# nextest's closing line: "N tests run: N passed, N failed, N skipped".
p=$(n 'tests? run: [0-9]+ passed' "$logs/rust-tests.log"); f=$(n 'passed[^,]*, [0-9]+ failed' "$logs/rust-tests.log")
passed_total=$((passed_total + ${p:-0})); failed_total=$((failed_total + ${f:-0}))
p=$(n 'Tests +[0-9]+ passed' "$logs/ui.log"); f=$(n 'Tests +[0-9]+ failed' "$logs/ui.log")
passed_total=$((passed_total + ${p:-0})); failed_total=$((failed_total + ${f:-0}))
for suite in e2e package-tests; do
  p=$(n 'tests? run: [0-9]+ passed' "$logs/$suite.log"); f=$(n 'passed[^,]*, [0-9]+ failed' "$logs/$suite.log")
  passed_total=$((passed_total + ${p:-0})); failed_total=$((failed_total + ${f:-0}))
done
p=$(n '^# pass [0-9]+' "$logs/jsforce.log"); f=$(n '^# fail [0-9]+' "$logs/jsforce.log")
passed_total=$((passed_total + ${p:-0})); failed_total=$((failed_total + ${f:-0}))
p=$(n '[0-9]+ passed' "$logs/simple-salesforce.log"); f=$(n '[0-9]+ failed' "$logs/simple-salesforce.log")
passed_total=$((passed_total + ${p:-0})); failed_total=$((failed_total + ${f:-0}))

if [ ${#failed[@]} -gt 0 ]; then
  say "failed steps: ${failed[*]}"
  echo "${passed_total} passed, $(( failed_total > 0 ? failed_total : ${#failed[@]} )) failed"
  exit 1
fi
echo "${passed_total} passed, 0 failed"
