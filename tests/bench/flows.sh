#!/usr/bin/env bash
# The trigger's benchmark: API calls per idle poll, the delay from a change
# to its action, and records per second for a burst of changes through
# http.request and salesforce.upsert. Prints a table.
#   tests/bench/flows.sh               # a burst of 10,000
#   BURST=1000 tests/bench/flows.sh
exec "$(dirname "$0")/with_keyring.sh" tests/bench/flows.py
