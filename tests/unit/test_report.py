"""The JSON document scripts rely on: every documented key, with the documented types."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tomconsole.models import Filesystem, HostInfo, HostSample, HostState, Interface
from tomconsole.monitor.report import fleet_json, fleet_table
from tomconsole.monitor.state import HostRow

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOST_KEYS = {
    "name",
    "address",
    "state",
    "reason",
    "sampled_at",
    "load",
    "cpu_pct",
    "mem",
    "swap_used_pct",
    "filesystems",
    "interfaces",
    "uptime_s",
    "os",
    "kernel",
}


def _rows() -> list[HostRow]:
    s = HostSample(
        sampled_at=NOW,
        uptime_s=100,
        load=(1.0, 0.5, 0.25),
        ncpu=2,
        cpu_pct=12.345,
        mem_total_bytes=1000,
        mem_available_bytes=250,
        swap_total_bytes=0,
        swap_free_bytes=0,
        filesystems=(Filesystem("/", "/dev/sda1", 4096, 1024, 3072),),
        interfaces=(Interface("eth0", 1, 2, 3, 4),),
        processes=5,
        os="Debian",
        kernel="6.1",
    )
    up = HostRow(HostInfo("a", "10.0.0.1"), HostState.UP, None, s, 0.5, 10.0, 20.0)
    down = HostRow(
        HostInfo("b\x1b[31m", "10.0.0.2"), HostState.UNREACHABLE, "refused", None, None, None, None
    )
    return [up, down]


def test_documented_shape() -> None:
    doc = json.loads(json.dumps(fleet_json(_rows(), NOW)))
    assert set(doc) >= {"generated_at", "hosts"}
    a, b = doc["hosts"]
    assert set(a) >= HOST_KEYS and set(b) >= HOST_KEYS
    assert a["state"] == "up" and a["reason"] is None
    assert a["load"] == [1.0, 0.5, 0.25] and a["cpu_pct"] == 12.3
    assert a["mem"]["total_bytes"] == 1000 and a["mem"]["used_pct"] == 75.0
    assert a["filesystems"] == [
        {"mount": "/", "device": "/dev/sda1", "size_bytes": 4096, "used_bytes": 1024, "used_pct": 25.0}
    ]
    assert a["interfaces"][0]["rx_errors"] == 3
    assert b["state"] == "unreachable" and b["reason"] == "refused" and b["mem"] is None


def test_table_escapes_control_characters() -> None:
    out = fleet_table(_rows())
    assert "\x1b" not in out and "b\\x1b[31m" in out
