"""Starts `syncstudio playground --tls` for the session and trusts its
self-signed certificate, the way a user would add it to their CA bundle."""

import os
import pathlib
import subprocess
import tempfile

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _binary() -> str:
    if os.environ.get("SYNCSTUDIO_BIN"):
        return os.environ["SYNCSTUDIO_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "debug" / "syncstudio")


class Playground:
    def __init__(self, base_url: str, cert: str, process: subprocess.Popen):
        self.base_url = base_url
        self.cert = cert
        self.process = process

    def control(self, path: str, body=None, method: str = "POST"):
        res = requests.request(method, f"{self.base_url}/__emulator{path}", json=body, verify=self.cert, timeout=30)
        res.raise_for_status()
        return res.json()


@pytest.fixture(scope="session")
def playground():
    data = tempfile.mkdtemp(prefix="syncstudio-simple-salesforce-")
    env = dict(os.environ, SYNCSTUDIO_HOME=data)
    proc = subprocess.Popen(
        [_binary(), "playground", "--tls", "--port", "0", "--data", os.path.join(data, "org")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    first = proc.stdout.readline().strip()
    assert first.startswith("listening on https://"), first
    cert = None
    while cert is None:
        line = proc.stdout.readline()
        assert line, "playground closed stdout before naming its certificate"
        if line.startswith("tls certificate: "):
            cert = line.split(": ", 1)[1].strip()
    os.environ["REQUESTS_CA_BUNDLE"] = cert
    pg = Playground(first.split(" ", 2)[2], cert, proc)
    pg.control(
        "/seed",
        {"fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "length": 40, "externalId": True, "unique": True}]}},
    )
    yield pg
    proc.terminate()
    proc.wait(timeout=10)
