"""Orchestrates tests/bench/import_vs_peers.sh: one CSV of Contacts, and for
each client a fresh playground (bench_org.py), the client as its own
process (its rusage read), then the org counted: every row must be in it,
once."""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from bench_org import Playground

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("ROWS", "1000000"))
BIN = os.environ.get("SYNCSTUDIO_BIN", str(ROOT / "target" / "release" / "syncstudio"))
JSFORCE = ROOT / "tests" / "conformance" / "jsforce" / "node_modules" / "jsforce" / "index.js"

JSFORCE_SCRIPT = """
import jsforce from '%s';
import fs from 'node:fs';
const conn = new jsforce.Connection({ instanceUrl: process.env.BASE, accessToken: process.env.TOKEN, version: '62.0' });
const res = await conn.bulk2.loadAndWaitForResults({
  object: 'Contact', operation: 'insert', input: fs.createReadStream(process.env.DATA),
  pollInterval: 200, pollTimeout: 3600000,
});
const out = fs.createWriteStream(process.env.OUT);
for (const r of res.successfulResults) out.write(r.sf__Id + '\\n');
out.end();
if (res.failedResults.length || res.unprocessedRecords.length) { console.error('failed rows'); process.exit(1); }
"""

SIMPLE_SALESFORCE_SCRIPT = """
import os
from simple_salesforce import Salesforce
sf = Salesforce(instance_url=os.environ['BASE'], session_id=os.environ['TOKEN'], version='62.0')
# wait: seconds between status polls (default 5); 1 is kinder to it here.
for job in sf.bulk2.Contact.insert(csv_file=os.environ['DATA'], wait=1):
    sf.bulk2.Contact.get_successful_records(job['job_id'], file=os.environ['OUT'])
    if job['numberRecordsFailed']:
        raise SystemExit('failed rows')
"""

# The floor: the Bulk API 2.0 calls and nothing else (one job, the whole
# file in one upload, polls every 200 ms, the three result files fetched).
CURL_SCRIPT = r"""
set -euo pipefail
api="$BASE/services/data/v62.0/jobs/ingest"
c() { curl -sS --fail --cacert "$CERT" -H "Authorization: Bearer $TOKEN" "$@"; }
job=$(c -H 'content-type: application/json' -d '{"object":"Contact","operation":"insert","lineEnding":"LF"}' "$api" \
  | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
c -X PUT -H 'content-type: text/csv' --data-binary @"$DATA" "$api/$job/batches" >/dev/null
c -X PATCH -H 'content-type: application/json' -d '{"state":"UploadComplete"}' "$api/$job" >/dev/null
until c "$api/$job" | grep -q '"state":"JobComplete"'; do sleep 0.2; done
c "$api/$job/successfulResults" -o "$OUT"
c "$api/$job/failedResults" -o "$OUT.failed"
c "$api/$job/unprocessedrecords" -o "$OUT.unprocessed"
"""


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="syncstudio-bench-import-"))
    try:
        run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work):
    data = work / "contacts.csv"
    with open(data, "w") as f:
        f.write("FirstName,LastName,Email,Title\n")
        for i in range(ROWS):
            f.write(f"Ann{i},Bench{i:07d},ann{i}@example.com,Buyer\n")
    (work / "jsforce_load.mjs").write_text(JSFORCE_SCRIPT % JSFORCE)
    (work / "ss_load.py").write_text(SIMPLE_SALESFORCE_SCRIPT)
    (work / "curl_load.sh").write_text(CURL_SCRIPT)
    clients = [
        ("syncstudio import", lambda env: [BIN, "import", "bench", "--object", "Contact", "--operation", "insert",
                                            "--file", str(data), "--format", "json"]),
        ("jsforce 3 (bulk2.loadAndWaitForResults)", lambda env: ["node", str(work / "jsforce_load.mjs")]),
        ("simple-salesforce (bulk2.Contact.insert)", lambda env: [sys.executable, str(work / "ss_load.py")]),
        ("curl: the bare Bulk API 2.0 calls", lambda env: ["bash", str(work / "curl_load.sh")]),
    ]
    results = []
    for n, (name, cmd) in enumerate(clients):
        home = work / f"home-{n}"
        env = dict(os.environ, SYNCSTUDIO_HOME=str(home), SYNCSTUDIO_LOG="warn")
        org = Playground(BIN, env)
        try:
            if n == 0:
                org.connect_syncstudio(BIN, env)
            run_env = dict(env, SSL_CERT_FILE=org.cert, NODE_EXTRA_CA_CERTS=org.cert, REQUESTS_CA_BUNDLE=org.cert,
                           CERT=org.cert, BASE=org.base, TOKEN=org.token, DATA=str(data), OUT=str(work / f"out-{n}.csv"))
            started = time.monotonic()
            proc = subprocess.Popen(cmd(run_env), env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.monotonic() - started
            err = proc.stderr.read().decode()
            if status != 0:
                raise SystemExit(f"{name} failed: {err}")
            soql = urllib.parse.quote("SELECT COUNT() FROM Contact")
            in_org = org.call("GET", f"/services/data/v62.0/query?q={soql}", token=org.token)["totalSize"]
            if in_org != ROWS:
                raise SystemExit(f"{name}: the org holds {in_org} Contacts, not {ROWS}")
            results.append((name, elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime))
        finally:
            org.stop()

    floor = results[-1][1]
    fastest_peer = min(r[1] for r in results[1:3])
    print(f"\nInsert {ROWS:,} Contacts from one CSV into the playground over HTTPS ({os.cpu_count()} cores)\n")
    print("| client | seconds | rows/s | client CPU s | peak RSS | vs the curl floor | vs the faster peer |")
    print("|---|---|---|---|---|---|---|")
    for name, secs, rss, cpu in results:
        print(f"| {name} | {secs:.1f} | {ROWS / secs:,.0f} | {cpu:.1f} | {rss:.0f} MB | {secs / floor:.2f}x the time "
              f"| {fastest_peer / secs:.1f}x |")


if __name__ == "__main__":
    main()
