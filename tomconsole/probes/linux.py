"""What we ask a Linux host, and how we read its answer. Pure: text in, models out.

The remote side is ONE long-lived awk process per host, started once per connection.
Each request line the client writes makes it re-read a few /proc files and print only
the lines we parse, framed by a start and an end marker carrying the request number. The
reply, end marker included, is built in memory and printed as one `%s`, which is one
write(), so sshd forwards it as one packet: mawk's `-W interactive`, needed for line-wise
input, also unbuffers stdout, and mawk then writes each piece of a printf format apart
(`"%s$ %s\n"` was five writes, and at 500 hosts most replies reached the client as two
or more packets, each one more wake-up and decryption). No
process is forked per sample. When the request asks for disks, awk's pipe starts one
`sh`, which counts processes with a glob over /proc (a builtin: no `ls`) and execs
`timeout`, which forks `df`: two forks per disk sample, and no others. awk stops reading
df past 400,000 bytes (more than the client's default cap), so a flood cannot grow it.

"Processes" means what `ps -e` lists: the numbered directories of /proc (thread-group
leaders, kernel threads included), the count psutil.pids() gives for the local host. It
is not /proc/loadavg's 4th field, which counts every thread.

The remote `timeout --foreground -k 2 5` bounds a df stuck on a dead NFS mount even when
the client has gone (coreutils; TERM after 5 s, KILL 2 s later). `--foreground` keeps df
in the probe's process group: when the client gives up and signals the channel, sshd
signals the session's whole process group, and df ends with awk instead of surviving in
timeout's own group.

Host text is split on `\\n` only and carried exactly: str.splitlines() and str.split()
would also cut at U+001C..U+001F, U+0085, U+2028 and the like, which may be part of an
interface name, a mount point or an os-release string.

Wire format, one record per line, after `@ SEQ`:
  U <uptime> <idle>            L <loadavg line>            C cpu <counters...>
  N <number of cpus>           M <meminfo line>            I <iface>: <counters...>
  P <process count>            F <df -P line>, after P     O <os-release PRETTY_NAME line>
  K <kernel release>           H <hostname>                $ SEQ (end)
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime

from tomconsole.models import CpuTimes, Filesystem, HostSample, Interface, ProbeResult

# The awk program. It must not contain a single quote (it travels inside one).
AWK_PROGRAM = r"""
function slurp(f, tag, re,   l) {
  while ((getline l < f) > 0) if (l ~ re) out = out tag " " l "\n"
  close(f)
}
{
  seq = $2; flags = $3
  out = "@ " seq "\n"
  slurp("/proc/uptime", "U", ".")
  slurp("/proc/loadavg", "L", ".")
  n = 0
  while ((getline l < "/proc/stat") > 0) {
    if (l ~ /^cpu /) out = out "C " l "\n"
    else if (l ~ /^cpu[0-9]/) n++
  }
  close("/proc/stat")
  out = out "N " n "\n"
  slurp("/proc/meminfo", "M", "^(MemTotal|MemAvailable|MemFree|Buffers|Cached|SwapTotal|SwapFree):")
  slurp("/proc/net/dev", "I", ":")
  if (index(flags, "d")) {
    cmd = "set -- /proc/[0-9]*; echo $#; exec timeout --foreground -k 2 5 df -P 2>/dev/null"
    tag = "P"
    while ((cmd | getline l) > 0) {
      out = out tag " " l "\n"
      tag = "F"
      if (length(out) > 400000) break
    }
    close(cmd)
  }
  if (index(flags, "f")) {
    slurp("/etc/os-release", "O", "^PRETTY_NAME=")
    slurp("/proc/sys/kernel/osrelease", "K", ".")
    slurp("/proc/sys/kernel/hostname", "H", ".")
  }
  out = out "$ " seq "\n"
  printf "%s", out
  fflush()
}
"""

# Debian's mawk block-buffers stdin unless told `-W interactive`; other awks read lines.
_LAUNCHER = (
    "LC_ALL=C; export LC_ALL; "
    'case "$(awk -W version </dev/null 2>&1)" in '
    '*mawk*) exec awk -W interactive "$0" ;; '
    '*) exec awk "$0" ;; esac'
)

#: The exact remote command. A fixed string: nothing from config reaches it.
PROBE_COMMAND = f"sh -c {shlex.quote(_LAUNCHER)} {shlex.quote(AWK_PROGRAM)}"


def request_line(seq: int, *, disks: bool, facts: bool) -> str:
    """The request for round `seq`; disks and facts are the costlier, slower-changing parts."""
    flags = ("d" if disks else "") + ("f" if facts else "")
    return f"S {seq} {flags or '-'}\n"


# Pseudo and ephemeral filesystems that are noise on a fleet view.
_SKIP_DEVICES = frozenset(
    {
        "tmpfs",
        "devtmpfs",
        "overlay",
        "udev",
        "shm",
        "none",
        "proc",
        "sysfs",
        "cgroup",
        "cgroup2",
        "devpts",
        "mqueue",
        "efivarfs",
        "run",
        "squashfs",
        "nsfs",
        "tracefs",
    }
)
_SKIP_MOUNT_PREFIXES = ("/proc", "/sys", "/dev/", "/run/", "/snap/", "/var/lib/docker/")


@dataclass
class _Acc:
    """Mutable accumulator while reading one reply."""

    uptime: float | None = None
    load: tuple[float, float, float] | None = None
    cpu: CpuTimes | None = None
    ncpu: int | None = None
    mem: dict[str, int] | None = None
    ifaces: list[Interface] | None = None
    fs: list[Filesystem] | None = None
    procs: int | None = None
    os: str | None = None
    kernel: str | None = None


_BLANKS = re.compile(r"[ \t]+")
_COUNT = re.compile(r"[0-9]+")


def _fields(text: str, maxsplit: int = 0) -> list[str]:
    """Split on runs of ASCII spaces and tabs only (str.split() also cuts at U+001C, U+2028...)."""
    text = text.strip(" \t")
    return _BLANKS.split(text, maxsplit) if text else []


def _num(tok: str) -> float:
    return float(tok)


def _parse_cpu(rest: str) -> CpuTimes | None:
    parts = _fields(rest)
    if len(parts) < 5 or parts[0] != "cpu":
        return None
    vals = [int(p) for p in parts[1:9]]
    vals += [0] * (8 - len(vals))
    user, nice, system, idle, iowait, irq, softirq, steal = vals
    total = float(user + nice + system + idle + iowait + irq + softirq + steal)
    return CpuTimes(busy=total - idle - iowait, total=total)


def _parse_iface(rest: str) -> Interface | None:
    name, sep, counters = rest.partition(":")
    if not sep:
        return None
    nums = [int(x) for x in _fields(counters)]
    if len(nums) < 12:
        return None
    return Interface(
        name=name.strip(" "),  # the kernel right-aligns names with spaces
        rx_bytes=nums[0],
        rx_errors=nums[2],
        rx_drops=nums[3],
        tx_bytes=nums[8],
        tx_errors=nums[10],
        tx_drops=nums[11],
    )


def parse_df_line(line: str) -> Filesystem | None:
    """One `df -P` data line (1024-byte blocks); None for headers and noise."""
    parts = _fields(line, 5)
    if len(parts) < 6 or not all(_COUNT.fullmatch(x) for x in parts[1:4]):
        return None  # the header, or noise
    device = parts[0]
    mount = parts[5]  # the rest of the line, exactly (a mount point may hold spaces)
    size_kb, used_kb, avail_kb = int(parts[1]), int(parts[2]), int(parts[3])
    if device in _SKIP_DEVICES or size_kb == 0:
        return None
    if mount.startswith(_SKIP_MOUNT_PREFIXES) or mount == "/dev":
        return None
    return Filesystem(mount, device, size_kb * 1024, used_kb * 1024, avail_kb * 1024)


def _os_name(rest: str) -> str:
    _, _, value = rest.partition("=")
    value = value.strip(" \t")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


def _apply(acc: _Acc, tag: str, rest: str) -> None:
    if tag == "U":
        acc.uptime = _num(_fields(rest)[0])
    elif tag == "L":
        p = _fields(rest)
        acc.load = (_num(p[0]), _num(p[1]), _num(p[2]))
    elif tag == "C":
        acc.cpu = _parse_cpu(rest)
    elif tag == "N":
        acc.ncpu = int(rest) or None
    elif tag == "M":
        key, _, value = rest.partition(":")
        if acc.mem is None:
            acc.mem = {}
        acc.mem[key.strip(" ")] = int(_fields(value)[0]) * 1024
    elif tag == "I":
        iface = _parse_iface(rest)
        if iface is not None and iface.name != "lo":
            acc.ifaces = [*(acc.ifaces or []), iface]
    elif tag == "F":
        fs = parse_df_line(rest)
        acc.fs = acc.fs if acc.fs is not None else []
        if fs is not None:
            acc.fs.append(fs)
    elif tag == "P":
        acc.procs = int(rest)
        acc.fs = acc.fs if acc.fs is not None else []
    elif tag == "O":
        acc.os = _os_name(rest)
    elif tag == "K":
        acc.kernel = rest.strip(" \t")


def parse_reply(text: str, sampled_at: datetime) -> ProbeResult:
    """Read one framed reply. Never raises: bad lines become warnings, a useless reply an error."""
    acc = _Acc()
    warnings: list[str] = []
    for raw in text.split("\n"):
        tag, _, rest = raw.partition(" ")
        if tag in ("@", "$", "H") or not tag:
            continue
        try:
            _apply(acc, tag, rest)
        except (ValueError, IndexError, OverflowError):
            warnings.append(f"unreadable {tag} line")
    mem = acc.mem or {}
    if acc.uptime is None and acc.load is None and acc.cpu is None and not mem:
        return ProbeResult(None, error="no recognisable data in reply", warnings=tuple(warnings))
    available = mem.get("MemAvailable")
    if available is None and "MemFree" in mem:  # kernels before 3.14
        available = mem["MemFree"] + mem.get("Buffers", 0) + mem.get("Cached", 0)
    sample = HostSample(
        sampled_at=sampled_at,
        uptime_s=acc.uptime,
        load=acc.load,
        ncpu=acc.ncpu,
        cpu_times=acc.cpu,
        mem_total_bytes=mem.get("MemTotal"),
        mem_available_bytes=available,
        swap_total_bytes=mem.get("SwapTotal"),
        swap_free_bytes=mem.get("SwapFree"),
        filesystems=tuple(acc.fs) if acc.fs is not None else None,
        interfaces=tuple(acc.ifaces or ()),
        processes=acc.procs,
        os=acc.os,
        kernel=acc.kernel,
    )
    return ProbeResult(sample, warnings=tuple(warnings))


def cpu_percent(prev: CpuTimes | None, cur: CpuTimes | None) -> float | None:
    """Utilisation between two counter readings, 0..100 across all cores; None if unknowable."""
    if prev is None or cur is None:
        return None
    dt = cur.total - prev.total
    if dt <= 0:
        return None
    pct = 100.0 * (cur.busy - prev.busy) / dt
    return min(100.0, max(0.0, pct))
