#!/usr/bin/env bash
# Streams ROWS (default 1,000,000) records to CSV from the playground with
# `syncstudio query`, jsforce (query + autoFetch) and simple-salesforce
# (query_all_iter), in one run, and prints time, rows/s and peak RSS.
#   tests/bench/query_vs_peers.sh            # 1,000,000 rows
#   ROWS=100000 tests/bench/query_vs_peers.sh
exec "$(dirname "$0")/with_keyring.sh" tests/bench/query_vs_peers.py
