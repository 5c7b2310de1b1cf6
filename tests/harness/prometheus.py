"""A real Prometheus and real node_exporters on loopback, for the Prometheus source's tests and bench.

Installs Debian's `prometheus` and `prometheus-node-exporter` when missing (root with apt; the
packages' own services are never used: we start our own processes with our own config and a
temporary storage directory) and runs, all on 127.x addresses:

- job `node`: one node_exporter on 127.0.0.1 (default collectors plus `processes`), and one
  target that is down (127.0.0.3 on a port nobody listens on), scraped every second; each
  target carries a `host` label, for the `name_label` option.
- job `fleet` (when `fleet` > 0): that many targets, each on its own loopback address
  (127.0.x.y), in groups of 1,000 (labelled `shard="0"`, `shard="1"`, ..., so one lab serves
  both 1,000 and 5,000 hosts), each group served by ONE more node_exporter listening on all
  of its addresses (`--web.listen-address` repeats). Linux routes all of 127.0.0.0/8 to `lo`
  in every network namespace, so this needs no namespace, no alias set-up and no any-address
  bind, and every target is a distinct address with its natural `instance` label, as on a
  real fleet. (One exporter per group: a listener and a scrape connection per target pass
  this machine's 20,000-descriptor hard limit at 5,000 targets in one process, and root in
  this container cannot raise it.) These exporters run only the collectors the source reads
  (no `processes`: walking /proc costs ~70 ms per scrape here), and the job keeps only the
  metrics the source asks for, so Prometheus holds ~50 series per target instead of ~400.
  Its scrape interval is longer than `node`'s (10 s by default): a scrape costs node_exporter
  3-6 ms of CPU and the machine has two cores.

Readiness is polled as state (the ready endpoint, then the `up` series), never slept for.
`Unavailable` says why the lab cannot be had; callers fail in CI and skip elsewhere.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.apt import Unavailable, ensure_packages
from tests.harness.sshd import aliases, free_port
from tomconsole.probes.promql import METRICS

PROMETHEUS = "/usr/bin/prometheus"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
DEAD_ADDRESS = "127.0.0.3"
SHARD = 1000
FLEET_COLLECTORS = ("cpu", "loadavg", "meminfo", "filesystem", "netdev", "uname", "os", "time", "stat")

__all__ = ["LockedPrometheus", "PromLab", "Unavailable", "ensure_prometheus"]


def ensure_prometheus() -> None:
    """Debian's packages, installed when missing; their own services are left alone."""
    ensure_packages("prometheus", ["prometheus", "prometheus-node-exporter"], [PROMETHEUS, NODE_EXPORTER])


def _closed_port(address: str) -> int:
    """A port on `address` that nothing listens on (bound once, then released)."""
    return free_port(address)


@dataclass
class PromLab:
    workdir: Path
    fleet: int = 0
    fleet_scrape_s: float = 10.0
    node_port: int = 0
    dead_port: int = 0
    fleet_ports: list[int] = field(default_factory=list)  # one exporter per shard
    port: int = 0
    fleet_addresses: list[str] = field(default_factory=list)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def node_instance(self) -> str:
        return f"127.0.0.1:{self.node_port}"

    @property
    def dead_instance(self) -> str:
        return f"{DEAD_ADDRESS}:{self.dead_port}"

    def start(self, timeout: float = 180.0) -> PromLab:
        ensure_prometheus()
        self.workdir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        self.node_port = self._exporter("node", ["127.0.0.1"], ["--collector.processes"], deadline)
        self.dead_port = _closed_port(DEAD_ADDRESS)
        if self.fleet:
            self.fleet_addresses = aliases(self.fleet, first=2000)
            # no cap on concurrent scrapes (the default, 40, answers 503 when 1,000 targets'
            # scrapes overlap on a busy machine)
            args = ["--web.max-requests=0", "--collector.disable-defaults"]
            args += [f"--collector.{c}" for c in FLEET_COLLECTORS]
            for i in range(0, self.fleet, SHARD):
                shard = self.fleet_addresses[i : i + SHARD]
                self.fleet_ports.append(self._exporter(f"fleet{i // SHARD}", shard, args, deadline))
        self.port = free_port()
        config = self.workdir / "prometheus.yml"
        config.write_text(json.dumps(self._config(), indent=1))  # YAML is a superset of JSON
        self._spawn(
            "prometheus",
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=2h",
                "--log.level=warn",
            ],
        )
        self._wait_ready(deadline)
        return self

    def _exporter(self, name: str, addresses: list[str], args: list[str], deadline: float) -> int:
        """A node_exporter listening on `addresses` at one port free on all of them; its port."""
        for _ in range(5):
            port = free_port(addresses[0])
            listen = [f"--web.listen-address={a}:{port}" for a in addresses]
            proc = self._spawn(f"exporter-{name}", [NODE_EXPORTER, *listen, *args, "--log.level=warn"])
            probe = (addresses[0], addresses[-1])
            while time.monotonic() < deadline and proc.poll() is None:
                if all(_listening(a, port) for a in probe):
                    return port
                time.sleep(0.05)
            if proc.poll() is None:
                raise Unavailable(f"node_exporter {name} not listening before the deadline")
            # the port was taken on some address after all: try another one
        raise Unavailable(f"node_exporter {name} would not start: {self._log(f'exporter-{name}')}")

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        old = self.procs.pop(name, None)
        if old is not None and old.poll() is None:
            old.kill()
            old.wait()
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (the child keeps it)
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, cwd=self.workdir)
        log.close()
        self.procs[name] = proc
        return proc

    def _log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-800:] if path.exists() else ""

    def _config(self) -> dict[str, Any]:
        jobs: list[dict[str, Any]] = [
            {
                "job_name": "node",
                "static_configs": [
                    {"targets": [self.node_instance], "labels": {"host": "lab-node"}},
                    {"targets": [self.dead_instance], "labels": {"host": "lab-dead"}},
                ],
            }
        ]
        if self.fleet:
            groups = [
                {
                    "targets": [
                        f"{a}:{self.fleet_ports[i // SHARD]}" for a in self.fleet_addresses[i : i + SHARD]
                    ],
                    "labels": {"shard": str(i // SHARD)},
                }
                for i in range(0, self.fleet, SHARD)
            ]
            jobs.append(
                {
                    "job_name": "fleet",
                    "scrape_interval": f"{self.fleet_scrape_s:g}s",
                    "scrape_timeout": f"{min(self.fleet_scrape_s, 10):g}s",
                    "static_configs": groups,
                    "metric_relabel_configs": [
                        {"source_labels": ["__name__"], "regex": "|".join(METRICS), "action": "keep"}
                    ],
                }
            )
        return {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1m"},
            "scrape_configs": jobs,
        }

    def _wait_ready(self, deadline: float) -> None:
        """Ready endpoint, then every target scraped: the node exporter successfully twice
        (rates need two samples), the dead target once, the fleet successfully once each."""
        checks = [
            ("count(count_over_time(node_cpu_seconds_total{job='node',cpu='0',mode='idle'}[1m]) >= 2)", 1),
            ("count(up{job='node'})", 2),
            ("count(up{job='fleet'} == 1)", self.fleet),
        ]
        pending = checks if self.fleet else checks[:2]
        ready = False
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise Unavailable(f"{name} exited with {proc.returncode}: {self._log(name)}")
            try:
                if not ready:
                    ready = _get(f"{self.url}/-/ready", 2.0).startswith("Prometheus")
                pending = [(q, n) for q, n in pending if self.scalar(q) != n]
                if ready and not pending:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise Unavailable(f"prometheus not ready in time (waiting for {pending}): {self._log('prometheus')}")

    def api(self, path: str, **params: str) -> Any:
        """One API answer, decoded (for the harness's waits and the tests' cross-checks)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return json.loads(_get(f"{self.url}{path}{query}", 30.0))

    def query(self, promql: str) -> list[dict[str, Any]]:
        answer = self.api("/api/v1/query", query=promql)
        return list(answer["data"]["result"])

    def scalar(self, promql: str) -> int | None:
        result = self.query(promql)
        return int(float(result[0]["value"][1])) if result else None

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


@dataclass
class LockedPrometheus:
    """A Prometheus that wants credentials we do not have (basic auth; Prometheus's web config
    knows no bearer tokens), so every request with a bearer token is refused with 401."""

    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LockedPrometheus:
        ensure_prometheus()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "prometheus.yml").write_text(json.dumps({"scrape_configs": []}))
        # bcrypt of a password nobody here sends (Prometheus's documentation example)
        users = {"ops": "$2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay"}
        (self.workdir / "web.yml").write_text(json.dumps({"basic_auth_users": users}))
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={self.workdir / 'prometheus.yml'}",
                f"--web.config.file={self.workdir / 'web.yml'}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                _get(f"{self.url}/-/ready", 2.0)
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise Unavailable("the locked prometheus did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _listening(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((address, port)) == 0


def _get(url: str, timeout: float) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # loopback only
        return str(resp.read().decode())
