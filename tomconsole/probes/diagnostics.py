"""Read-only diagnostics: the default set, the exact remote command a run sends, and how a
result reads as an incident note. Pure.

A diagnostic's command is the operator's own shell text from config (or one of the
defaults below, written to work on Debian, RHEL and Alpine alike: each falls back to what
the other families have). Nothing from a host or the UI is ever put into it. It runs under
the host's `timeout`: coreutils' leads a process group and signals all of it at the
deadline (TERM, then KILL), so a pipeline left hanging leaves nothing behind; busybox's
(Alpine; `-k` from 1.35) signals only the shell it started, so the console's own deadline
then closes the channel and the rest die on their closed pipe. With `sudo: true` it runs
as `sudo -n`, which fails at once instead of asking for a password (the account must be
allowed to run `timeout` and `sh` that way: sudo sees only those).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime

TIMED_OUT = (124, 137)  # what `timeout` exits with when it ended the command (TERM, then KILL)
KILL_AFTER_S = 2  # after the deadline's TERM, KILL this much later
SUDO_ASKS = ("sudo: a password is required", "sudo: a terminal is required")


@dataclass(frozen=True, slots=True)
class DiagnosticSpec:
    name: str
    title: str
    command: str


DEFAULTS: tuple[DiagnosticSpec, ...] = (
    DiagnosticSpec(
        "journal-errors",
        "errors in the journal",
        "if command -v journalctl >/dev/null 2>&1; then journalctl -p err -n 200 --no-pager -o short-iso;"
        " else for f in /var/log/messages /var/log/syslog; do [ -r $f ] && grep -iE"
        " 'error|crit|alert|emerg|fail' $f | tail -n 200; done; fi",
    ),
    DiagnosticSpec(
        "kernel-messages",
        "kernel messages",
        "(dmesg -T 2>/dev/null || dmesg 2>/dev/null || journalctl -k -n 200 --no-pager -o short-iso"
        " 2>/dev/null || echo 'cannot read the kernel log as this user (kernel.dmesg_restrict?):"
        " set sudo: true on kernel-messages') | tail -n 200",
    ),
    DiagnosticSpec(
        "var-usage",
        "biggest directories under /var",
        "du -xk -d 3 /var 2>/dev/null | sort -rn | head -n 30",
    ),
    DiagnosticSpec(
        "listening",
        "listening sockets",
        "ss -tulpn 2>/dev/null || netstat -tulpn 2>/dev/null || cat /proc/net/tcp /proc/net/tcp6",
    ),
    DiagnosticSpec(
        "failed-units",
        "failed units",
        "if command -v systemctl >/dev/null 2>&1; then systemctl --failed --no-pager;"
        " else rc-status --crashed 2>/dev/null || rc-status -a; fi",
    ),
)


def remote_command(command: str, timeout_s: float, sudo: bool) -> str:
    """The exact text sent for one run: the command under the host's `timeout` (when it has
    one) and, for `sudo`, `sudo -n`. The command itself travels as one quoted argument."""
    secs = max(1, int(timeout_s))
    inner = f"sh -c {shlex.quote(command)}"
    prefix = "sudo -n -- " if sudo else ""
    return (
        f"if timeout -k 1 1 true >/dev/null 2>&1; then exec {prefix}timeout -k {KILL_AFTER_S} {secs} {inner};"
        f" elif command -v timeout >/dev/null 2>&1; then exec {prefix}timeout {secs} {inner};"
        f" else exec {prefix}{inner}; fi"
    )


def command_of(remote: str) -> str | None:
    """The operator's command inside a remote command text (for the demo's simulated hosts,
    which answer the default diagnostics by name); None when it is not one of ours."""
    lexer = shlex.shlex(remote, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:
        return None
    return words[words.index("-c") + 1] if "-c" in words[:-1] else None


def needs_password(output: str) -> bool:
    return any(s in output[:400] for s in SUDO_ASKS)


@dataclass(frozen=True, slots=True)
class DiagnosticRun:
    """What one run gave: the output (stdout and stderr as they came, up to the cap)."""

    diagnostic: str
    title: str
    host: str
    at: datetime
    status: int | None  # None: no exit status (ended by our deadline, or the connection went)
    output: str
    bytes: int  # bytes received, cap included; past the cap nothing more is read
    truncated: bool
    timed_out: bool
    took_s: float
    sudo: bool = False

    @property
    def needs_password(self) -> bool:
        return self.sudo and needs_password(self.output)

    @property
    def outcome(self) -> str:
        """One line: how the run ended, in words."""
        if self.needs_password:
            return "sudo needs a password here: allow this command without one (NOPASSWD) in sudoers"
        if self.truncated:
            kept = len(self.output.encode())
            return f"cut at its output cap ({kept:,} bytes kept): the rest was not read, the command ended"
        if self.timed_out:
            return f"ended at its deadline after {self.took_s:.0f} s"
        if self.status is None:
            return "no exit status (the connection ended)"
        return f"exit {self.status}"

    def headline(self) -> str:
        cut = ", truncated" if self.truncated else ""
        got = f"{self.bytes:,} bytes or more" if self.truncated else f"{self.bytes:,} bytes"
        return (
            f"diagnostic {self.diagnostic} ({self.title}) on {self.host} at "
            f"{self.at.isoformat(timespec='seconds')}: {self.outcome}, {got}{cut}"
        )

    def to_doc(self) -> dict[str, object]:
        return {
            "diagnostic": self.diagnostic,
            "title": self.title,
            "host": self.host,
            "at": self.at.isoformat(),
            "status": self.status,
            "output": self.output,
            "bytes": self.bytes,
            "truncated": self.truncated,
            "timed_out": self.timed_out,
            "took_s": round(self.took_s, 3),
            "needs_password": self.needs_password,
        }
