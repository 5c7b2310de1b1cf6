"""A host's top processes, asked of the long-lived probe while a host screen is open. Pure.

The probe's awk keeps, between requests, each process's CPU ticks and start time, so a
refresh gives CPU % over the time since the last one (as top does) without a second look;
a process it has not seen yet gets its lifetime average (as ps does). Per refresh the host
forks one `sh` (a builtin glob lists /proc) and awk reads each process's /proc/PID/stat;
only the 25 chosen are read further (status for the owner, cmdline for the command line).
A command line is read once per process (cached by pid and start time): awk cannot hold
the NULs that separate arguments (mawk cuts a string at the first), so one `tr` per new
process turns them into \\x01 and its newlines into \\x02, which this side turns back.

USER_HZ is taken as 100 (every Linux architecture in use reports it so), the page size as
4 kB only for ranking by memory; the resident size shown is status's VmRSS, in kB.

Wire format, after `@ SEQ`:
  Q <c|r> <process count> <uptime s>
  T <pid> <state> <cpu %> <rss kB> <threads> <start, ticks after boot> <user> <command line>
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

TOP_N = 25
HZ = 100
BY_CPU, BY_MEMORY = "c", "r"
CMDLINE_MAX = 4096  # bytes of a command line carried (the full text on Enter, up to this)

# Called by the probe's main block (probes/linux.py). No single quote may appear in it.
AWK_TOP = r"""
function top(by,   cmd, l, p, s, a, i, k, n, j, t, st, up, dt, rate, bv, best, r, f, u, need, o) {
  if (!pwread) {
    while ((getline l < "/etc/passwd") > 0) { split(l, a, ":"); if (!(a[3] in pw)) pw[a[3]] = a[1] }
    close("/etc/passwd"); pwread = 1
  }
  up = 0
  if ((getline l < "/proc/uptime") > 0) { split(l, a, " "); up = a[1] + 0 }
  close("/proc/uptime")
  dt = up - tup
  n = 0; split("", tpid); split("", tkey); split("", tcpu); split("", tst); split("", tstate)
  split("", tthr); split("", trss); split("", tcomm); split("", nt); split("", nst)
  cmd = "cd /proc && for p in [0-9]*; do echo $p; done"
  while ((cmd | getline p) > 0) {
    f = "/proc/" p "/stat"; s = ""
    while ((getline l < f) > 0) s = s l " "
    close(f)
    i = length(s)
    while (i > 0 && substr(s, i, 1) != ")") i--
    if (i == 0) continue
    k = split(substr(s, i + 2), a, " ")
    if (k < 22) continue
    t = a[12] + a[13]; st = a[20]
    if ((p in pt) && pst[p] == st && dt > 0) rate = (t - pt[p]) / dt
    else { rate = up - st / 100; rate = rate > 0 ? t / rate : 0 }
    nt[p] = t; nst[p] = st
    n++; tpid[n] = p; tcpu[n] = rate; tst[n] = st; tstate[n] = a[1]; tthr[n] = a[18]
    trss[n] = a[22] * 4
    tkey[n] = (by == "r") ? a[22] + 0 : rate
    j = index(s, "(")
    tcomm[n] = substr(s, j + 1, i - j - 1)
  }
  close(cmd)
  split("", pt); split("", pst)
  for (p in nt) { pt[p] = nt[p]; pst[p] = nst[p] }
  tup = up
  split("", taken); split("", pick); k = 0
  for (j = 1; j <= 25 && j <= n; j++) {
    best = 0; bv = -1
    for (i = 1; i <= n; i++) if (!(i in taken) && tkey[i] > bv) { bv = tkey[i]; best = i }
    taken[best] = 1; pick[++k] = best
  }
  need = ""
  for (j = 1; j <= k; j++) { i = pick[j]; if (!((tpid[i] "/" tst[i]) in cl)) need = need " " tpid[i] }
  if (need != "") {
    cmd = "cd /proc && for p in" need "; do echo =$p;"
    cmd = cmd " tr \"\\000\\n\" \"\\001\\002\" < $p/cmdline 2>/dev/null; echo; done"
    p = ""
    while ((cmd | getline l) > 0) {
      if (substr(l, 1, 1) == "=") { p = substr(l, 2); continue }
      if (p != "") { got[p] = substr(l, 1, 4096); p = "" }
    }
    close(cmd)
  }
  split("", ncl)
  o = "Q " by " " n " " up "\n"
  for (j = 1; j <= k; j++) {
    i = pick[j]; p = tpid[i]
    if ((p "/" tst[i]) in cl) r = cl[p "/" tst[i]]
    else r = (p in got) ? got[p] : ""
    if (r == "") r = "[" tcomm[i] "]"
    gsub(/\n/, "\002", r)
    ncl[p "/" tst[i]] = r
    u = "?"; f = "/proc/" p "/status"
    while ((getline l < f) > 0) {
      if (l ~ /^Uid:/) { split(l, a, " "); u = (a[2] in pw) ? pw[a[2]] : a[2] }
      else if (l ~ /^VmRSS:/) { split(l, a, " "); trss[i] = a[2] }
    }
    close(f)
    gsub(/ /, "_", u)
    o = o "T " p " " tstate[i] " " sprintf("%.1f", tcpu[i]) " " trss[i] " " tthr[i]
    o = o " " tst[i] " " u " " r "\n"
  }
  split("", cl); split("", got)
  for (p in ncl) cl[p] = ncl[p]
  return o
}
"""


@dataclass(frozen=True, slots=True)
class ProcessRow:
    pid: int
    user: str
    state: str
    cpu_pct: float
    rss_bytes: int
    threads: int
    started_at: datetime | None
    command: str  # exactly as the host gave it (NULs as spaces); shown through the sanitizer


@dataclass(frozen=True, slots=True)
class ProcessTable:
    by: str  # BY_CPU or BY_MEMORY
    count: int  # processes on the host
    rows: tuple[ProcessRow, ...]
    taken_at: datetime


def top_request(seq: int, by: str) -> str:
    """The request line for the top processes ordered `by` (BY_CPU or BY_MEMORY)."""
    if by not in (BY_CPU, BY_MEMORY):
        raise ValueError(f"order by {by!r}: c (CPU) or r (resident memory)")
    return f"S {seq} {by}\n"


def _row(rest: str, uptime: float, now: datetime) -> ProcessRow:
    pid, state, cpu, rss, threads, start, user, command = rest.split(" ", 7)
    started = None
    if uptime > 0:
        started = now - timedelta(seconds=max(0.0, uptime - int(start) / HZ))
    return ProcessRow(
        pid=int(pid),
        user=user,
        state=state,
        cpu_pct=float(cpu),
        rss_bytes=int(rss) * 1024,
        threads=int(threads),
        started_at=started,
        command=command.replace("\x01", " ").replace("\x02", "\n").rstrip(" "),
    )


def parse_top(text: str, now: datetime) -> ProcessTable | str:
    """The table from one reply, or what is wrong with it. Never raises; a bad row is skipped."""
    by, count, uptime = "", 0, 0.0
    rows: list[ProcessRow] = []
    for line in text.split("\n"):
        tag, _, rest = line.partition(" ")
        try:
            if tag == "Q":
                by, n, up = rest.split(" ")[:3]
                count, uptime = int(n), float(up)
            elif tag == "T":
                rows.append(_row(rest, uptime, now))
        except (ValueError, IndexError, OverflowError):
            continue
    if not by:
        return "no process table in the reply (an older probe, or not a Linux host)"
    return ProcessTable(by, count, tuple(rows), now)
