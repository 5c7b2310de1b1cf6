"""The security scan's parsers, on output recorded on this Debian 12 machine and on the
variants real hosts have (Include directories, Match blocks, commented and duplicate
directives, IPv6 and UDP sockets, dnf and apk), and on garbage: they never raise.

tests/data/security-scan-debian12.txt is the scan command's real output, run over OpenSSH's
sshd on loopback as the unprivileged test login (sshd -T refused: no host keys readable);
tests/data/sshd-T-debian12.txt is `sshd -T` run as root on the same machine.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tomconsole.probes.patches import newest_kernel, parse_updates, patch_state
from tomconsole.probes.security import ScanPolicy, parse_scan, scan_command, sections
from tomconsole.probes.security_checks import (
    account_findings,
    failed_login_findings,
    patch_findings,
    port_findings,
    ssh_findings,
)
from tomconsole.probes.sockets import Listener, exposed, parse_proc_net
from tomconsole.probes.sshd_config import effective, parse_config_files, parse_sshd_t, weak_algorithms

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _by_check(findings: object) -> dict[str, list[object]]:
    out: dict[str, list[object]] = {}
    for f in findings:  # type: ignore[attr-defined]
        out.setdefault(f.check, []).append(f)
    return out


def test_recorded_scan_of_this_machine() -> None:
    text = (DATA / "security-scan-debian12.txt").read_text()
    result = parse_scan(text, NOW, ScanPolicy())
    found = {(f.check, f.obj): f for f in result.findings}
    # Debian's stock sshd_config sets neither: sshd's defaults apply, and are said to.
    assert found[("ssh-password-auth", "")].evidence.startswith("PasswordAuthentication yes (sshd's default")
    assert found[("ssh-root-login", "")].severity == "low"
    # The test login is a system account (useradd --system) with /bin/sh.
    assert found[("system-account-shell", "tomconsole-probe")].severity == "low"
    # The probe user may not read the auth log: not assessed, never an error.
    assert found[("ssh-failed-logins", "")].assessed is False
    assert "ssh-failed-logins" not in result.assessed
    inst = sum(1 for line in text.split("\n") if line.startswith("Inst "))
    assert result.patches.manager == "apt" and result.patches.pending == inst
    assert result.patches.reboot_required is False
    # The sshd under test listens on loopback only: not an exposure.
    assert all("127." not in f.title for f in found.values() if f.check == "listening-port")


def test_sshd_t_as_root_on_this_machine() -> None:
    settings_ = parse_sshd_t((DATA / "sshd-T-debian12.txt").read_text())
    assert settings_ is not None and settings_.source == "sshd -T"
    found = _by_check(ssh_findings(settings_))
    assert [f.severity for f in found["ssh-root-login"]] == ["low"]  # without-password: keys only
    weak = {f.obj for f in found["ssh-weak-crypto"]}
    assert "macs:hmac-sha1" in weak and "macs:umac-64@openssh.com" in weak
    assert not any(o.startswith("ciphers:") for o in weak)  # OpenSSH 9.2 offers no CBC cipher


def test_sshd_t_error_is_not_settings() -> None:
    assert parse_sshd_t("sshd: no hostkeys available -- exiting.\n") is None
    assert parse_sshd_t("") is None


def _files(**files: str) -> str:
    return "".join(f"@@file {path}\n{text}\n" for path, text in files.items())


def test_include_directory_first_value_wins_in_lexical_order() -> None:
    text = _files(
        **{
            "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n",
            "/etc/ssh/sshd_config.d/20-b.conf": "PasswordAuthentication no\n",
            "/etc/ssh/sshd_config.d/10-a.conf": "# PermitRootLogin no\npermitrootlogin=yes\n",
        }
    )
    s = effective("", text)
    assert s is not None
    assert s.get("permitrootlogin") == "yes"  # 10-a is read before the main file's own line
    assert s.get("passwordauthentication") == "no"
    (root,) = [f for f in ssh_findings(s) if f.check == "ssh-root-login"]
    assert "set in /etc/ssh/sshd_config.d/10-a.conf" in root.evidence  # where to go and change it
    assert "in /etc/ssh/sshd_config.d/10-a.conf" in root.fix


def test_relative_include_and_duplicates() -> None:
    text = _files(
        **{
            "/etc/ssh/sshd_config": "PasswordAuthentication no\nPasswordAuthentication yes\n"
            "Include extra.conf\n",
            "/etc/ssh/extra.conf": "PermitRootLogin yes\nPermitRootLogin no\n",
        }
    )
    s = effective("", text)
    assert s is not None
    assert s.get("passwordauthentication") == "no"
    assert s.get("permitrootlogin") == "yes"


def test_match_blocks_are_kept_apart_and_end_with_their_file() -> None:
    text = _files(
        **{
            "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n"
            "X11Forwarding yes\nMatch User backup\n  PermitRootLogin yes\nMatch all\nX11Forwarding no\n",
            "/etc/ssh/sshd_config.d/50-legacy.conf": "Match Address 10.0.0.0/8\n"
            "    PasswordAuthentication yes\n",
        }
    )
    s = effective("", text)
    assert s is not None
    assert s.get("passwordauthentication") == "no"  # the included Match block ended with its file
    assert s.values["x11forwarding"] == "no"  # `Match all` overrides the global value for everyone
    conds = [c for c, _ in s.matches]
    assert conds == ["Address 10.0.0.0/8", "User backup"]
    loosened = [f for f in ssh_findings(s) if f.obj.startswith("Match")]
    assert {f.obj for f in loosened} == {"Match Address 10.0.0.0/8", "Match User backup"}


def test_match_all_loosening_is_the_effective_value() -> None:
    s = effective(
        "",
        _files(
            **{"/etc/ssh/sshd_config": "PasswordAuthentication no\nMatch all\nPasswordAuthentication yes\n"}
        ),
    )
    assert s is not None and s.get("passwordauthentication") == "yes"
    assert [f.check for f in ssh_findings(s) if f.check == "ssh-password-auth"] == ["ssh-password-auth"]


def test_quoted_include_and_an_unreadable_drop_in_is_not_assessed() -> None:
    text = _files(**{"/etc/ssh/sshd_config": 'Include "/etc/ssh/sshd_config.d/*.conf"\nPermitRootLogin no\n'})
    text += "@@unreadable /etc/ssh/sshd_config.d/50-cloud.conf\n"
    s = effective("sshd: no hostkeys available -- exiting.", text)
    assert s is not None and s.unreadable == ["/etc/ssh/sshd_config.d/50-cloud.conf"]
    found = list(ssh_findings(s))
    assert {f.check for f in found} == {"ssh-root-login", "ssh-password-auth", "ssh-weak-crypto"}
    assert all(not f.assessed and "50-cloud.conf" in f.title for f in found)


def test_include_loop_ends() -> None:
    text = _files(**{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\nPermitRootLogin no\n"})
    s = effective("", text)
    assert s is not None and s.get("permitrootlogin") == "no"


def test_unreadable_config_is_not_assessed() -> None:
    s = effective("", "@@unreadable /etc/ssh/sshd_config\n")
    assert s is None
    found = list(ssh_findings(s))
    assert {f.check for f in found} == {"ssh-root-login", "ssh-password-auth", "ssh-weak-crypto"}
    assert all(not f.assessed and f.title.startswith("not assessed") for f in found)


def test_weak_algorithms_and_modifiers() -> None:
    s = parse_config_files(
        {"/etc/ssh/sshd_config": "Ciphers +aes128-cbc\nKexAlgorithms -diffie-hellman-group1-sha1\n"}
    )
    assert s is not None
    assert weak_algorithms(s) == [("ciphers", "aes128-cbc")]


TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0B00000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
   3: 0B00000A:0016 0C00000A:D431 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 100 0 0 10 0
"""
TCP6 = """  sl  local_address                         remote_address                        st tx_queue
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000
   2: 0000000000000000FFFF00000B00000A:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000
"""
UDP = """   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  100: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9 2 0 0
  101: 0B00000A:A1B2 0C00000A:0035 01 00000000:00000000 00:00000000 00000000     0        0 9 2 0 0
"""


def test_listeners_ipv4_ipv6_udp() -> None:
    socks = parse_proc_net("tcp", TCP) + parse_proc_net("tcp6", TCP6) + parse_proc_net("udp", UDP)
    assert Listener("tcp", 22, "0.0.0.0") in socks
    assert Listener("tcp", 25, "127.0.0.1") in socks
    assert Listener("tcp", 8080, "10.0.0.11") in socks
    assert Listener("tcp", 22, "::") in socks
    assert Listener("tcp", 631, "::1") in socks
    assert Listener("tcp", 443, "10.0.0.11") in socks  # an IPv4-mapped IPv6 address
    assert Listener("udp", 53, "0.0.0.0") in socks
    assert all(s.port != 0xD431 and s.port != 0xA1B2 for s in socks)  # established / connected
    out = exposed(socks)
    assert out["tcp/22"] == ["0.0.0.0", "::"]
    assert "tcp/25" not in out and "tcp/631" not in out  # loopback only


def test_ports_against_the_allowlist() -> None:
    secs = {"net-tcp": TCP, "net-tcp6": "", "net-udp": UDP, "net-udp6": ""}
    none = list(port_findings(secs, None))
    assert {f.severity for f in none} == {"info"}
    allowed = list(port_findings(secs, frozenset({"tcp/22", "udp/53"})))
    assert [(f.obj, f.severity) for f in allowed] == [("tcp/8080", "medium")]


def test_accounts() -> None:
    passwd = (
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nsync:x:4:65534:sync:/bin:/bin/sync\n"
        "www-data:x:33:33::/var/www:/usr/sbin/nologin\nbackup:x:34:34::/var/backups:/bin/bash\n"
        "ana:x:1000:1000::/home/ana:/bin/bash\nbroken line\n"
    )
    found = {(f.check, f.obj) for f in account_findings(passwd, "1000")}
    assert found == {("uid0-account", "toor"), ("system-account-shell", "backup")}
    assert {(f.check, f.obj) for f in account_findings(passwd, "500")} >= {("system-account-shell", "backup")}


def test_updates_per_package_manager() -> None:
    apt = (
        "Inst openssl [3.0.14-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
        "Inst bash [5.2.15-2+b7] (5.2.15-2+b8 Debian:12.9/stable [amd64])\n"
    )
    assert parse_updates("apt", apt)[:2] == (2, 1)
    dnf = "\nopenssl.x86_64    1:3.0.7-27.el9   baseos\nkernel.x86_64   5.14.0-427.el9   baseos\n"
    dnf_sec = "RHSA-2024:1234 Important/Sec. openssl-1:3.0.7-27.el9.x86_64\n"
    assert parse_updates("dnf", dnf, dnf_sec)[:2] == (2, 1)
    apk = "Installed:                                Available:\nmusl-1.2.4-r2   < 1.2.4-r3\n"
    assert parse_updates("apk", apk)[:2] == (1, None)


def test_kernels() -> None:
    assert (
        newest_kernel(["6.1.0-9-amd64", "6.1.0-28-amd64", "6.1.0-28-cloud-amd64"], "6.1.0-9-amd64")
        == "6.1.0-28-amd64"
    )
    assert newest_kernel([], "6.1.0-9-amd64") is None
    state, _ = patch_state(
        sections(
            "@@updates\nmanager apt\n@@reboot\nrequired\n@@kernel\n6.1.0-9-amd64\n"
            "@@kernels\n6.1.0-9-amd64\n6.1.0-10-amd64\n"
        )
    )
    assert state.reboot_required is True and state.kernel_outdated


def test_rhel_kernels_and_a_package_manager_that_did_not_answer() -> None:
    running = "5.14.0-362.8.1.el9_3.x86_64"
    installed = [running, "5.14.0-427.13.1.el9_4.x86_64"]
    assert newest_kernel(installed, running) == "5.14.0-427.13.1.el9_4.x86_64"
    assert newest_kernel(["6.1.0-9-amd64"], "6.1.0-28-amd64") == "6.1.0-28-amd64"  # never an older one
    failed, _ = patch_state(sections("@@updates\nmanager apt\nstatus 100\n@@reboot\nnone\n@@kernel\nx\n"))
    assert failed.pending is None and failed.security is None  # not "0 pending"
    dnf, _ = patch_state(
        sections(
            "@@updates\nmanager dnf\nkernel.x86_64  5.14.0-427.el9  baseos\nstatus 100\n"
            "@@security-updates\nstatus 1\n@@reboot\nnone\n"
        )
    )
    assert dnf.pending == 1 and dnf.security is None
    found, judged = patch_findings(failed, [], "none")
    assert "pending-updates" not in judged and "security-updates" not in judged and not found


def test_failed_logins_in_syslog_format_and_counted_once() -> None:
    offset = "+0100"
    local = NOW.astimezone(timezone(timedelta(hours=1)))
    lines = []
    for h in (1, 2, 30):  # two within the day, one older
        t = (local - timedelta(hours=h)).strftime("%b %e %H:%M:%S")
        lines.append(f"{t} web sshd[9]: Invalid user admin from 198.51.100.4 port 4{h}")
        lines.append(
            f"{t} web sshd[9]: Failed password for invalid user admin from 198.51.100.4 port 4{h} ssh2"
        )
    found = list(failed_login_findings(f"log /var/log/auth.log {offset}\n" + "\n".join(lines), NOW, 2))
    assert len(found) == 1 and found[0].title.startswith("2 failed")


def test_failed_logins_count_only_the_last_day() -> None:
    lines = [
        f"{(NOW - timedelta(hours=h)).isoformat()} web sshd[1]: "
        "Failed password for root from 203.0.113.9 port 1 ssh2"
        for h in range(30)
    ]
    found = list(failed_login_findings("log journal\n" + "\n".join(lines), NOW, 10))
    assert len(found) == 1 and found[0].title.startswith("25 failed")  # hours 0..24
    assert "203.0.113.9 (25)" in found[0].evidence
    assert list(failed_login_findings("log journal\n" + "\n".join(lines[:3]), NOW, 10)) == []


def test_a_scan_cut_short_judges_only_what_it_finished() -> None:
    text = (DATA / "security-scan-debian12.txt").read_text()
    cut = text[: text.index("@@updates")]
    result = parse_scan(cut, NOW, ScanPolicy())
    assert "pending-updates" not in result.assessed and "listening-port" in result.assessed
    assert "uid0-account" not in result.assessed  # the uid-min section was the last: maybe partial


def test_world_writable_paths_are_quoted() -> None:
    cmd = scan_command(("/srv/it's here", "/etc"))
    assert shlex.quote("'/srv/it'\"'\"'s here' /etc") in cmd or "/srv/it" in cmd
    inner = shlex.split(cmd.split("sh -c ", 1)[1].split("; else")[0])[0]
    assert "find '/srv/it'\"'\"'s here' /etc -xdev" in inner  # the script as the host's sh gets it


def test_a_file_cannot_pose_as_a_section() -> None:
    secs = sections(
        "@@world-writable\n/etc/x?@@passwd\n@@passwd\nfake:x:0:0::/:/bin/sh\n@@auth\nunreadable\n"
        "@@id\n0\n@@end\n"
    )
    assert "id" not in secs  # an earlier section's name later on is just text
    assert secs["auth"] == "unreadable\n@@id\n0"

    result = parse_scan(
        "@@uid-min\n1000\n@@updates\n@@world-writable\n"
        + "\n".join(f"/etc/w{i}" for i in range(150))
        + "\n@@auth\nunreadable\n@@end\n",
        NOW,
        ScanPolicy(),
    )
    ww = [f for f in result.findings if f.check == "world-writable"]
    assert len(ww) == 101 and ww[-1].obj == "(more)"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=3000))
def test_garbage_never_raises(text: str) -> None:
    parse_scan(text, NOW, ScanPolicy(frozenset({"tcp/22"})))
    parse_scan("@@sshd-config\n@@file /etc/ssh/sshd_config\n" + text + "\n@@end\n", NOW, ScanPolicy())
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        parse_proc_net(proto, text)
    parse_sshd_t(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(list(sections((DATA / "security-scan-debian12.txt").read_text()))), max_size=20)
)
def test_sections_in_any_order_never_raise(names: list[str]) -> None:
    parse_scan("\n".join(f"@@{n}\nx y z\n0: 00:00 00:00 0A" for n in names), NOW, ScanPolicy())
