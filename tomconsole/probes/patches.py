"""A host's patch state from its own package manager, read without root: pending and
security updates (apt's simulated dist-upgrade, dnf/yum's cached check-update and
updateinfo, apk's version list), a reboot the packages ask for, and the running kernel
against the newest one installed. Pure: never raises on garbage.
"""

from __future__ import annotations

import re

from tomconsole.models import PatchState

_APT_INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) (.*?)\)")
_NUMBERS = re.compile(r"(\d+|[a-z]+)")


# The exit statuses that mean the package manager answered: dnf/yum check-update says 100
# when updates are pending. Anything else (no cache, a lock, a broken repo) is not "0 updates".
ANSWERED = {"apt": (0,), "dnf": (0, 100), "yum": (0, 100), "apk": (0,)}


def _status(text: str) -> tuple[str, int | None]:
    """A section's output without its trailing `status N` line, and N (None: not there)."""
    lines = text.rstrip("\n").split("\n")
    if lines[-1].startswith("status "):
        word = lines[-1].removeprefix("status ").strip()
        return "\n".join(lines[:-1]), int(word) if word.isdigit() else None
    return text, None


def parse_updates(
    manager: str, text: str, security_text: str = ""
) -> tuple[int | None, int | None, list[str]]:
    """(pending, security, the security packages) for one package manager's output."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if manager == "apt":
        pending, security = 0, []
        for ln in lines:
            m = _APT_INST.match(ln)
            if m is None:
                continue
            pending += 1
            if "-security" in m.group(4).lower() or "security" in m.group(4).lower().split("/")[0]:
                security.append(f"{m.group(1)} {m.group(2) or '-'} -> {m.group(3)}")
        return pending, len(security), security
    if manager in ("dnf", "yum"):
        pkgs = [
            ln.split()[0]
            for ln in lines
            if len(ln.split()) == 3 and "." in ln.split()[0] and not ln.startswith(("Obsoleting", "Last"))
        ]
        sec = [ln.split()[-1] for ln in security_text.split("\n") if len(ln.split()) >= 3 and "/Sec" in ln]
        return len(pkgs), len(sec), sec
    if manager == "apk":
        pkgs = [ln for ln in lines if "<" in ln and not ln.startswith(("Installed", "WARNING"))]
        return len(pkgs), None, []  # Alpine's index does not mark security fixes
    return None, None, []


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A kernel release compared part by part, numbers as numbers (6.1.0-28 > 6.1.0-9)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _NUMBERS.findall(version.lower()))


def _flavour(release: str) -> str:
    """What a kernel is built for, beside its version: Debian's and Ubuntu's `amd64`,
    `cloud-amd64`, `generic`, Alpine's `lts` (after the ABI number); RHEL's architecture
    (`5.14.0-362.8.1.el9_3.x86_64`: `x86_64`, its dist tag moving with the release)."""
    parts = release.split("-")
    if len(parts) > 2:
        return "-".join(parts[2:])
    return parts[-1].rsplit(".", 1)[-1] if len(parts) == 2 and "." in parts[-1] else ""


def newest_kernel(releases: list[str], running: str) -> str | None:
    """The newest installed kernel release (/lib/modules, else /boot/vmlinuz-*), of the same
    flavour as the running one when flavours differ (`-amd64`, `-lts`, `-cloud-amd64`)."""
    names = sorted({r.strip() for r in releases if r.strip() and "/" not in r})
    if not names:
        return None
    flavour = _flavour(running)
    same = [n for n in names if flavour and _flavour(n) == flavour] or names
    if running:
        same.append(running)  # never "newest" an older kernel than the one running
    return max(same, key=version_key)


def patch_state(sections: dict[str, str]) -> tuple[PatchState, list[str]]:
    """The patch state from the scan's `updates`, `security-updates`, `reboot`, `kernel` and
    `kernels` sections, and the security packages (for the finding's evidence)."""
    upd = sections.get("updates", "")
    first, _, rest = upd.partition("\n")
    manager = first.removeprefix("manager ").strip() if first.startswith("manager ") else None
    pending = security = None
    packages: list[str] = []
    if manager:
        body, status = _status(rest)
        sec_body, sec_status = _status(sections.get("security-updates", ""))
        pending, security, packages = parse_updates(manager, body, sec_body)
        if status not in ANSWERED.get(manager, (0,)):
            pending = security = None  # it did not answer: not assessed, never "nothing pending"
            packages = []
        elif manager in ("dnf", "yum") and sec_status != 0:
            security, packages = None, []
    reboot_text = sections.get("reboot", "")
    reboot: bool | None = None
    if "required" in reboot_text.split("\n") or "needs-restarting 1" in reboot_text:
        reboot = True
    elif reboot_text.strip() in ("", "none") or "needs-restarting 0" in reboot_text:
        reboot = False
    running = sections.get("kernel", "").strip().split("\n")[0].strip() or None
    newest = newest_kernel(sections.get("kernels", "").split("\n"), running or "")
    return PatchState(manager, pending, security, reboot, running, newest), packages
