"""A host's top processes, asked of the long-lived probe while a host screen is open. Pure.

The probe's awk keeps, between requests, each process's CPU ticks and start time, so a
refresh gives CPU % over the time since the last one (as top does) without a second look;
a process it has not seen yet gets its lifetime average (as ps does). Per refresh the host
forks one `sh` (its builtin glob and echo list /proc) and awk reads each process's
/proc/PID/stat; only the 25 chosen are read further (status for the owner, cmdline for the
command line).
A command line is read once per process and kept for 100 refreshes (a process that
rewrites its title, as postgres and sshd do, is shown as it was up to five minutes ago):
awk cannot hold the NULs that separate arguments (mawk cuts a string at the first), so one
`tr` per new process, under `timeout` (reading another process's cmdline waits for its
memory lock, which a sick process may hold), turns them into \\x01 and its newlines into
\\x02, which this side turns back. Each data line comes after a `:`, so no command line
can pass for the pid marker that precedes it.

The probe itself and its children (the `sh` listing /proc, a `tr`) are left out: they
exist only because we looked. USER_HZ is taken as 100 (every Linux architecture in use
reports it so); the page size is learnt once, from the probe's own statm against its VmRSS.
Owners (status's Uid) are read with the command line. The 25 are chosen by insertion into a sorted
list (most processes never enter it), and the previous readings are swept of dead pids
every 16th refresh: per refresh, the host does one open and read per process and little else.

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
function top(by,   cmd, l, p, s, a, i, k, n, j, t, st, up, dt, rate, bv, r, f, need, o, pg, m, q, all) {
  if (!pwread) {
    while ((getline l < "/etc/passwd") > 0) { split(l, a, ":"); if (!(a[3] in pw)) pw[a[3]] = a[1] }
    close("/etc/passwd"); pwread = 1
    if ((getline l < "/proc/self/stat") > 0) { split(l, a, " "); me = a[1] }
    close("/proc/self/stat")
    if ((getline l < "/proc/self/statm") > 0) { split(l, a, " "); pg = a[2] }
    close("/proc/self/statm")
    while ((getline l < "/proc/self/status") > 0) if (l ~ /^VmRSS:/) { split(l, a, " "); r = a[2] }
    close("/proc/self/status")
    kbpage = (pg > 0 && r / pg > 40) ? 64 : (pg > 0 && r / pg > 10) ? 16 : 4
  }
  up = 0
  if ((getline l < "/proc/uptime") > 0) { split(l, a, " "); up = a[1] + 0 }
  close("/proc/uptime")
  dt = up - tup; tup = up; sweep++
  n = 0; split("", tpid); split("", tkey); split("", tcpu); split("", trest); split("", tcomm)
  cmd = "cd /proc && echo [0-9]*"
  l = ""; if ((cmd | getline l) <= 0) l = ""
  close(cmd)
  m = split(l, all, " ")
  for (q = 1; q <= m; q++) {
    p = all[q]
    f = "/proc/" p "/stat"; s = ""
    while ((getline l < f) > 0) s = s l " "
    close(f)
    if (!match(s, /.*\)/)) continue
    i = RLENGTH
    split(substr(s, i + 2, 300), a, " ")
    if (p == me || a[2] == me) continue
    t = a[12] + a[13]; st = a[20]
    if ((p in pt) && pst[p] == st && dt > 0) rate = (t - pt[p]) / dt
    else { rate = up - st / 100; rate = rate > 0 ? t / rate : 0; pst[p] = st }
    pt[p] = t; seen[p] = sweep
    n++; tpid[n] = p; tcpu[n] = rate; trest[n] = substr(s, i + 2)
    tkey[n] = (by == "r") ? a[22] + 0 : rate
    j = index(s, "("); tcomm[n] = substr(s, j + 1, i - j - 1)
  }
  if (sweep % 16 == 0)
    for (p in pt) if (!((p in seen) && seen[p] == sweep)) { delete pt[p]; delete pst[p]; delete seen[p] }
  if (sweep % 100 == 0) { split("", cl); split("", who) }
  split("", pick); k = 0
  for (i = 1; i <= n; i++) {
    bv = tkey[i]
    if (k == 25 && bv <= tkey[pick[25]]) continue
    if (k < 25) k++
    for (j = k; j > 1 && tkey[pick[j - 1]] < bv; j--) pick[j] = pick[j - 1]
    pick[j] = i
  }
  need = ""
  for (j = 1; j <= k; j++) {
    i = pick[j]; pix[tpid[i]] = i
    if (!((tpid[i] "/" pst[tpid[i]]) in cl)) need = need " " tpid[i]
  }
  if (need != "") {
    cmd = "cd /proc && for p in" need "; do echo =$p; printf :; timeout -s KILL 2"
    cmd = cmd " tr \"\\000\\n\" \"\\001\\002\" 2>/dev/null < $p/cmdline; echo; done"
    p = ""
    while ((cmd | getline l) > 0) {
      if (substr(l, 1, 1) == "=") { p = substr(l, 2); continue }
      if (p == "" || substr(l, 1, 1) != ":") continue
      r = substr(l, 2, 4096); if (r == "") r = "[" tcomm[pix[p]] "]"
      cl[p "/" pst[p]] = r; p = ""
    }
    close(cmd)
    for (j = 1; j <= k; j++) {
      p = tpid[pick[j]]
      if ((p "/" pst[p]) in who) continue
      f = "/proc/" p "/status"; who[p "/" pst[p]] = "?"
      while ((getline l < f) > 0)
        if (l ~ /^Uid:/) { split(l, a, " "); who[p "/" pst[p]] = (a[2] in pw) ? pw[a[2]] : a[2]; break }
      close(f)
    }
  }
  split("", pix)
  o = "Q " by " " n " " sprintf("%.2f", up) "\n"
  for (j = 1; j <= k; j++) {
    i = pick[j]; p = tpid[i]
    r = (p "/" pst[p]) in cl ? cl[p "/" pst[p]] : "[" tcomm[i] "]"
    split(trest[i], a, " ")
    o = o "T " p " " a[1] " " sprintf("%.1f", tcpu[i]) " " a[22] * kbpage " " a[18] " " a[20]
    o = o " " who[p "/" pst[p]] " " r "\n"
  }
  if (sweep % 16 == 0)
    for (p in cl) {
      split(p, a, "/")
      if (!((a[1] in seen) && seen[a[1]] == sweep)) { delete cl[p]; delete who[p] }
    }
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
