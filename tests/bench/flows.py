"""Orchestrates tests/bench/flows.sh: the trigger measured against the
playground through the release `syncstudio`.

1. API calls per idle poll (`flows run --once` with nothing changed; the
   org's own count of calls).
2. The delay from a change in the org to its action: a contact created
   over REST while `flows serve` polls every second, timed until the local
   sink hears of it (aim: the polling interval plus 1 s).
3. Records per second for a burst of BURST (default 10,000) changes made
   at once (one Bulk insert), from the first change to the last action,
   through trigger -> http.request and trigger -> salesforce.upsert."""

import http.server
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench_org import Playground

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("SYNCSTUDIO_BIN", str(ROOT / "target" / "release" / "syncstudio"))
BURST = int(os.environ.get("BURST", "10000"))
DELAYS = int(os.environ.get("DELAYS", "10"))


class Sink:
    """A local HTTP endpoint: when each record's post arrived."""

    def __init__(self):
        self.heard = {}
        self.lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer and no Nagle: otherwise each answer's
            # body waits out the client's delayed ACK (40 ms).
            disable_nagle_algorithm = True
            wbufsize = 65536

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                record = json.loads(body)["id"]
                with sink.lock:
                    sink.heard.setdefault(record, time.monotonic())
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/in"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return len(self.heard)


def flow(name, action, every=1):
    return {
        "version": 1, "name": name,
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": "bench", "object": "Contact", "on": "created", "every_seconds": every,
                "fields": ["Id", "LastName"]}},
            dict(action, id="act"),
        ],
        "edges": [{"from": "t", "to": "act"}],
    }


def http_action(sink):
    return {"type": "http.request", "params": {
        "method": "POST", "url": sink.url, "headers": {"Content-Type": "application/json"},
        "body": '{"id": "{{ record.Id }}"}'}}


UPSERT = {"type": "salesforce.upsert", "params": {
    "connection": "bench", "object": "Account", "external_id": "ERP_Id__c",
    "fields": {"ERP_Id__c": "{{ record.Id }}", "Name": "{{ record.LastName }}"}}}


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="syncstudio-bench-flows-"))
    try:
        run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sh(env, *args, stdin=None):
    return subprocess.run([BIN, *args], env=env, input=stdin, text=True, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


def add_flow(env, work, f):
    path = work / f"{f['name']}.json"
    path.write_text(json.dumps(f))
    sh(env, "flows", "import", str(path))
    sh(env, "flows", "enable", f["name"])


def api_used(org):
    return org.call("GET", "/__emulator/")["apiUsed"]


def run(work):
    home = work / "home"
    env = dict(os.environ, SYNCSTUDIO_HOME=str(home), SYNCSTUDIO_LOG="warn")
    org = Playground(BIN, env)
    rows = []
    try:
        org.connect_syncstudio(BIN, env)
        env = dict(env, SSL_CERT_FILE=org.cert)
        org.call("POST", "/__emulator/seed", {"fields": {"Account": [
            {"name": "ERP_Id__c", "type": "string", "length": 40, "externalId": True, "unique": True}]}})
        sink = Sink()

        # 1. Idle polls.
        add_flow(env, work, flow("idle", http_action(sink), every=60))
        calls = []
        for _ in range(5):
            before = api_used(org)
            sh(env, "flows", "run", "idle", "--once")
            calls.append(api_used(org) - before)
        sh(env, "flows", "disable", "idle")
        rows.append(("API calls per idle poll", f"{max(calls)} (of {len(calls)} polls: {calls})", "1"))

        # 2. Change to action, one change at a time, polled every second.
        add_flow(env, work, flow("delay", http_action(sink)))
        serve = subprocess.Popen([BIN, "flows", "serve"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.5)
            delays = []
            for i in range(DELAYS):
                made = time.monotonic()
                rec = org.call("POST", "/services/data/v62.0/sobjects/Contact", {"LastName": f"Delay{i}"},
                               token=org.token)
                while rec["id"] not in sink.heard:
                    if time.monotonic() - made > 30:
                        raise SystemExit(f"no action for {rec['id']} within 30 s")
                    time.sleep(0.01)
                delays.append(sink.heard[rec["id"]] - made)
                time.sleep(0.3 + (i % 4) * 0.2)
        finally:
            serve.terminate()
            serve.wait()
        sh(env, "flows", "disable", "delay")
        rows.append(("change to action, polling every 1 s",
                     f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s", "<= 2 s"))

        # 3. A burst through each action.
        for name, action, done in [
            ("burst-http", http_action(sink), lambda: sink.count()),
            ("burst-upsert", UPSERT, lambda: org.call(
                "GET", "/services/data/v62.0/query?q=SELECT+COUNT()+FROM+Account+WHERE+ERP_Id__c+!=+null",
                token=org.token)["totalSize"]),
        ]:
            start_count = done()
            add_flow(env, work, flow(name, action))
            data = work / f"{name}.csv"
            data.write_text("LastName\n" + "".join(f"{name}{i}\n" for i in range(BURST)))
            serve = subprocess.Popen([BIN, "flows", "serve"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            try:
                time.sleep(1.5)
                began = time.monotonic()
                sh(env, "import", "bench", "--object", "Contact", "--operation", "insert", "--file", str(data),
                   "--api", "bulk")
                while done() - start_count < BURST:
                    if time.monotonic() - began > 1800:
                        raise SystemExit(f"{name}: {done() - start_count} of {BURST} after 30 min")
                    time.sleep(0.2)
                took = time.monotonic() - began
            finally:
                serve.terminate()
                serve.wait()
            sh(env, "flows", "disable", name)
            label = "http.request" if "http" in name else "salesforce.upsert"
            rows.append((f"burst of {BURST:,} changes -> {label}",
                         f"{BURST / took:,.0f} records/s ({took:.1f} s, the insert included)", ""))
    finally:
        org.stop()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  result  (aim)")
    for m, r, aim in rows:
        print(f"{m:<{width}}  {r}" + (f"  ({aim})" if aim else ""))


if __name__ == "__main__":
    sys.exit(main())
