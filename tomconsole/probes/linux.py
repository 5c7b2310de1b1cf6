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

The reply carries only the fields we read, as single-space-separated tokens (awk splits
the /proc lines on its default blanks and joins what we keep with one space), so the
client splits each line once with str.split(" ") and converts, with no regex and no
field it throws away: a light reply from a host with three interfaces is 204 bytes and
10 lines, where whole /proc lines made 832 bytes and 20 lines. awk never does arithmetic on a
counter (mawk prints integers past 2^31 in %g notation): values travel as the kernel
wrote them. An interface name comes last on its line, so it is carried exactly whatever
it holds; a df line travels whole (a mount point may hold spaces). The first wire format,
whole /proc lines (`C cpu ...`, `M MemTotal: ... kB`, `I eth0: ...`), is still read, as
the demo fleet's simulator speaks it; a line says which it is by its first character.

Wire format, one record per line, after `@ SEQ`:
  U <uptime s>                 L <load1> <load5> <load15>
  C <user> <nice> <system> <idle> [<iowait> <irq> <softirq> <steal>]   (/proc/stat jiffies)
  N <number of cpus>
  M <MemTotal> <MemAvailable> <MemFree> <Buffers> <Cached> <SwapTotal> <SwapFree>  (kB, - if absent)
  I <rx bytes> <rx errs> <rx drop> <tx bytes> <tx errs> <tx drop> <name>   (not lo)
  W <speed Mb/s or -> <operstate or -> <1 if a device backs it, else 0> <name>   (after its I;
    from /sys/class/net, read by awk's getline: no fork)
  P <process count>            F <df -P line>, after P     O <os-release PRETTY_NAME line>
  K <kernel release>           H <hostname>                $ SEQ (end)
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from datetime import datetime

from tomconsole.models import CpuTimes, Filesystem, HostSample, Interface, ProbeResult
from tomconsole.probes.processes import AWK_TOP

# The awk program. It must not contain a single quote (it travels inside one).
AWK_PROGRAM = (
    AWK_TOP
    + r"""
function slurp(f, tag, re,   l) {
  while ((getline l < f) > 0) if (l ~ re) out = out tag " " l "\n"
  close(f)
}
function kb(k) {
  return (k in m) ? m[k] : "-"
}
{
  seq = $2; flags = $3
  out = "@ " seq "\n"
  if (flags == "c" || flags == "r") { printf "%s", out top(flags) "$ " seq "\n"; fflush(); next }
  if ((getline l < "/proc/uptime") > 0) { split(l, a, " "); out = out "U " a[1] "\n" }
  close("/proc/uptime")
  if ((getline l < "/proc/loadavg") > 0) { split(l, a, " "); out = out "L " a[1] " " a[2] " " a[3] "\n" }
  close("/proc/loadavg")
  n = 0; c = ""
  while ((getline l < "/proc/stat") > 0) {
    if (l ~ /^cpu /) {
      k = split(l, a, " "); c = "C"
      for (i = 2; i <= k && i <= 9; i++) c = c " " a[i]
    } else if (l ~ /^cpu[0-9]/) n++
    else break
  }
  close("/proc/stat")
  if (c != "") out = out c "\n"
  out = out "N " n "\n"
  split("", m)
  while ((getline l < "/proc/meminfo") > 0)
    if (l ~ /^(MemTotal|MemAvailable|MemFree|Buffers|Cached|SwapTotal|SwapFree):/) {
      split(l, a, " ")
      m[a[1]] = a[2]
    }
  close("/proc/meminfo")
  out = out "M " kb("MemTotal:") " " kb("MemAvailable:") " " kb("MemFree:") " " kb("Buffers:")
  out = out " " kb("Cached:") " " kb("SwapTotal:") " " kb("SwapFree:") "\n"
  while ((getline l < "/proc/net/dev") > 0) {
    i = index(l, ":")
    if (!i) continue
    name = substr(l, 1, i - 1)
    sub(/^ +/, "", name)
    if (name == "lo") continue
    split(substr(l, i + 1), a, " ")
    out = out "I " a[1] " " a[3] " " a[4] " " a[9] " " a[11] " " a[12] " " name "\n"
    f = "/sys/class/net/" name
    sp = "-"; if ((getline sp < (f "/speed")) <= 0) sp = "-"
    close(f "/speed")
    op = "-"; if ((getline op < (f "/operstate")) <= 0) op = "-"
    close(f "/operstate")
    ph = ((getline l < (f "/device/uevent")) > 0) ? 1 : 0
    close(f "/device/uevent")
    out = out "W " sp " " op " " ph " " name "\n"
  }
  close("/proc/net/dev")
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
)

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


_BLANKS = re.compile(r"[ \t]+")
_COUNT = re.compile(r"[0-9]+")


def _fields(text: str, maxsplit: int = 0) -> list[str]:
    """Split on runs of ASCII spaces and tabs only (str.split() also cuts at U+001C, U+2028...)."""
    text = text.strip(" \t")
    return _BLANKS.split(text, maxsplit) if text else []


def _cpu(rest: str) -> CpuTimes | None:
    if rest.startswith("cpu"):  # first wire format: the whole /proc/stat line
        vals = [int(x) for x in _fields(rest)[1:9]]
    else:
        vals = [int(x) for x in rest.split(" ")[:8]]
    if len(vals) < 4:
        return None
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    total = float(sum(vals))
    return CpuTimes(busy=total - idle, total=total)


def _load(rest: str) -> tuple[float, float, float]:
    p = rest.split(" ", 3)
    return float(p[0]), float(p[1]), float(p[2])


_MEM_KEYS = {
    k: i
    for i, k in enumerate(
        ("MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SwapTotal", "SwapFree")
    )
}


def _mem(rest: str, mem: list[int | None] | None) -> list[int | None]:
    """The seven meminfo values in bytes, in wire order; None where the kernel has no such line."""
    if rest[:1].isalpha():  # first wire format: one whole meminfo line, "Key:   123 kB"
        key, _, value = rest.partition(":")
        mem = mem if mem is not None else [None] * 7
        i = _MEM_KEYS.get(key.strip(" "))
        if i is not None:
            mem[i] = int(_fields(value)[0]) * 1024
        return mem
    values = rest.split(" ")
    if len(values) != 7:
        raise ValueError("meminfo fields")
    return [None if v == "-" else int(v) * 1024 for v in values]


def _iface(rest: str) -> Interface | None:
    if not rest.partition(" ")[0].isdigit():  # first wire format: "  eth0: <16 counters>"
        name, sep, counters = rest.partition(":")
        nums = _fields(counters)
        if not sep or len(nums) < 12:
            return None
        parts = [nums[0], nums[2], nums[3], nums[8], nums[10], nums[11], name.strip(" ")]
    else:
        parts = rest.split(" ", 6)
        if len(parts) < 7:
            raise ValueError("interface fields")
    name = parts[6]
    if name == "lo":
        return None
    return Interface(
        name=name,
        rx_bytes=int(parts[0]),
        rx_errors=int(parts[1]),
        rx_drops=int(parts[2]),
        tx_bytes=int(parts[3]),
        tx_errors=int(parts[4]),
        tx_drops=int(parts[5]),
    )


def _link(rest: str, ifaces: list[Interface]) -> None:
    """A W line: the link facts of the interface its I line just gave."""
    speed, oper, phys, name = rest.split(" ", 3)
    if not ifaces or ifaces[-1].name != name:
        return
    mbps = int(speed) if speed.lstrip("-").isdigit() else None
    ifaces[-1] = dataclasses.replace(
        ifaces[-1],
        speed_mbps=mbps if mbps is not None and mbps > 0 else None,  # -1: no link, or not known
        operstate=None if oper == "-" else oper,
        physical=phys == "1",
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


def parse_reply(text: str, sampled_at: datetime) -> ProbeResult:
    """Read one framed reply. Never raises: bad lines become warnings, a useless reply an error."""
    uptime: float | None = None
    load: tuple[float, float, float] | None = None
    cpu: CpuTimes | None = None
    ncpu: int | None = None
    mem: list[int | None] | None = None
    ifaces: list[Interface] = []
    fs: list[Filesystem] | None = None
    procs: int | None = None
    os_name: str | None = None
    kernel: str | None = None
    warnings: list[str] = []
    for line in text.split("\n"):
        tag, _, rest = line.partition(" ")
        try:
            if tag == "I":
                iface = _iface(rest)
                if iface is not None:
                    ifaces.append(iface)
            elif tag == "W":
                _link(rest, ifaces)
            elif tag == "M":
                mem = _mem(rest, mem)
            elif tag == "C":
                cpu = _cpu(rest)
            elif tag == "U":
                uptime = float(rest.partition(" ")[0])
            elif tag == "L":
                load = _load(rest)
            elif tag == "N":
                ncpu = int(rest) or None
            elif tag == "F":
                fs = fs if fs is not None else []
                row = parse_df_line(rest)
                if row is not None:
                    fs.append(row)
            elif tag == "P":
                procs = int(rest)
                fs = fs if fs is not None else []
            elif tag == "O":
                os_name = _os_name(rest)
            elif tag == "K":
                kernel = rest.strip(" \t")
            # "@", "$", "H" and anything else: nothing to read
        except (ValueError, IndexError, OverflowError):
            warnings.append(f"unreadable {tag} line")
    total = available = free = buffers = cached = swap_total = swap_free = None
    if mem is not None:
        total, available, free, buffers, cached, swap_total, swap_free = mem
    if available is None and free is not None:  # kernels before 3.14
        available = free + (buffers or 0) + (cached or 0)
    if uptime is None and load is None and cpu is None and total is None and available is None:
        return ProbeResult(None, error="no recognisable data in reply", warnings=tuple(warnings))
    sample = HostSample(
        sampled_at=sampled_at,
        uptime_s=uptime,
        load=load,
        ncpu=ncpu,
        cpu_times=cpu,
        mem_total_bytes=total,
        mem_available_bytes=available,
        swap_total_bytes=swap_total,
        swap_free_bytes=swap_free,
        filesystems=tuple(fs) if fs is not None else None,
        interfaces=tuple(ifaces),
        processes=procs,
        os=os_name,
        kernel=kernel,
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
