#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a gnome-keyring of its
# own, kept in DIR (not in ~/.local/share/keyrings): a login keyring that
# already exists there with another password would otherwise raise GNOME's
# password prompt over the app and leave the tokens nowhere to go.
#   scripts/private-keyring.sh DIR COMMAND [ARGS...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR COMMAND [ARGS...]" >&2
  exit 2
fi
dir=$1; shift
mkdir -p "$dir"
chmod 700 "$dir"
exec dbus-run-session -- bash -c '
  dir=$1; shift
  # gnome-keyring keeps its keyrings in $XDG_DATA_HOME/keyrings: point it,
  # and only it, at the private folder. Its password guards nothing here
  # that the folder permissions do not already.
  export $(printf syncstudio-playground | XDG_DATA_HOME="$dir" gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)
  # The daemon takes its name on the bus a moment after it returns. Asked
  # for the secrets service before then, D-Bus would start a second one,
  # on the default keyrings (the login keyring, with its password prompt).
  for _ in $(seq 200); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
      grep -q "boolean true" && break
    sleep 0.05
  done
  exec "$@"' _ "$dir" "$@"
