"""Re-record a real Prometheus's answers: `python -m tests.data.prometheus.record`.

Starts the test lab (tests/harness/prometheus.py: Debian's Prometheus scraping a node_exporter
on 127.0.0.1 and a target that is down) and saves, byte for byte, its answers to the round's
queries for `{job="node"}` with `name_label: host` (<key>.json) and to the targets list
(targets.json). They are the probe's unit-test input (tests/unit/test_probe_prometheus.py).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.harness.prometheus import PromLab
from tomconsole.probes.promql import queries

HERE = Path(__file__).parent
MATCH = '{job="node"}'
INTERVAL_S = 15.0
NAME_LABEL = "host"  # kept in the answers (the queries keep only the labels they read)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:  # loopback only
        return bytes(resp.read())


def main() -> None:
    lab = PromLab(Path(tempfile.mkdtemp(prefix="tomconsole-prom-record-")))
    try:
        lab.start()
        deadline = time.monotonic() + 120
        while True:  # a round in which the exporter's last scrape succeeded (1 s timeout, busy machine)
            bodies = {
                key: fetch(f"{lab.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
                for key, promql in queries(MATCH, INTERVAL_S, NAME_LABEL).items()
            }
            targets = fetch(f"{lab.url}/api/v1/targets?state=active")
            states = json.loads(targets)["data"]["activeTargets"]
            if all(json.loads(b)["data"]["result"] for b in bodies.values()) and sorted(
                t["health"] for t in states
            ) == ["down", "up"]:
                break
            if time.monotonic() > deadline:
                raise SystemExit("no round with the exporter up and the dead target down")
        for key, body in bodies.items():
            (HERE / f"{key}.json").write_bytes(body)
        (HERE / "targets.json").write_bytes(targets)
    finally:
        lab.stop()
        shutil.rmtree(lab.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
