"""The `host` kind: what a server (over SSH, the console's own machine, or a Prometheus
node_exporter target) provides as metric points. Every host metric name is defined here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

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
    MetricDef(
        "errors_ps", "/s", "interface receive + transmit errors per second", per_object=True, counter=True
    ),
    MetricDef(
        "drops_ps", "/s", "interface receive + transmit drops per second", per_object=True, counter=True
    ),
    MetricDef("util_pct", "%", "interface use of its link speed, the busier direction", per_object=True),
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
        yield i.name, "errors_ps", float(i.rx_errors + i.tx_errors)
        yield i.name, "drops_ps", float(i.rx_drops + i.tx_drops)
    yield "", "processes", None if s.processes is None else float(s.processes)
    yield "", "uptime_s", s.uptime_s


def host_derived(sample: HostSample, per_object: Mapping[tuple[str, str], float]) -> Iterator[Value]:
    """Each interface's utilisation of its link speed (where the kernel knows the speed): the
    busier direction's bits per second over the link's."""
    for i in sample.interfaces:
        rx, tx = per_object.get((i.name, "rx_bps")), per_object.get((i.name, "tx_bps"))
        if i.speed_mbps and rx is not None and tx is not None:
            yield i.name, "util_pct", min(100.0, 100.0 * 8 * max(rx, tx) / (i.speed_mbps * 1e6))


HOST = Kind(
    name="host",
    metrics=METRICS,
    states=tuple(s for s in HostState if s is not HostState.FAILED),
    values=host_values,
    charted=("cpu_pct", "mem_pct", "load1", "rx_bps", "tx_bps"),
    derived=host_derived,
)
