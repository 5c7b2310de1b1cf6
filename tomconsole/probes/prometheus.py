"""What we ask a Prometheus about the node_exporter hosts it scrapes, and how we read the answers.

Pure: PromQL text out, decoded JSON in, models out; nothing here raises on garbage. This is the
scale-out path: one round is a FIXED handful of instant queries (all hosts at once, whatever
their number) plus the targets list, never a request per host.

Which hosts: every series of `up{match}`. Prometheus applies the `match` selector itself, so
every matcher form PromQL knows works with PromQL's exact semantics (RE2 regexes, anchoring);
we only check its shape when the config is read (`match_problem`). One host per `instance`
label, named after that label without its port (or after the `name_label` label); when two
instances share a host part (two ports on one machine) both keep their full instance.
`up == 0` makes a host unreachable, with the `lastError` the targets list gives for it.

The samples carry what SSH hosts carry. CPU utilisation is `irate` over the idle and iowait
counters (busy = everything else, as probes/linux.py counts it): the use between the last two
scrapes, so it is as fresh as the data Prometheus has, within a window of 4 intervals (at
least a minute) so a slow scrape interval still yields a value. Filesystems are those `df`
would show on a fleet view, filtered as probes/linux.py filters them (pseudo and ephemeral
types such as tmpfs, overlay and squashfs; /proc, /sys, /dev, /run, /snap and docker's mounts);
used = size - free, avail = the bytes available to users, as df counts them. node_exporter's
own defaults already leave out /mnt and /media. Kernels without MemAvailable (before 3.14)
show no available memory. `lo` is not an interface.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tomconsole.models import Filesystem, HostInfo, HostSample, HostState, Interface, Observation

GAUGES = (
    "node_load1",
    "node_load5",
    "node_load15",
    "node_time_seconds",
    "node_boot_time_seconds",
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_memory_SwapTotal_bytes",
    "node_memory_SwapFree_bytes",
    "node_processes_pids",
    "node_uname_info",
    "node_os_info",
)
INFO_LABELS = ("release", "pretty_name", "name", "version")  # of node_uname_info, node_os_info
FS_METRICS = ("node_filesystem_size_bytes", "node_filesystem_free_bytes", "node_filesystem_avail_bytes")
NET_METRICS = (
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_network_receive_errs_total",
    "node_network_transmit_errs_total",
    "node_network_receive_drop_total",
    "node_network_transmit_drop_total",
)
CPU_METRIC = "node_cpu_seconds_total"
#: Every metric the source reads (a Prometheus job may keep only these).
METRICS = (*GAUGES, *FS_METRICS, *NET_METRICS, CPU_METRIC)

SKIP_FSTYPES = (
    "tmpfs|devtmpfs|ramfs|overlay|squashfs|aufs|nsfs|proc|sysfs|cgroup2?|devpts|mqueue|efivarfs|"
    "tracefs|debugfs|securityfs|pstore|bpf|autofs|binfmt_misc|configfs|fusectl|hugetlbfs|rpc_pipefs"
)
SKIP_MOUNTS = "/(proc|sys|dev|run|snap)(/.*)?|/var/lib/docker/.*"
_SKIP_FSTYPES = re.compile(SKIP_FSTYPES)
_SKIP_MOUNTS = re.compile(SKIP_MOUNTS)

_VALUE = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'
_MATCHER = rf"\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*(?:{_VALUE})\s*"
_SELECTOR = re.compile(rf"\{{(?:{_MATCHER}(?:,{_MATCHER})*,?)?\s*\}}", re.DOTALL)
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def match_problem(match: str) -> str | None:
    """Why `match` is not a label selector we can combine with a metric name, or None."""
    if _SELECTOR.fullmatch(match.strip()):
        return None
    return 'not a label selector like {job="node"}, {job=~"node|edge"} or {job="node",env!="dev"}'


def selector(match: str, *extra: str) -> str:
    """`match`'s matchers and `extra` ones in one selector: ('{job="node"}', 'mode="idle"')
    -> '{mode="idle",job="node"}'."""
    inner = match.strip()[1:-1].strip().rstrip(",")
    return "{" + ",".join(p for p in (*extra, inner) if p) + "}"


def _by(labels: tuple[str, ...], sel: str) -> str:
    """Only the labels we read: a fleet's target labels (team, zone, ...) would travel with
    every series of every host otherwise."""
    return f"max by ({','.join(labels)}) ({sel})"


def queries(match: str, interval_s: float, name_label: str | None = None) -> dict[str, str]:
    """The instant queries of one round, by key; each one covers every host."""
    names = ("up", *GAUGES)
    keep = ("__name__", "instance", "job", *((name_label,) if name_label else ()), *INFO_LABELS)
    window = f"{int(max(4 * interval_s, 60))}s"
    idle = selector(match, 'mode="idle"')
    busy = selector(match, 'mode=~"idle|iowait"')
    fs = selector(match, _names(FS_METRICS), f'fstype!~"{SKIP_FSTYPES}"', f'mountpoint!~"{SKIP_MOUNTS}"')
    return {
        "hosts": _by(keep, selector(match, _names(names))),
        "fs": _by(("__name__", "instance", "mountpoint", "device", "fstype"), fs),
        "net": _by(("__name__", "instance", "device"), selector(match, _names(NET_METRICS), 'device!="lo"')),
        "ncpu": f"count by (instance) ({CPU_METRIC}{idle})",
        "cpu": (
            f"100 * (1 - sum by (instance) (irate({CPU_METRIC}{busy}[{window}]))"
            f" / count by (instance) ({CPU_METRIC}{idle}))"
        ),
    }


def _names(names: tuple[str, ...]) -> str:
    return f'__name__=~"{"|".join(names)}"'


def host_part(instance: str) -> str:
    """`host:9100` -> host, `[::1]:9100` -> ::1, a bare host or IPv6 address as it is."""
    if instance.startswith("["):
        end = instance.find("]")
        return instance[1:end] if end > 1 else instance
    host, sep, port = instance.rpartition(":")
    if sep and host and port.isdigit() and ":" not in host:
        return host
    return instance


def _vector(answer: object) -> list[Any] | None:
    """The result list of a successful instant-vector answer, or None."""
    if not isinstance(answer, dict) or answer.get("status") != "success":
        return None
    data = answer.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        return None
    result = data.get("result")
    return result if isinstance(result, list) else None


class _Host:
    __slots__ = ("cpu", "fs", "g", "kernel", "labels", "ncpu", "net", "os", "up")

    def __init__(self) -> None:
        self.up: float | None = None
        self.labels: dict[str, Any] = {}
        self.g: dict[str, float] = {}  # gauges, finite values only (as everywhere below)
        self.fs: dict[tuple[str, str], dict[str, float]] = {}
        self.net: dict[str, dict[str, float]] = {}
        self.ncpu: float | None = None
        self.cpu: float | None = None
        self.kernel: str | None = None
        self.os: str | None = None


_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)
_finite = math.isfinite


def _read_hosts(result: list[Any], hosts: dict[str, _Host]) -> float | None:
    """The `hosts` answer into `hosts`; returns the evaluation time."""
    at = None
    for e in result:
        try:
            m = e["metric"]
            name, inst, value = m["__name__"], m["instance"], e["value"]
            v = float(value[1])
            h = hosts.get(inst)
            if h is None:
                h = hosts[inst] = _Host()
            if name == "up":
                h.up, h.labels, at = v, m, float(value[0])
            elif name == "node_uname_info":
                h.kernel = str(m.get("release") or "") or None
            elif name == "node_os_info":
                pretty = m.get("pretty_name") or f"{m.get('name', '')} {m.get('version', '')}".strip()
                h.os = str(pretty) or None
            elif _finite(v):
                h.g[name] = v
        except _ERRORS:
            continue
    return at


def _read_series(result: list[Any], hosts: dict[str, _Host], key: str) -> None:
    """A filesystem, interface or per-instance CPU answer into the hosts already known."""
    for e in result:
        try:
            m = e["metric"]
            h = hosts.get(m["instance"])
            v = float(e["value"][1])
            if h is None or not _finite(v):
                continue
            if key == "net":
                if m["device"] != "lo":
                    h.net.setdefault(str(m["device"]), {})[m["__name__"]] = v
            elif key == "fs":
                mount = m["mountpoint"]
                if not (_SKIP_FSTYPES.fullmatch(m.get("fstype", "")) or _SKIP_MOUNTS.fullmatch(mount)):
                    h.fs.setdefault((str(mount), str(m["device"])), {})[m["__name__"]] = v
            elif key == "ncpu":
                h.ncpu = v
            else:
                h.cpu = v
        except _ERRORS:
            continue


def _filesystems(h: _Host) -> tuple[Filesystem, ...] | None:
    if not h.fs:
        return None
    out = []
    size_m, free_m, avail_m = FS_METRICS
    for (mount, device), vals in sorted(h.fs.items()):
        size, free, avail = vals.get(size_m), vals.get(free_m), vals.get(avail_m)
        if size and free is not None and avail is not None:
            out.append(Filesystem(mount, device, int(size), int(size - free), int(avail)))
    return tuple(out)


def _interfaces(h: _Host) -> tuple[Interface, ...]:
    rx, tx, rxe, txe, rxd, txd = NET_METRICS
    return tuple(
        Interface(
            name, int(g(rx, 0)), int(g(tx, 0)), int(g(rxe, 0)), int(g(txe, 0)), int(g(rxd, 0)), int(g(txd, 0))
        )
        for name, g in ((name, vals.get) for name, vals in sorted(h.net.items()))
    )


def _sample(h: _Host, at: datetime) -> HostSample:
    g = h.g.get
    now, boot = g("node_time_seconds"), g("node_boot_time_seconds")
    l1, l5, l15 = g("node_load1"), g("node_load5"), g("node_load15")
    mem = [g(f"node_memory_{k}_bytes") for k in ("MemTotal", "MemAvailable", "SwapTotal", "SwapFree")]
    total, avail, swap, swap_free = (int(x) if x is not None else None for x in mem)
    procs = g("node_processes_pids")
    return HostSample(
        sampled_at=at,
        uptime_s=now - boot if now is not None and boot is not None and now >= boot else None,
        load=(l1, l5, l15) if l1 is not None and l5 is not None and l15 is not None else None,
        ncpu=int(h.ncpu) if h.ncpu else None,
        cpu_pct=min(100.0, max(0.0, h.cpu)) if h.cpu is not None else None,
        mem_total_bytes=total,
        mem_available_bytes=avail,
        swap_total_bytes=swap,
        swap_free_bytes=swap_free,
        filesystems=_filesystems(h),
        interfaces=_interfaces(h),
        processes=int(procs) if procs is not None else None,
        os=h.os,
        kernel=h.kernel,
    )


def target_errors(answer: object) -> dict[str, tuple[str, str]] | None:
    """From the targets list: instance -> (lastError, lastScrape) for each target not up;
    None when the answer is not a targets list."""
    if not isinstance(answer, dict) or answer.get("status") != "success":
        return None
    data = answer.get("data")
    active = data.get("activeTargets") if isinstance(data, dict) else None
    if not isinstance(active, list):
        return None
    out: dict[str, tuple[str, str]] = {}
    for t in active:
        try:
            if t["health"] != "up":
                out[t["labels"]["instance"]] = (str(t.get("lastError") or ""), str(t.get("lastScrape") or ""))
        except _ERRORS:
            continue
    return out


def one_line(text: str, cap: int = 300) -> str:
    """Prometheus's text as one line of at most `cap` characters."""
    text = text.replace("\r", " ").replace("\n", " ").strip()
    return text if len(text) <= cap else text[: cap - 1] + "…"


@dataclass(frozen=True, slots=True)
class Reading:
    """One round read: every host Prometheus has for `match`, or why the answers are unreadable."""

    targets: tuple[HostInfo, ...] = ()
    observations: tuple[Observation, ...] = ()
    error: str | None = None


def _names_for(hosts: dict[str, _Host], name_label: str | None) -> dict[str, str]:
    """instance -> host name, unique."""
    base = {}
    for inst, h in hosts.items():
        label = h.labels.get(name_label) if name_label else None
        base[inst] = label if isinstance(label, str) and label else host_part(inst)
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    names, used = {}, set()
    for inst, name in sorted(base.items()):
        name = inst if counts[name] > 1 else name
        unique, k = name, 1
        while unique in used:  # only when a name equals another host's instance
            k += 1
            unique = f"{name}~{k}"
        used.add(unique)
        names[inst] = unique
    return names


def read_round(
    answers: Mapping[str, object],
    targets: object,
    *,
    source: str,
    interval_s: float,
    name_label: str | None = None,
    now: datetime | None = None,
) -> Reading:
    """Decoded answers to `queries()` (by key) and to the targets list -> hosts and observations."""
    results = {}
    for key in ("hosts", "fs", "net", "ncpu", "cpu"):
        result = _vector(answers.get(key))
        if result is None:
            return Reading(error=f"unreadable answer to the {key} query")
        results[key] = result
    errors = target_errors(targets)
    if errors is None:
        return Reading(error="unreadable answer to the targets list")
    hosts: dict[str, _Host] = {}
    ts = _read_hosts(results["hosts"], hosts)
    hosts = {inst: h for inst, h in hosts.items() if h.up is not None and isinstance(inst, str)}
    for key in ("fs", "net", "ncpu", "cpu"):
        _read_series(results[key], hosts, key)
    at = datetime.fromtimestamp(ts, UTC) if ts is not None else (now or datetime.now(UTC))
    names = _names_for(hosts, name_label)
    infos, observations = [], []
    for inst, name in sorted(names.items(), key=lambda kv: kv[1]):
        h = hosts[inst]
        job = h.labels.get("job")
        tags = (job,) if isinstance(job, str) and job else ()
        infos.append(HostInfo(name, host_part(inst), tags, None, interval_s, "host", source))
        if h.up == 1:
            observations.append(
                Observation(name, HostState.UP, sample=_sample(h, at), extra={"instance": inst})
            )
            continue
        error, last = errors.get(inst, ("", ""))
        reason = one_line(error) if error else "scrape failed (Prometheus gives no reason)"
        extra = {"instance": inst, "last_scrape": last} if last else {"instance": inst}
        observations.append(Observation(name, HostState.UNREACHABLE, reason, extra=extra))
    return Reading(tuple(infos), tuple(observations))
