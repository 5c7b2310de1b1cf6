"""The SSH engine against OpenSSH's own sshd on loopback aliases: values, faults, recovery."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path

import asyncssh
import psutil

from tests.integration.conftest import Sshd
from tomconsole.collectors.ssh import SshCollector
from tomconsole.models import HostState
from tomconsole.probes.linux import parse_df_line


def _meminfo_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


async def test_values_match_the_machine(sshd: Sshd) -> None:
    c = sshd.collector(sshd.normal[0])
    try:
        obs = await c.collect()
    finally:
        await c.close()
    assert obs.state is HostState.UP, obs.reason
    s = obs.sample
    assert s is not None
    assert s.mem_total_bytes == _meminfo_total()
    df = subprocess.run(["df", "-P"], capture_output=True, text=True, check=True).stdout
    expected = {fs.mount for line in df.splitlines() if (fs := parse_df_line(line))}
    assert {fs.mount for fs in s.filesystems or ()} == expected
    assert s.ncpu == psutil.cpu_count()
    assert s.cpu_pct is not None and 0.0 <= s.cpu_pct <= 100.0
    assert s.uptime_s is not None and abs(s.uptime_s - (time.time() - psutil.boot_time())) < 5
    nics = set(psutil.net_io_counters(pernic=True)) - {"lo"}
    assert {i.name for i in s.interfaces} == nics
    assert s.processes is not None and s.processes > 0
    assert s.kernel == Path("/proc/sys/kernel/osrelease").read_text().strip()


async def test_connection_is_reused_across_rounds(sshd: Sshd) -> None:
    c = sshd.collector(sshd.normal[1])
    try:
        first = await c.collect()
        before = set(sshd.fleet.session_pids())
        for _ in range(3):
            again = await c.collect()
            assert again.state is HostState.UP
        assert set(sshd.fleet.session_pids()) == before
    finally:
        await c.close()
    assert first.state is HostState.UP


async def test_unknown_host_key_shows_fingerprint(sshd: Sshd, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    c = sshd.collector(sshd.normal[0], known_hosts=(str(empty),))
    obs = await c.collect()
    await c.close()
    assert obs.state is HostState.HOSTKEY_UNKNOWN
    real = asyncssh.read_public_key(f"{sshd.fleet.host_key}.pub").get_fingerprint()
    assert obs.extra["fingerprint"] == real
    assert real in (obs.reason or "")


async def test_changed_host_key_refuses_to_connect(sshd: Sshd, tmp_path: Path) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[{sshd.normal[0]}]:{sshd.fleet.port} {other}")
    c = sshd.collector(sshd.normal[0], known_hosts=(str(kh),))
    obs = await c.collect()
    await c.close()
    assert obs.state is HostState.HOSTKEY_CHANGED
    assert obs.sample is None


async def test_wrong_key_is_auth_failed(sshd: Sshd, tmp_path: Path) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(tmp_path / "id"))
    c = sshd.collector(sshd.normal[0], identity_file=str(tmp_path / "id"))
    obs = await c.collect()
    await c.close()
    assert obs.state is HostState.AUTH_FAILED


async def test_closed_port_is_unreachable_and_backs_off(sshd: Sshd) -> None:
    from tests.harness.sshd import free_port

    c = sshd.collector(sshd.normal[0], port=free_port(sshd.normal[0]))
    first = await c.collect()
    second = await c.collect()
    await c.close()
    assert first.state is HostState.UNREACHABLE
    assert "refused" in (first.reason or "")
    assert second.state is HostState.UNREACHABLE
    assert "retry in" in (second.reason or "")


def _hang_processes(sshd: Sshd) -> list[psutil.Process]:
    """The hung df's processes under our own daemons (not another test run's on this machine)."""
    out = []
    for sup in sshd.fleet.procs:
        try:
            kids = psutil.Process(sup.pid).children(recursive=True)
        except psutil.Error:
            continue
        for p in kids:
            try:
                cmd = " ".join(p.cmdline())
            except psutil.Error:
                continue
            if "sleep 600" in cmd or "tomconsole-hang-marker" in cmd:
                out.append(p)
    return out


async def test_hung_command_hits_deadline_and_leaves_nothing_behind(sshd: Sshd) -> None:
    c = sshd.collector(sshd.hang, command_timeout=2.0)
    t0 = time.monotonic()
    obs = await c.collect()
    elapsed = time.monotonic() - t0
    await c.close()
    assert obs.state is HostState.TIMEOUT
    assert elapsed < 10  # bounded by the deadline, not by the hung command
    deadline = time.monotonic() + 15
    while _hang_processes(sshd) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert _hang_processes(sshd) == []


async def test_hung_host_does_not_delay_others(sshd: Sshd) -> None:
    hung = sshd.collector(sshd.hang, command_timeout=3.0)
    fine = sshd.collector(sshd.normal[2])
    done: dict[str, float] = {}
    t0 = time.monotonic()

    async def run(name: str, c: object) -> None:
        await c.collect()  # type: ignore[attr-defined]
        done[name] = time.monotonic() - t0

    await asyncio.gather(run("hung", hung), run("fine", fine))
    await hung.close()
    await fine.close()
    assert done["fine"] < done["hung"]


async def test_flood_of_output_is_capped(sshd: Sshd) -> None:
    c = sshd.collector(sshd.flood, output_cap_bytes=64 * 1024, command_timeout=10.0)
    obs = await c.collect()
    await c.close()
    assert obs.state is HostState.STALE
    assert "exceeded 64 KiB" in (obs.reason or "")


async def test_connection_dropped_mid_poll_recovers(sshd: Sshd) -> None:
    c = sshd.collector(sshd.normal[3])
    try:
        assert (await c.collect()).state is HostState.UP
        before = set(sshd.fleet.session_pids())
        assert before
        for pid in before:  # only the session processes of daemons we started
            # A session of an earlier test may end on its own between listing and killing.
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()
        dropped = await c.collect()
        assert dropped.state is HostState.UNREACHABLE
        assert "connection lost" in (dropped.reason or "")
        back = await c.collect()
        assert back.state is HostState.UP, back.reason
        assert back.sample is not None
    finally:
        await c.close()


async def test_probe_that_cannot_start_says_why(sshd: Sshd) -> None:
    c = sshd.collector(sshd.broken)
    obs = await c.collect()
    again = await c.collect()  # the connection is kept; the probe is retried
    await c.close()
    assert obs.state is HostState.STALE
    assert (obs.reason or "").startswith("probe exited")
    assert "not found" in (obs.reason or "")
    assert again.state is HostState.STALE


def _negotiated_cipher(c: SshCollector) -> str:
    assert c._conn is not None  # the kept connection; nothing public names its cipher
    return str(c._conn.get_extra_info("send_cipher"))


async def test_aes_gcm_is_offered_first(sshd: Sshd) -> None:
    c = sshd.collector(sshd.normal[2])
    try:
        obs = await c.collect()
        assert obs.state is HostState.UP, obs.reason
        assert _negotiated_cipher(c) == "aes128-gcm@openssh.com"
    finally:
        await c.close()


async def test_ciphers_from_ssh_config_keep_their_order(sshd: Sshd, tmp_path: Path) -> None:
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Ciphers chacha20-poly1305@openssh.com,aes128-gcm@openssh.com\n")
    c = sshd.collector(sshd.normal[2], ssh_config=(str(cfg),))
    try:
        obs = await c.collect()
        assert obs.state is HostState.UP, obs.reason
        assert _negotiated_cipher(c) == "chacha20-poly1305@openssh.com"
    finally:
        await c.close()
