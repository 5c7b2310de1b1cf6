"""What the simulated hosts answer to the security scan, in the exact sections the real
command prints (probes/security.py), and the sample Trivy report the demo drops for import.

Most hosts are hardened; some are insecure on purpose so the findings pane has work: one
lets root log in with a password (an Include'd file) and loosens passwords in a Match block,
one has a stray listener, one has security updates pending, one runs an old kernel and asks
for a reboot, and the host with hostile names carries markup and escapes in an account's
comment. The login is not in the adm group, so failed logins are "not assessed: needs root"
everywhere but on one host whose log is readable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tomconsole.demo.sim import SimSpec

MAIN_CONFIG = """# sshd_config of a simulated host
Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
"""

LEGACY_CONFIG = """# left by an old migration
PermitRootLogin yes
Match Address 10.20.0.0/16
    PasswordAuthentication yes
"""

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sshd:x:104:65534::/run/sshd:/usr/sbin/nologin
demo:x:1000:1000:Demo Operator,,,:/home/demo:/bin/bash
"""

_TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
)


def _tcp(ports: list[tuple[str, int]]) -> str:
    """/proc/net/tcp lines for listeners at (hex address, port)."""
    lines = [_TCP_HEADER]
    for i, (addr, port) in enumerate(ports):
        lines.append(
            f"{i:4d}: {addr}:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
            f"     0        0 {1000 + i} 1 0000000000000000 100 0 0 10 0"
        )
    return "\n".join(lines)


ANY, LOOPBACK = "00000000", "0100007F"


def scan_reply(spec: SimSpec, index: int, now: datetime | None = None) -> str:
    """The scan's output for one simulated host (`index`: its place in the fleet plan)."""
    now = now or datetime.now(UTC)
    role = spec.role
    ports = [(ANY, 22), (LOOPBACK, 25)]
    if role in ("web", "lb"):
        ports += [(ANY, 80), (ANY, 443)]
    if index == 1:
        ports.append((ANY, 6379))  # a stray Redis on every address
    files = f"@@file /etc/ssh/sshd_config\n{MAIN_CONFIG}"
    if index == 5:
        files += f"@@file /etc/ssh/sshd_config.d/50-legacy.conf\n{LEGACY_CONFIG}"
    passwd = PASSWD
    if spec.hostile_text:
        passwd += "backup:x:34:34:[bold red]pwned[/] \x1b[2J\x1b]0;owned\x07:/var/backups:/bin/sh\n"
    if index == 7:
        passwd += "toor:x:0:0:old admin:/root:/bin/bash\n"
    updates = "manager apt\n"
    pending = 3 + index % 5
    for n in range(pending):
        updates += f"Inst libdemo{n} [1.0-{n}] (1.0-{n + 1} Debian:12.8/stable [amd64])\n"
    if index in (2, 6):
        updates += (
            "Inst openssl [3.0.14-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
        )
        updates += (
            "Inst libssl3 [3.0.14-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
        )
    updates += "status 0\n"
    running, kernels = "6.1.0-28-amd64", "6.1.0-28-amd64"
    reboot = "none"
    if index == 3:
        kernels += "\n6.1.0-31-amd64"
        reboot = "required"
    auth = "unreadable"
    if index == 0:
        lines = []
        for h in range(40):  # what sshd logs for a password tried on a user that does not exist
            at, src = (now - timedelta(minutes=7 * h)).isoformat(), f"203.0.113.{7 + h % 3} port {40000 + h}"
            lines.append(f"{at} {spec.name} sshd[{900 + h}]: Invalid user admin from {src}")
            lines.append(
                f"{at} {spec.name} sshd[{900 + h}]: Failed password for invalid user admin from {src} ssh2"
            )
        auth = "log /var/log/auth.log +0000\n" + "\n".join(lines)
    sections = [
        "@@id\n1000\ndemo",
        "@@sshd-t\nsshd: no hostkeys available -- exiting.",
        f"@@sshd-config\n{files}",
        f"@@net-tcp\n{_tcp(ports)}",
        f"@@net-tcp6\n{_TCP_HEADER}",
        "@@net-udp\n",
        "@@net-udp6\n",
        f"@@passwd\n{passwd}",
        "@@uid-min\n1000",
        f"@@updates\n{updates}",
        f"@@reboot\n{reboot}",
        f"@@kernel\n{running}",
        f"@@kernels\n{kernels}",
        "@@world-writable\n" + ("/etc/cron.d/backup-job\n" if index == 4 else ""),
        f"@@auth\n{auth}",
        "@@end",
    ]
    return "\n".join(sections) + "\n"


def trivy_sample(image: str = "registry.example/app:1.4.2") -> str:
    """A Trivy report in its documented JSON schema (version 2), for the demo's drop folder."""
    vulns = [
        (
            "CVE-2024-5535",
            "openssl",
            "3.0.13-1~deb12u1",
            "3.0.14-1~deb12u1",
            "CRITICAL",
            "SSL_select_next_proto buffer overread",
        ),
        (
            "CVE-2024-2511",
            "openssl",
            "3.0.13-1~deb12u1",
            "3.0.14-1~deb12u1",
            "HIGH",
            "Unbounded memory growth with session handling in TLSv1.3",
        ),
        ("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", "MEDIUM", "integer overflow in MiniZip"),
        ("CVE-2022-27943", "libstdc++6", "12.2.0-14", "", "LOW", "demangler stack exhaustion"),
        ("CVE-2011-3374", "apt", "2.6.1", "", "UNKNOWN", "invalid signatures accepted"),
    ]
    doc = {
        "SchemaVersion": 2,
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Results": [
            {
                "Target": f"{image} (debian 12.5)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": vid,
                        "PkgName": pkg,
                        "InstalledVersion": inst,
                        **({"FixedVersion": fixed} if fixed else {}),
                        "Severity": sev,
                        "Title": title,
                        "PrimaryURL": f"https://avd.aquasec.com/nvd/{vid.lower()}",
                    }
                    for vid, pkg, inst, fixed, sev, title in vulns
                ],
            }
        ],
    }
    return json.dumps(doc, indent=2)
