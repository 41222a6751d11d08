"""Orchestrates tests/bench/query_vs_peers.sh: starts the playground
(bench_org.py), loads the rows through Bulk API 2.0, then runs each client
as its own process and reads its rusage."""

import csv
import os
import shutil
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_org import Playground

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("ROWS", "1000000"))
BIN = os.environ.get("SYNCSTUDIO_BIN", str(ROOT / "target" / "release" / "syncstudio"))
SOQL = "SELECT Id, Name, Industry, NumberOfEmployees, BillingCity FROM Account"


def main():
    # A million-row run leaves about 500 MB of CSV and org data behind.
    work = pathlib.Path(tempfile.mkdtemp(prefix="syncstudio-bench-"))
    try:
        run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work):
    env = dict(os.environ, SYNCSTUDIO_HOME=str(work / "home"), SYNCSTUDIO_LOG="warn")
    org = Playground(BIN, env)
    try:
        measure(work, env, org)
    finally:
        org.stop()


def measure(work, env, org):
    base, cert, token, call = org.base, org.cert, org.token, org.call
    # Written to a file and streamed up, so this process stays small: a
    # child's peak RSS (ru_maxrss) counts what its parent held at fork.
    data = work / "accounts.csv"
    industries = ["Technology", "Banking", "Retail", "Energy", "Healthcare"]
    with open(data, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Name", "Industry", "NumberOfEmployees", "BillingCity"])
        for i in range(ROWS):
            w.writerow([f"Company {i}", industries[i % 5], i % 5000, ["Austin", "Berlin", "Tokyo", "Paris"][i % 4]])
    job = call("POST", "/services/data/v62.0/jobs/ingest", {"object": "Account", "operation": "insert"}, token=token)
    upload = urllib.request.Request(f"{base}/services/data/v62.0/jobs/ingest/{job['id']}/batches", data=open(data, "rb"), method="PUT")
    upload.add_header("content-type", "text/csv")
    upload.add_header("content-length", str(data.stat().st_size))
    upload.add_header("authorization", "Bearer " + token)
    urllib.request.urlopen(upload, context=org.ctx).read()
    call("PATCH", f"/services/data/v62.0/jobs/ingest/{job['id']}", {"state": "UploadComplete"}, token=token)
    while call("GET", f"/services/data/v62.0/jobs/ingest/{job['id']}", token=token)["state"] != "JobComplete":
        time.sleep(0.2)

    org.connect_syncstudio(BIN, env)

    js = ROOT / "tests" / "conformance" / "jsforce"
    node_script = work / "jsforce_query.mjs"
    node_script.write_text(f"""
import jsforce from '{js}/node_modules/jsforce/index.js';
import fs from 'node:fs';
const conn = new jsforce.Connection({{ instanceUrl: process.env.BASE, accessToken: process.env.TOKEN, version: '62.0' }});
const out = fs.createWriteStream(process.env.OUT);
const cols = ['Id', 'Name', 'Industry', 'NumberOfEmployees', 'BillingCity'];
out.write(cols.join(',') + '\\n');
const q = s => s == null ? '' : /[",\\n]/.test(String(s)) ? '"' + String(s).replace(/"/g, '""') + '"' : String(s);
let n = 0;
await new Promise((resolve, reject) => conn.query(process.env.SOQL)
  .on('record', r => {{ n++; out.write(cols.map(c => q(r[c])).join(',') + '\\n'); }})
  .on('end', resolve).on('error', reject)
  .run({{ autoFetch: true, maxFetch: 100000000 }}));
out.end();
console.error(n);
""")
    py_script = work / "simple_salesforce_query.py"
    py_script.write_text("""
import csv, os
from simple_salesforce import Salesforce
sf = Salesforce(instance_url=os.environ['BASE'], session_id=os.environ['TOKEN'], version='62.0')
cols = ['Id', 'Name', 'Industry', 'NumberOfEmployees', 'BillingCity']
with open(os.environ['OUT'], 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\\n')
    w.writerow(cols)
    for r in sf.query_all_iter(os.environ['SOQL']):
        w.writerow([r[c] for c in cols])
""")
    runs = [
        ("syncstudio query", [BIN, "query", "bench", SOQL, "--out", str(work / "syncstudio.csv")], dict(env, SSL_CERT_FILE=cert), work / "syncstudio.csv"),
        ("jsforce 3 (query, autoFetch)", ["node", str(node_script)], dict(os.environ, NODE_EXTRA_CA_CERTS=cert, BASE=base, TOKEN=token, SOQL=SOQL, OUT=str(work / "jsforce.csv")), work / "jsforce.csv"),
        ("simple-salesforce (query_all_iter)", [sys.executable, str(py_script)], dict(os.environ, REQUESTS_CA_BUNDLE=cert, BASE=base, TOKEN=token, SOQL=SOQL, OUT=str(work / "ss.csv")), work / "ss.csv"),
    ]
    results = []
    for name, cmd, run_env, out_file in runs:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
        err = proc.stderr.read().decode()
        if status != 0:
            raise SystemExit(f"{name} failed: {err}")
        with open(out_file) as f:
            rows = sum(1 for _ in f) - 1
        if rows != ROWS:
            raise SystemExit(f"{name} wrote {rows} rows, not {ROWS}")
        results.append((name, rows, elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime))

    fastest_peer = min(r[2] for r in results[1:])
    print(f"\nQuery {ROWS:,} rows to CSV from the playground over HTTPS ({os.cpu_count()} cores)\n")
    print("| client | rows | seconds | rows/s | client CPU s | peak RSS | vs the faster peer |")
    print("|---|---|---|---|---|---|---|")
    for name, rows, secs, rss, cpu in results:
        print(f"| {name} | {rows:,} | {secs:.1f} | {rows / secs:,.0f} | {cpu:.1f} | {rss:.0f} MB | {fastest_peer / secs:.1f}x |")


if __name__ == "__main__":
    main()
