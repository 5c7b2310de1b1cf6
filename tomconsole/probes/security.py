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

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from tomconsole.models import FINDING_SEVERITIES, Finding, HostState, MetricDef, PatchState, ScanResult
from tomconsole.probes.kinds import Kind, Value
from tomconsole.probes.patches import patch_state
from tomconsole.probes.sockets import exposed, parse_proc_net
from tomconsole.probes.sshd_config import SshdSettings, effective, weak_algorithms

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
WW_CAP = 100  # world-writable paths listed at most (more are counted)
AUTH_LINES = 2000
NOLOGIN = ("nologin", "false", "sync", "shutdown", "halt")

_SCRIPT = r"""LC_ALL=C; export LC_ALL; PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
echo "@@id"; id -u; id -Gn
echo "@@sshd-t"; if command -v sshd >/dev/null 2>&1; then sshd -T 2>&1 | head -n 400; fi
tc_inc() {
  sed -n 's/^[[:space:]]*[Ii][Nn][Cc][Ll][Uu][Dd][Ee][[:space:]=]\{1,\}//p' "$1" |
    tr ' \t' '\n\n' | sed -e '/^$/d' -e 's|^\([^/]\)|/etc/ssh/\1|'
}
tc_cat() {
  tc_d=$1; shift; [ "$tc_d" -gt 5 ] && return 0
  for tc_f in "$@"; do
    [ -f "$tc_f" ] || continue
    if [ -r "$tc_f" ]; then
      echo "@@file $tc_f"; head -c 262144 "$tc_f"; echo; tc_cat $((tc_d+1)) $(tc_inc "$tc_f")
    else echo "@@unreadable $tc_f"; fi
  done
}
echo "@@sshd-config"; tc_cat 0 /etc/ssh/sshd_config
for p in tcp tcp6 udp udp6; do echo "@@net-$p"; head -n 4000 /proc/net/$p 2>/dev/null; done
echo "@@passwd"; head -n 5000 /etc/passwd
echo "@@uid-min"; sed -n 's/^UID_MIN[[:space:]]*//p' /etc/login.defs 2>/dev/null
echo "@@updates"
if command -v apt-get >/dev/null 2>&1; then
  echo "manager apt"
  apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>/dev/null | grep '^Inst ' | head -n 5000
elif command -v dnf >/dev/null 2>&1; then
  echo "manager dnf"; dnf -q -C check-update 2>/dev/null | head -n 5000
  echo "@@security-updates"; dnf -q -C updateinfo list --security 2>/dev/null | head -n 5000
elif command -v yum >/dev/null 2>&1; then
  echo "manager yum"; yum -q -C check-update 2>/dev/null | head -n 5000
  echo "@@security-updates"; yum -q -C updateinfo list security 2>/dev/null | head -n 5000
elif command -v apk >/dev/null 2>&1; then
  echo "manager apk"; apk version -l '<' 2>/dev/null | head -n 5000
fi
echo "@@reboot"
if [ -f /var/run/reboot-required ]; then echo required
elif command -v needs-restarting >/dev/null 2>&1; then
  needs-restarting -r >/dev/null 2>&1; echo "needs-restarting $?"
else echo none; fi
echo "@@kernel"; uname -r
echo "@@kernels"; ls -1 /lib/modules 2>/dev/null || ls -1 /boot 2>/dev/null | sed -n 's/^vmlinuz-//p'
echo "@@world-writable"
find __PATHS__ -xdev \( -type f -perm -0002 -o -type d -perm -0002 ! -perm -1000 \) -print \
  2>/dev/null | head -n 101
echo "@@auth"; tc_l=""
for f in /var/log/auth.log /var/log/secure; do [ -r "$f" ] && { tc_l=$f; break; }; done
if [ -n "$tc_l" ]; then
  echo "log $tc_l"
  tail -n 20000 "$tc_l" | grep -E 'sshd.*(Failed password|Invalid user)' | tail -n __AUTH__
elif command -v journalctl >/dev/null 2>&1 &&
    { [ "$(id -u)" = 0 ] || id -Gn | grep -qwE 'adm|systemd-journal|wheel'; }; then
  echo "log journal"
  journalctl -q --no-pager --since -24h -o short-iso _COMM=sshd _COMM=sshd-session 2>/dev/null |
    grep -E 'Failed password|Invalid user' | tail -n __AUTH__
else echo unreadable; fi
echo "@@end"
"""


def scan_command(world_writable_paths: tuple[str, ...]) -> str:
    """The fixed scan command, the configured paths quoted (never interpolated raw)."""
    paths = " ".join(shlex.quote(p) for p in world_writable_paths) or "/nonexistent-tomconsole"
    return _SCRIPT.replace("__PATHS__", paths).replace("__AUTH__", str(AUTH_LINES))


def sections(text: str) -> dict[str, str]:
    """The scan's `@@name` sections (a section's own `@@file` lines stay inside it)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("@@") and " " not in line and len(line) > 2:
            current = out.setdefault(line[2:], [])
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


def _needs_root(check: str, what: str) -> Finding:
    return Finding(
        check,
        "info",
        f"not assessed: needs root ({what})",
        assessed=False,
        why="The login the console uses cannot read what this check needs.",
        fix="Grant the read (e.g. the adm group for logs), run the scanner as root, or accept it.",
    )


def ssh_findings(settings: SshdSettings | None) -> Iterator[Finding]:
    if settings is None:
        for check in ("ssh-root-login", "ssh-password-auth", "ssh-weak-crypto"):
            yield _needs_root(check, "sshd -T and /etc/ssh/sshd_config were not readable")
        return
    src = settings.source
    root = settings.get("permitrootlogin").lower()
    if root in ("yes", "prohibit-password", "without-password"):
        set_where = "set" if "permitrootlogin" in settings.values else "the default"
        yield Finding(
            "ssh-root-login",
            "high" if root == "yes" else "low",
            "root may log in over SSH" + (" with a password" if root == "yes" else " with a key"),
            f"PermitRootLogin {root} ({set_where}; {src})",
            why="A direct root login leaves no trail of who did what, and root is the first account guessed.",
            fix="Set `PermitRootLogin no` in the sshd config and reload sshd; log in as a user, then sudo.",
        )
    if settings.get("passwordauthentication").lower() == "yes":
        set_where = "set" if "passwordauthentication" in settings.values else "the default"
        yield Finding(
            "ssh-password-auth",
            "medium",
            "SSH accepts passwords",
            f"PasswordAuthentication yes ({set_where}; {src})",
            why="Passwords can be guessed and phished; keys cannot be brute-forced from the network.",
            fix="Set `PasswordAuthentication no` and `KbdInteractiveAuthentication no` once all have keys.",
        )
    for cond, block in settings.matches:
        loosened = [
            f"{k} {v}"
            for k, v in block.items()
            if (k == "permitrootlogin" and v.lower() == "yes")
            or (k == "passwordauthentication" and v.lower() == "yes")
        ]
        if loosened:
            check = (
                "ssh-root-login"
                if any(s.startswith("permitrootlogin") for s in loosened)
                else "ssh-password-auth"
            )
            yield Finding(
                check,
                "medium",
                f"a Match block loosens SSH: {'; '.join(loosened)}",
                f"Match {cond}: {'; '.join(loosened)} ({src})",
                obj=f"Match {cond}",
                why="Connections matching it get weaker rules than the rest of the host.",
                fix="Narrow or remove the Match block in the sshd config.",
            )
    for keyword, algo in weak_algorithms(settings):
        yield Finding(
            "ssh-weak-crypto",
            "low" if keyword == "macs" else "medium",  # SHA-1 and 64-bit MACs: still OpenSSH 9's defaults
            f"sshd offers a weak algorithm: {algo}",
            f"{keyword} includes {algo} ({src})",
            obj=f"{keyword}:{algo}",
            why="A weak cipher, MAC or key exchange lets a network attacker read or alter sessions.",
            fix=f"Remove {algo} from `{keyword}` in the sshd config (OpenSSH's defaults are safe).",
        )


def port_findings(secs: dict[str, str], allowed: frozenset[str] | None) -> Iterator[Finding]:
    socks = [s for p in ("tcp", "tcp6", "udp", "udp6") for s in parse_proc_net(p, secs.get(f"net-{p}", ""))]
    for label, addrs in exposed(socks).items():
        if allowed is not None and label in allowed:
            continue
        known = allowed is not None
        yield Finding(
            "listening-port",
            "medium" if known else "info",
            f"{label} listens on {', '.join(addrs)}" + (" (not in the allowlist)" if known else ""),
            f"{label} on {', '.join(addrs)} (/proc/net)",
            obj=label,
            why="Every port reachable from the network is a way in; an unexpected one is often forgotten.",
            fix="Stop the service or bind it to loopback; if it belongs, add it to security.allowed_ports.",
        )


def account_findings(passwd: str, uid_min_text: str) -> Iterator[Finding]:
    try:
        uid_min = int(uid_min_text.strip().split()[0]) if uid_min_text.strip() else 1000
    except ValueError:
        uid_min = 1000
    for line in passwd.split("\n"):
        f = line.split(":")
        if len(f) < 7 or not f[2].isdigit():
            continue
        name, uid, shell = f[0], int(f[2]), f[6].strip()
        if uid == 0 and name != "root":
            yield Finding(
                "uid0-account",
                "high",
                f"{name} has UID 0 (root's powers under another name)",
                line,
                obj=name,
                why="A second UID 0 account is a classic backdoor and escapes root-login rules.",
                fix=f"Remove {name} or give it its own UID; use sudo for privileges.",
            )
        elif 0 < uid < uid_min and shell and not shell.rsplit("/", 1)[-1].startswith(NOLOGIN):
            yield Finding(
                "system-account-shell",
                "low",
                f"system account {name} has a login shell ({shell})",
                line,
                obj=name,
                why="A service account that can log in turns a stolen service credential into a shell.",
                fix=f"usermod -s /usr/sbin/nologin {name}",
            )


_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)?)")
_FROM = re.compile(r"from (\S+) port")


def failed_login_findings(auth: str, now: datetime, threshold: int) -> Iterator[Finding]:
    first, _, rest = auth.partition("\n")
    if not first.startswith("log "):
        yield _needs_root("ssh-failed-logins", "/var/log/auth.log, /var/log/secure and the journal")
        return
    where = first.removeprefix("log ").strip()
    count, sources = 0, dict[str, int]()
    for line in rest.split("\n"):
        if not line.strip():
            continue
        m = _ISO.match(line)
        if m is not None:
            try:
                at = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
            except ValueError:
                at = None
            if at is not None and at.tzinfo is not None and now - at > timedelta(hours=24):
                continue
        count += 1
        src = _FROM.search(line)
        if src:
            sources[src.group(1)] = sources.get(src.group(1), 0) + 1
    if count >= threshold:
        top = ", ".join(f"{ip} ({n})" for ip, n in sorted(sources.items(), key=lambda kv: -kv[1])[:5])
        yield Finding(
            "ssh-failed-logins",
            "medium",
            f"{count} failed SSH logins in the last day",
            f"{count} in {where}" + (f"; from {top}" if top else ""),
            why="Many failures are someone guessing; with password logins on, one may succeed.",
            fix="Turn off password logins, and rate-limit or block the sources (fail2ban, nftables).",
        )


def patch_findings(patches: PatchState, packages: list[str], reboot: str) -> tuple[list[Finding], list[str]]:
    out: list[Finding] = []
    assessed = []
    if patches.manager is not None and patches.pending is not None:
        assessed.append("pending-updates")
        if patches.pending:
            out.append(
                Finding(
                    "pending-updates",
                    "low",
                    f"{patches.pending} package updates pending ({patches.manager})",
                    f"{patches.pending} upgradable by {patches.manager}",
                    why="Unapplied updates carry known bugs and, often, known holes.",
                    fix="Apply them in the next maintenance window.",
                )
            )
    if patches.security is not None:
        assessed.append("security-updates")
        if patches.security:
            out.append(
                Finding(
                    "security-updates",
                    "high",
                    f"{patches.security} security updates pending",
                    "; ".join(packages[:20])
                    + (f"; and {len(packages) - 20} more" if len(packages) > 20 else ""),
                    why="Each fixes a published vulnerability that attackers can look up.",
                    fix="Apply them now (apt-get upgrade / dnf upgrade --security), then reboot if asked.",
                )
            )
    if patches.reboot_required is not None:
        assessed.append("reboot-required")
        if patches.reboot_required:
            out.append(
                Finding(
                    "reboot-required",
                    "medium",
                    "a reboot is required to finish updates",
                    "/var/run/reboot-required exists" if "required" in reboot else "needs-restarting -r",
                    why="Updated libraries or a kernel are installed, but the old, vulnerable code runs on.",
                    fix="Reboot in a maintenance window.",
                )
            )
    if patches.running_kernel and patches.newest_kernel:
        assessed.append("kernel-outdated")
        if patches.kernel_outdated:
            out.append(
                Finding(
                    "kernel-outdated",
                    "medium",
                    f"running kernel {patches.running_kernel}, newest installed {patches.newest_kernel}",
                    f"uname -r: {patches.running_kernel}; installed: {patches.newest_kernel}",
                    why="Kernel fixes only take effect after a reboot into the new kernel.",
                    fix="Reboot into the newest kernel.",
                )
            )
    return out, assessed


def world_writable_findings(text: str) -> Iterator[Finding]:
    paths = [p for p in text.split("\n") if p.strip()]
    for path in paths[:WW_CAP]:
        yield Finding(
            "world-writable",
            "medium",
            f"world-writable: {path}",
            path,
            obj=path,
            why="Any local user or compromised service can change it, and so whatever trusts it.",
            fix=f"chmod o-w {shlex.quote(path)} (a shared directory needs the sticky bit: chmod +t).",
        )


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


def finding_counts(findings: list[tuple[str, str]]) -> dict[str, int]:
    """(severity, state) pairs -> open findings per severity."""
    counts = dict.fromkeys(FINDING_SEVERITIES, 0)
    for severity, state in findings:
        if state == "open" and severity in counts:
            counts[severity] += 1
    return counts


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
    worst: str | None  # the worst severity open


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
