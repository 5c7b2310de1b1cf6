"""The PromQL the Prometheus source sends: one round's instant queries, each covering every host.

Pure text. The `match` selector is PromQL's own, applied by Prometheus, so every matcher form
PromQL knows works with PromQL's exact semantics (RE2 regexes, anchoring); here we only check
its shape when the config is read (`match_problem`) and splice its matchers into ours. Each
query keeps only the labels the probe reads (`max by (...)`): a fleet's target labels (team,
zone, ...) would otherwise travel with every series of every host, and on a real fleet that
doubles the answer. The filesystem filter mirrors probes/linux.py's (pseudo and ephemeral
types; /proc, /sys, /dev, /run, /snap and docker's mounts). CPU utilisation is `irate` over
the idle and iowait counters (busy = everything else, as probes/linux.py counts it): the use
between the last two scrapes, within a window of 4 intervals (at least a minute) so that a
slow scrape interval still yields a value. Interface error and drop counters come only when
not zero (they almost always are): that halves the largest answer; a missing one reads as 0.
"""

from __future__ import annotations

import re

MEMORY = tuple(f"node_memory_{k}_bytes" for k in ("MemTotal", "MemAvailable", "SwapTotal", "SwapFree"))
INFO = ("node_uname_info", "node_os_info")
INFO_LABELS = ("release", "pretty_name", "name", "version")  # the labels of INFO we read
GAUGES = ("node_load1", "node_load5", "node_load15", "node_time_seconds", "node_boot_time_seconds", *MEMORY)
GAUGES += ("node_processes_pids", *INFO)
FS_METRICS = tuple(f"node_filesystem_{k}_bytes" for k in ("size", "free", "avail"))
# rx bytes, tx bytes, rx errors, tx errors, rx drops, tx drops
NET_METRICS = tuple(
    f"node_network_{d}_{k}_total" for k in ("bytes", "errs", "drop") for d in ("receive", "transmit")
)
CPU_METRIC = "node_cpu_seconds_total"
#: Every metric the source reads (a Prometheus job may keep only these).
METRICS = (*GAUGES, *FS_METRICS, *NET_METRICS, CPU_METRIC)

SKIP_FSTYPES = (
    "tmpfs|devtmpfs|ramfs|overlay|squashfs|aufs|nsfs|proc|sysfs|cgroup2?|devpts|mqueue|efivarfs|"
    "tracefs|debugfs|securityfs|pstore|bpf|autofs|binfmt_misc|configfs|fusectl|hugetlbfs|rpc_pipefs"
)
SKIP_MOUNTS = "/(proc|sys|dev|run|snap)(/.*)?|/var/lib/docker/.*"

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
    return f"max by ({','.join(labels)}) ({sel})"


def queries(match: str, interval_s: float, name_label: str | None = None) -> dict[str, str]:
    """The instant queries of one round, by key; each one covers every host."""
    names = ("up", *GAUGES)
    keep = ("__name__", "instance", "job", *((name_label,) if name_label else ()), *INFO_LABELS)
    window = f"{int(max(4 * interval_s, 60))}s"
    idle = selector(match, 'mode="idle"')
    busy = selector(match, 'mode=~"idle|iowait"')
    fs = selector(match, _names(FS_METRICS), f'fstype!~"{SKIP_FSTYPES}"', f'mountpoint!~"{SKIP_MOUNTS}"')
    nic = ("__name__", "instance", "device")

    def sel(names: tuple[str, ...]) -> str:
        return selector(match, _names(names), 'device!="lo"')

    return {
        "hosts": _by(keep, selector(match, _names(names))),
        "fs": _by(("__name__", "instance", "mountpoint", "device", "fstype"), fs),
        "net": f"{_by(nic, sel(NET_METRICS[:2]))} or ({_by(nic, sel(NET_METRICS[2:]))} > 0)",
        "ncpu": f"count by (instance) ({CPU_METRIC}{idle})",
        "cpu": (
            f"100 * (1 - sum by (instance) (irate({CPU_METRIC}{busy}[{window}]))"
            f" / count by (instance) ({CPU_METRIC}{idle}))"
        ),
    }


def _names(names: tuple[str, ...]) -> str:
    return f'__name__=~"{"|".join(names)}"'
