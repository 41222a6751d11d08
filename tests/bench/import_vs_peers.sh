#!/usr/bin/env bash
# Inserts ROWS (default 1,000,000) Contacts from one CSV into the playground
# over HTTPS with `syncstudio import`, jsforce (bulk2.loadAndWaitForResults),
# simple-salesforce (bulk2.Contact.insert) and the floor: curl doing the bare
# Bulk API 2.0 calls. Prints wall time, rows/s, client CPU and peak RSS.
#   tests/bench/import_vs_peers.sh            # 1,000,000 rows
#   ROWS=100000 tests/bench/import_vs_peers.sh
exec "$(dirname "$0")/with_keyring.sh" tests/bench/import_vs_peers.py
