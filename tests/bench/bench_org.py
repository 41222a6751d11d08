"""The playground org the benchmarks measure against: started over TLS
(simple-salesforce insists on https), in memory (no background saves while
clients are timed), with a daily API limit no benchmark reaches."""

import json
import ssl
import subprocess
import urllib.request


class Playground:
    def __init__(self, bin_path, env):
        self.proc = subprocess.Popen([bin_path, "playground", "--tls", "--no-demo", "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.base = self.proc.stdout.readline().split()[-1]
        self.cert = None
        while self.cert is None:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("the playground stopped before printing its certificate")
            if line.startswith("tls certificate: "):
                self.cert = line.split(": ", 1)[1].strip()
        self.ctx = ssl.create_default_context(cafile=self.cert)
        self.call("POST", "/__emulator/settings", {"dailyApiLimit": 100000000})
        self.tokens = self.call("POST", "/__emulator/tokens", {"clientId": "bench"})
        self.token = self.tokens["access_token"]

    def call(self, method, path, body=None, content_type="application/json", token=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", content_type)
        if token:
            req.add_header("authorization", "Bearer " + token)
        with urllib.request.urlopen(req, context=self.ctx) as r:
            text = r.read()
            return json.loads(text) if text else None

    def connect_syncstudio(self, bin_path, env, name="bench"):
        """Adds the org as a `syncstudio` connection named `name`."""
        subprocess.run([bin_path, "connections", "add", name, "--login-url", self.base, "--client-id", "bench",
                        "--refresh-token-stdin"],
                       input=self.tokens["refresh_token"], text=True, env=dict(env, SSL_CERT_FILE=self.cert),
                       check=True, stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
