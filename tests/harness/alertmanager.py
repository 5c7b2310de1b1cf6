"""A real Alertmanager (Debian's prometheus-alertmanager) on loopback, for the integration tests.

Installs the package when it is missing and we are root with apt (`apt-get update` once,
then install; Debian's policy-rc.d on these machines keeps the packaged service from
starting). Each `AlertmanagerServer` is our own process: a temporary config with one
receiver that sends nowhere, its own storage directory, a free port on 127.0.0.1, and
clustering off (`--cluster.listen-address=` empty), so nothing binds or talks beyond
loopback. Readiness is waited for by polling `/-/ready`.

Alerts are driven the way Prometheus drives them, through Alertmanager's own API
(POST /api/v2/alerts); `wait_for` polls its GET API until what a test posted is (or is no
longer) there, so tests wait on state.

`Unavailable` says why a real Alertmanager cannot be had; callers fail in CI and skip elsewhere.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.apt import Unavailable, ensure_packages
from tests.harness.sshd import free_port

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = """\
route:
  receiver: nowhere
receivers:
  - name: nowhere
"""


def ensure_alertmanager() -> None:
    ensure_packages("prometheus-alertmanager", ["prometheus-alertmanager"], [BINARY])


@dataclass
class AlertmanagerServer:
    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "alertmanager.log"

    def start(self) -> AlertmanagerServer:
        """Start (or start again, on the same port and storage) and wait until ready."""
        ensure_alertmanager()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "alertmanager.yml").write_text(CONFIG)
        if not self.port:
            self.port = free_port("127.0.0.1")
        self.proc = subprocess.Popen(
            [
                BINARY,
                f"--config.file={self.workdir / 'alertmanager.yml'}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115
        )
        self._wait_ready()
        return self

    def _wait_ready(self, limit_s: float = 30.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise Unavailable(
                    f"alertmanager exited with {self.proc.returncode}: {self.log.read_text()[-800:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)  # between polls of the ready endpoint, not instead of one
        raise Unavailable(f"alertmanager not ready on {self.url} after {limit_s:g} s")

    def stop(self) -> None:
        """End our own process (by its handle) and wait for it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # -- its API, as Prometheus and an operator use it -------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        self._call("POST", "/api/v2/alerts", alerts)

    def alerts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/api/v2/alerts")
        return found

    def silences(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/api/v2/silences")
        return found

    def wait_for(self, what: str, ok: Callable[[list[dict[str, Any]]], bool], limit_s: float = 30.0) -> None:
        """Poll GET /api/v2/alerts until `ok(alerts)`."""
        deadline = time.monotonic() + limit_s
        while True:
            alerts = self.alerts()
            if ok(alerts):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"alertmanager never showed {what}: {alerts}")
            time.sleep(0.05)


def alert(
    labels: dict[str, str], annotations: dict[str, str] | None = None, ends_at: str | None = None
) -> dict[str, Any]:
    """One alert as Prometheus posts it."""
    out: dict[str, Any] = {"labels": labels, "annotations": annotations or {}}
    if ends_at is not None:
        out["endsAt"] = ends_at
    return out


def has(labels: dict[str, str], state: str | None = None) -> Callable[[list[dict[str, Any]]], bool]:
    """The alert with exactly these labels is listed (in `state`, when given)."""
    return lambda alerts: any(
        a.get("labels") == labels and (state is None or a.get("status", {}).get("state") == state)
        for a in alerts
    )


def lacks(labels: dict[str, str]) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda alerts: not any(a.get("labels") == labels for a in alerts)
