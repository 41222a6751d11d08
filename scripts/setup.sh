#!/usr/bin/env bash
# Installs what building and testing Sync Studio needs on Debian/Ubuntu,
# skipping whatever is already there. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: a C toolchain for -sys crates, Node.js and Python for the
# UI and the third-party client suites, a Secret Service (gnome-keyring on a
# D-Bus session) for the keychain tests, WebKitGTK and friends for the Tauri
# app, and Xvfb, WebKitWebDriver, xdotool, xclip and a notification server
# (dunst) for its end-to-end tests;
# rpm to read the .rpm the package test builds.
apt_packages=(build-essential pkg-config ca-certificates curl python3 python3-pip nodejs npm gnome-keyring dbus dbus-x11
  libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libsecret-1-dev
  xvfb xauth webkit2gtk-driver xdotool xclip dunst rpm)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Toolchains installed outside apt count as present.
command -v node >/dev/null && command -v npm >/dev/null && missing=("${missing[@]/nodejs}") && missing=("${missing[@]/npm}")
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 && missing=("${missing[@]/python3}") && missing=("${missing[@]/python3-pip}")
command -v cc >/dev/null && missing=("${missing[@]/build-essential}")
read -r -a missing <<<"${missing[*]:-}"
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing; install Rust from your distribution or rustup first" >&2
  exit 2
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

# Release hygiene: licenses, bans and sources; unused dependencies.
for tool in cargo-deny cargo-machete; do
  if ! command -v "$tool" >/dev/null; then
    say "installing $tool"
    cargo install "$tool" --locked
  fi
done

if ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver"
  cargo install tauri-driver --locked
fi

# The desktop app's UI (npm). `npm ci` only when the lock file changed.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  say "installing the UI's packages (npm ci)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

# jsforce suite (npm). `npm ci` only when the lock file changed.
js=tests/conformance/jsforce
if [ ! -d "$js/node_modules" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
  say "installing jsforce (npm ci)"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi

# simple-salesforce suite, and python-xlib for the desktop tests (PyPI).
for py in tests/conformance/simple_salesforce/requirements.txt tests/e2e/requirements.txt; do
  if ! python3 - "$py" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    name, _, want = line.strip().partition("==")
    if name and version(name) != want:
        raise SystemExit(1)
PY
  then
    say "installing $py (pip)"
    python3 -m pip install -q --disable-pip-version-check -r "$py" 2>/dev/null \
      || python3 -m pip install -q --disable-pip-version-check --break-system-packages -r "$py"
  fi
done
