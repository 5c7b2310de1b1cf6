"""How we read a Prometheus's answers about the node_exporter hosts it scrapes (what we ask is
in probes/promql.py).

Pure: decoded JSON in, models out; nothing here raises on garbage. This is the scale-out path:
one round is a FIXED handful of instant queries (all hosts at once, whatever their number)
plus the targets list, never a request per host, and reading it stays cheap at 5,000 hosts.

Which hosts: every series of `up{match}`; one host per `instance` label, named after that
label without its port (or after the `name_label` target label); when two instances share a
host part (two ports on one machine) both keep their full instance. `up == 0` makes a host
unreachable, with the `lastError` the targets list gives for it.

The samples carry what SSH hosts carry. Filesystems are those `df` would show on a fleet view
(filtered in the query, and again here); used = size - free, avail = the bytes available to
users, as df counts them. node_exporter's own defaults already leave out /mnt and /media.
Kernels without MemAvailable (before 3.14) show no available memory. `lo` is not an interface.
NaN and infinite values leave their field unknown.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tomconsole.models import Filesystem, HostInfo, HostSample, HostState, Interface, Observation
from tomconsole.probes.promql import FS_METRICS, MEMORY, NET_METRICS, SKIP_FSTYPES, SKIP_MOUNTS

_SKIP_FSTYPES = re.compile(SKIP_FSTYPES)
_SKIP_MOUNTS = re.compile(SKIP_MOUNTS)


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
    total, avail, swap, swap_free = (int(x) if x is not None else None for x in map(g, MEMORY))
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
    """instance -> host name: the name label, else the instance's host part; the full instance
    where two would share a name (two ports on one host)."""
    base = {}
    for inst, h in hosts.items():
        label = h.labels.get(name_label) if name_label else None
        base[inst] = label if isinstance(label, str) and label else host_part(inst)
    counts = Counter(base.values())
    names = {inst: inst if counts[name] > 1 else name for inst, name in base.items()}
    if len(set(names.values())) < len(names):  # a name equal to another host's instance
        names = {
            inst: f"{name} ({inst})" if counts[name] > 1 or name in hosts else name
            for inst, name in base.items()
        }
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
