"""The `host` kind: what a server (over SSH, the console's own machine, or a Prometheus
node_exporter target) provides as metric points. Every host metric name is defined here."""

from __future__ import annotations

from collections.abc import Iterator

from tomconsole.models import HostSample, HostState, MetricDef
from tomconsole.probes.kinds import Kind, Value

METRICS = (
    MetricDef("cpu_pct", "%", "CPU busy, all cores", label="CPU %"),
    MetricDef("mem_pct", "%", "memory in use (total - available)", label="Mem %"),
    MetricDef("swap_pct", "%", "swap in use"),
    MetricDef("load1", "", "1-minute load average", label="Load 1m"),
    MetricDef("load_per_core", "", "1-minute load average per CPU"),
    MetricDef("fs_pct", "%", "filesystem use, as df reports it", per_object=True),
    MetricDef("rx_bps", "B/s", "bytes received per second, all interfaces", counter=True, label="Rx B/s"),
    MetricDef("tx_bps", "B/s", "bytes sent per second, all interfaces", counter=True, label="Tx B/s"),
    MetricDef("if_errors", "", "interface receive + transmit errors", per_object=True),
    MetricDef("processes", "", "processes running"),
    MetricDef("uptime_s", "s", "seconds since boot"),
)


def host_values(sample: HostSample) -> Iterator[Value]:
    s = sample
    yield "", "cpu_pct", s.cpu_pct
    yield "", "mem_pct", s.mem_used_pct
    yield "", "swap_pct", s.swap_used_pct
    yield "", "load1", s.load[0] if s.load else None
    yield "", "load_per_core", s.load[0] / s.ncpu if s.load and s.ncpu else None
    for fs in s.filesystems or ():
        yield fs.mount, "fs_pct", fs.used_pct
    for i in s.interfaces:
        # Counters per interface: the monitor turns them into rates and sums the target's.
        yield i.name, "rx_bps", float(i.rx_bytes)
        yield i.name, "tx_bps", float(i.tx_bytes)
        yield i.name, "if_errors", float(i.rx_errors + i.tx_errors)
    yield "", "processes", None if s.processes is None else float(s.processes)
    yield "", "uptime_s", s.uptime_s


HOST = Kind(
    name="host",
    metrics=METRICS,
    states=tuple(HostState),
    values=host_values,
    charted=("cpu_pct", "mem_pct", "load1", "rx_bps", "tx_bps"),
)
