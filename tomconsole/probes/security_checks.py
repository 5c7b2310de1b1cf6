"""The judges of the security scan: each turns one section of the scan's answer (sshd's
settings, the listening sockets, /etc/passwd, the patch state, the world-writable paths, the
failed logins) into findings with why they matter and how to fix them. Pure."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

from tomconsole.models import Finding, PatchState
from tomconsole.probes.sockets import exposed, parse_proc_net
from tomconsole.probes.sshd_config import SshdSettings, weak_algorithms

WW_CAP = 100  # world-writable paths listed one by one (past it, one finding says there are more)
NOLOGIN = ("nologin", "false", "sync", "shutdown", "halt")


def _needs_root(check: str, what: str) -> Finding:
    return Finding(
        check,
        "info",
        f"not assessed: needs root ({what})",
        assessed=False,
        why="The login the console uses cannot read what this check needs.",
        fix="Grant the read (e.g. the adm group for logs), run the scanner as root, or accept it.",
    )


SSH_CHECKS = ("ssh-root-login", "ssh-password-auth", "ssh-weak-crypto")


def _in(settings: SshdSettings, keyword: str) -> str:
    """Where to change a setting: the file that sets it first, else the main config."""
    return f"in {settings.where.get(keyword, settings.source)}"


def ssh_findings(settings: SshdSettings | None) -> Iterator[Finding]:
    if settings is None:
        for check in SSH_CHECKS:
            yield _needs_root(check, "sshd -T and /etc/ssh/sshd_config were not readable")
        return
    if settings.source != "sshd -T" and settings.unreadable:
        # An unreadable included file may set anything first: judging without it could be wrong.
        files = ", ".join(settings.unreadable[:3])
        for check in SSH_CHECKS:
            yield _needs_root(check, f"sshd -T refused and {files} not readable")
        return
    src = settings.source
    root = settings.get("permitrootlogin").lower()
    if root in ("yes", "prohibit-password", "without-password"):
        yield Finding(
            "ssh-root-login",
            "high" if root == "yes" else "low",
            "root may log in over SSH" + (" with a password" if root == "yes" else " with a key"),
            f"PermitRootLogin {root} ({settings.origin('permitrootlogin')})",
            why="A direct root login leaves no trail of who did what, and root is the first account guessed.",
            fix=f"Set `PermitRootLogin no` {_in(settings, 'permitrootlogin')} and reload sshd; "
            "log in as a user, then sudo.",
        )
    if settings.get("passwordauthentication").lower() == "yes":
        yield Finding(
            "ssh-password-auth",
            "medium",
            "SSH accepts passwords",
            f"PasswordAuthentication yes ({settings.origin('passwordauthentication')})",
            why="Passwords can be guessed and phished; keys cannot be brute-forced from the network.",
            fix=f"Set `PasswordAuthentication no` {_in(settings, 'passwordauthentication')} (and "
            "`KbdInteractiveAuthentication no`) once all have keys; the first value sshd reads wins.",
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
                f"Match {cond}: {'; '.join(loosened)} (in {settings.where.get(f'Match {cond}', src)})",
                obj=f"Match {cond}",
                why="Connections matching it get weaker rules than the rest of the host.",
                fix=f"Narrow or remove the Match block in {settings.where.get(f'Match {cond}', src)}.",
            )
    for keyword, algo in weak_algorithms(settings):
        yield Finding(
            "ssh-weak-crypto",
            "low" if keyword == "macs" else "medium",  # SHA-1 and 64-bit MACs: still OpenSSH 9's defaults
            f"sshd offers a weak algorithm: {algo}",
            f"{keyword} includes {algo} ({settings.origin(keyword)})",
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
_SYSLOG = re.compile(r"^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)")


def _when(line: str, now: datetime, offset: timezone) -> datetime | None:
    """A log line's time: ISO 8601 (the journal, rsyslog's default on Debian 12), or the
    traditional `Dec  7 01:53:53` in the host's zone, in the year that makes it not later
    than now."""
    m = _ISO.match(line)
    if m is not None:
        try:
            at = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        except ValueError:
            return None
        return at if at.tzinfo is not None else at.replace(tzinfo=offset)
    m = _SYSLOG.match(line)
    if m is None:
        return None
    try:
        at = datetime.strptime(f"{now.year} {m.group(1)}", "%Y %b %d %H:%M:%S").replace(tzinfo=offset)
    except ValueError:
        return None
    return at.replace(year=now.year - 1) if at > now + timedelta(days=1) else at


def _offset(text: str) -> timezone:
    """`+0100` as a zone (the host's, printed by `date +%z`); UTC when absent or unreadable."""
    m = re.fullmatch(r"([+-])(\d\d)(\d\d)", text.strip())
    if m is None:
        return UTC
    sign = 1 if m.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def failed_login_findings(auth: str, now: datetime, threshold: int) -> Iterator[Finding]:
    first, _, rest = auth.partition("\n")
    if not first.startswith("log "):
        yield _needs_root("ssh-failed-logins", "/var/log/auth.log, /var/log/secure and the journal")
        return
    words = first.split()
    where = words[1] if len(words) > 1 else "?"
    zone = _offset(words[2]) if len(words) > 2 else UTC
    count, sources = 0, dict[str, int]()
    for line in rest.split("\n"):
        # One attempt at a user that does not exist logs `Invalid user` and then, with
        # passwords on, `Failed password for invalid user`: counted once.
        if "Failed password for invalid user" in line or not line.strip():
            continue
        at = _when(line, now, zone)
        if at is not None and now - at > timedelta(hours=24):
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
    """One finding per path (a newline in a name arrives as `?`), at most WW_CAP; past that,
    one finding that says the list goes on, so the rest are not taken for fixed."""
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
    if len(paths) > WW_CAP:
        yield Finding(
            "world-writable",
            "medium",
            f"more than {WW_CAP} world-writable paths (the first {WW_CAP} are listed)",
            f"{len(paths)}+ paths found",
            obj="(more)",
            why="Any local user or compromised service can change them.",
            fix="find PATH -xdev -perm -0002 lists them all; fix the first ones, then scan again.",
        )
