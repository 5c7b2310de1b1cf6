"""The security scan of a host over SSH: one fixed command, one round trip, no root and
nothing installed; and how its answer becomes findings.

The command prints sections (`@@name`) that the parsers below read: sshd's effective
settings (`sshd -T` where permitted, else the config files with their Includes, see
sshd_config.py), the listening sockets (sockets.py), /etc/passwd, the package manager's
pending updates, a reboot flag and the kernels (patches.py), world-writable files under the
configured paths, and failed SSH logins where a log is readable. A check that cannot be
judged with the login's rights is a finding "not assessed", never an error. Pure.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from tomconsole.models import FINDING_SEVERITIES, Finding, HostState, MetricDef, PatchState, ScanResult
from tomconsole.probes.kinds import Kind, Value
from tomconsole.probes.patches import patch_state
from tomconsole.probes.security_checks import (
    account_findings,
    failed_login_findings,
    patch_findings,
    port_findings,
    ssh_findings,
    world_writable_findings,
)
from tomconsole.probes.sshd_config import effective

CHECKS = (
    "ssh-root-login",
    "ssh-password-auth",
    "ssh-weak-crypto",
    "listening-port",
    "uid0-account",
    "system-account-shell",
    "pending-updates",
    "security-updates",
    "reboot-required",
    "kernel-outdated",
    "world-writable",
    "ssh-failed-logins",
    "cert-expiry",
)
AUTH_LINES = 2000
ORDER = (
    "id",
    "sshd-t",
    "sshd-config",
    "net-tcp",
    "net-tcp6",
    "net-udp",
    "net-udp6",
    "passwd",
    "uid-min",
    "updates",
    "security-updates",
    "reboot",
    "kernel",
    "kernels",
    "world-writable",
    "auth",
    "end",
)
_POSITION = {name: i for i, name in enumerate(ORDER)}

_SCRIPT = r"""LC_ALL=C; export LC_ALL; PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
echo "@@id"; id -u; id -Gn
echo "@@sshd-t"; if command -v sshd >/dev/null 2>&1; then sshd -T 2>&1 | head -n 400; fi
tc_inc() {
  sed -n 's/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=]\{1,\}//p' "$1" |
    tr -d '"' | tr ' \t' '\n\n' | sed -e '/^$/d' -e 's|^\([^/]\)|/etc/ssh/\1|'
}
tc_cat() {
  local d f; d=$1; shift; [ "$d" -gt 5 ] && return 0
  for f in "$@"; do
    [ -f "$f" ] || continue
    if [ -r "$f" ]; then
      echo "@@file $f"; head -c 262144 "$f" | sed 's/^@@/ @@/'; echo; tc_cat $((d+1)) $(tc_inc "$f")
    else echo "@@unreadable $f"; fi
  done
}
echo "@@sshd-config"; tc_cat 0 /etc/ssh/sshd_config
for p in tcp tcp6 udp udp6; do
  echo "@@net-$p"; tc_st=0A; case $p in udp*) tc_st=07;; esac
  awk -v st=$tc_st '$4 == st {print "0: " $2 " " $3 " " $4}' /proc/net/$p 2>/dev/null |
    sort -u | head -n 20000
done
echo "@@passwd"; head -n 5000 /etc/passwd | sed 's/^@@/ @@/'
echo "@@uid-min"; sed -n 's/^UID_MIN[[:space:]]*//p' /etc/login.defs 2>/dev/null
echo "@@updates"
if command -v apt-get >/dev/null 2>&1; then
  echo "manager apt"
  tc_o=$(apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>/dev/null); tc_s=$?
  printf '%s\n' "$tc_o" | grep '^Inst ' | head -n 5000; echo "status $tc_s"
elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
  tc_m=dnf; command -v dnf >/dev/null 2>&1 || tc_m=yum; echo "manager $tc_m"
  tc_o=$($tc_m -q -C check-update 2>/dev/null); tc_s=$?
  printf '%s\n' "$tc_o" | head -n 5000; echo "status $tc_s"
  echo "@@security-updates"
  tc_o=$($tc_m -q -C updateinfo list --security 2>/dev/null); tc_s=$?
  printf '%s\n' "$tc_o" | head -n 5000; echo "status $tc_s"
elif command -v apk >/dev/null 2>&1; then
  echo "manager apk"; tc_o=$(apk version -l '<' 2>/dev/null); tc_s=$?
  printf '%s\n' "$tc_o" | head -n 5000; echo "status $tc_s"
fi
echo "@@reboot"
if [ -f /var/run/reboot-required ]; then echo required
elif command -v needs-restarting >/dev/null 2>&1; then
  needs-restarting -r >/dev/null 2>&1; echo "needs-restarting $?"
else echo none; fi
echo "@@kernel"; uname -r
echo "@@kernels"; ls -1 /lib/modules 2>/dev/null || ls -1 /boot 2>/dev/null | sed -n 's/^vmlinuz-//p'
echo "@@world-writable"
find __PATHS__ -xdev \( -type f -perm -0002 -o -type d -perm -0002 ! -perm -1000 \) -print0 \
  2>/dev/null | tr '\n\0' '?\n' | head -n 201
echo "@@auth"; tc_l=""
for f in /var/log/auth.log /var/log/secure; do [ -r "$f" ] && { tc_l=$f; break; }; done
if [ -n "$tc_l" ]; then
  echo "log $tc_l $(date +%z)"
  tail -n 20000 "$tc_l" | grep -E 'sshd.*(Failed password|Invalid user)' | tail -n __AUTH__
elif command -v journalctl >/dev/null 2>&1 &&
    { [ "$(id -u)" = 0 ] || id -Gn | grep -qwE 'adm|systemd-journal|wheel'; }; then
  echo "log journal $(date +%z)"
  journalctl -q --no-pager --since -24h -o short-iso _COMM=sshd _COMM=sshd-session 2>/dev/null |
    grep -E 'Failed password|Invalid user' | tail -n __AUTH__
else echo unreadable; fi
echo "@@end"
"""


def scan_command(world_writable_paths: tuple[str, ...], timeout_s: float = 120.0) -> str:
    """The fixed scan command, the configured paths quoted (never interpolated raw), under a
    remote `timeout` where the host has one (the console's own deadline ends it otherwise)."""
    paths = " ".join(shlex.quote(p) for p in world_writable_paths) or "/nonexistent-tomconsole"
    script = shlex.quote(_SCRIPT.replace("__PATHS__", paths).replace("__AUTH__", str(AUTH_LINES)))
    limit = max(1, int(timeout_s))
    return (
        f"if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 {limit} sh -c {script}; "
        f"else exec sh -c {script}; fi"
    )


def sections(text: str) -> dict[str, str]:
    """The scan's `@@name` sections. Only the known names, in the scan's own order, start a
    section, so a line from a host (a file's content) can never pose as a later one; file
    contents carry a leading space on any line that starts with `@@`."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    at = -1
    for line in text.split("\n"):
        name = line[2:] if line.startswith("@@") else ""
        if name in _POSITION and _POSITION[name] > at:
            at = _POSITION[name]
            current = out.setdefault(name, [])
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v) for k, v in out.items()}


@dataclass(frozen=True)
class ScanPolicy:
    """What the config says about judging one host: the ports it may offer (`tcp/443`; None:
    no allowlist, ports are reported as info) and how many failed logins a day are worth a
    finding."""

    allowed_ports: frozenset[str] | None = None
    failed_logins: int = 20
    world_writable_paths: tuple[str, ...] = ("/etc", "/usr/local/bin", "/usr/local/sbin")


def parse_scan(text: str, now: datetime, policy: ScanPolicy, seconds: float | None = None) -> ScanResult:
    """The findings of one scan's output. A section counts only when a later one follows it
    (the scan got past it): a scan cut short judges only what it completed, and a check it
    did not judge keeps its findings as they were."""
    secs = sections(text)
    present = [i for i, name in enumerate(ORDER) if name in secs]
    last = max(present, default=-1)

    def done(name: str) -> bool:
        return name in secs and ORDER.index(name) < last

    findings: list[Finding] = []
    assessed: list[str] = []
    if done("sshd-config"):
        settings = effective(secs.get("sshd-t", ""), secs["sshd-config"])
        findings += ssh_findings(settings)
        if settings is not None:
            assessed += ["ssh-root-login", "ssh-password-auth", "ssh-weak-crypto"]
    if done("net-udp6"):
        findings += port_findings(secs, policy.allowed_ports)
        assessed.append("listening-port")
    if done("uid-min"):
        findings += account_findings(secs.get("passwd", ""), secs["uid-min"])
        assessed += ["uid0-account", "system-account-shell"]
    patches = PatchState()
    if done("kernels"):
        patches, packages = patch_state(secs)
        found, judged = patch_findings(patches, packages, secs.get("reboot", ""))
        findings += found
        assessed += judged
    if done("world-writable"):
        findings += world_writable_findings(secs["world-writable"])
        assessed.append("world-writable")
    if done("auth"):
        found = list(failed_login_findings(secs["auth"], now, policy.failed_logins))
        findings += found
        if all(f.assessed for f in found):
            assessed.append("ssh-failed-logins")
    return ScanResult(now, tuple(findings), tuple(assessed), patches, seconds)


def _scan_values(sample: ScanResult) -> Iterator[Value]:
    p = sample.patches
    yield "", "updates_pending", None if p.pending is None else float(p.pending)
    yield "", "security_updates", None if p.security is None else float(p.security)
    yield "", "reboot_required", None if p.reboot_required is None else float(p.reboot_required)


SCAN = Kind(
    name="scan",
    metrics=(
        MetricDef("updates_pending", "", "package updates pending"),
        MetricDef("security_updates", "", "security updates pending"),
        MetricDef("reboot_required", "", "1 when the host asks for a reboot"),
    ),
    states=(HostState.UP, HostState.UNREACHABLE, HostState.TIMEOUT, HostState.ERROR, HostState.STALE),
    values=_scan_values,
)


@dataclass(frozen=True, slots=True)
class FindingCounts:
    """A target's open (not accepted) findings per severity, as the finding book keeps them:
    the sample of its `findings:NAME` row, which the rules read."""

    counts: tuple[tuple[str, int], ...]
    severe: int  # open findings at or above the configured incident severity


def _counts_values(sample: FindingCounts) -> Iterator[Value]:
    for severity, n in sample.counts:
        yield "", f"findings_{severity}", float(n)
    yield "", "severe_findings", float(sample.severe)


FINDINGS = Kind(
    name="findings",
    metrics=(
        *(
            MetricDef(f"findings_{s}", "", f"open {s} findings (accepted ones not counted)")
            for s in FINDING_SEVERITIES
        ),
        MetricDef("severe_findings", "", "open findings at or above security.incident_severity"),
    ),
    states=(HostState.UP,),
    values=_counts_values,
)
