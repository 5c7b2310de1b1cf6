"""Faults on purpose against OpenSSH's sshd on loopback: hung probes, frozen sessions, dark
hosts, unusable key files, host keys behind ~/.ssh/config ports and ProxyJump (issue 6).

Tests wait on state (a process gone, an observation arrived), never on sleeps; the only
clocks are generous hang guards, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import psutil
import pytest

from tests.harness.sshd import USER
from tests.integration.conftest import Sshd
from tomconsole.collectors.ssh import SshCollector, SshTarget
from tomconsole.models import HostState, Observation

HANG_GUARD_S = 90.0  # far beyond any deadline used here: only a regression reaches it


def _fleet_descendants(sshd: Sshd) -> list[psutil.Process]:
    out = []
    for sup in sshd.fleet.procs:
        with contextlib.suppress(psutil.Error):
            out += psutil.Process(sup.pid).children(recursive=True)
    return out


def _hang_processes(sshd: Sshd) -> list[psutil.Process]:
    """The hung df's processes on our daemons (orphans are re-parented to their subreaper)."""
    out = []
    for p in _fleet_descendants(sshd):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.cmdline())
            if "sleep 600" in cmd or "tomconsole-hang-marker" in cmd:
                out.append(p)
    return out


async def _until(check: Callable[[], bool], what: str) -> None:
    """Wait for a state, polling; fail (not hang) if it never comes."""
    async with asyncio.timeout(HANG_GUARD_S):
        while not check():
            await asyncio.sleep(0.2)
    assert check(), what


async def test_timed_out_rounds_leave_no_process_on_the_host(sshd: Sshd) -> None:
    c = sshd.collector(sshd.hang, command_timeout=1.5)
    try:
        for _ in range(3):
            obs = await c.collect()
            assert obs.state is HostState.TIMEOUT, obs.reason
        await _until(lambda: not _hang_processes(sshd), "hung df processes left on the host")
        assert _hang_processes(sshd) == []
    finally:
        await c.close()
        for p in _hang_processes(sshd):  # only if the test failed: ours, by PID
            with contextlib.suppress(psutil.Error):
                p.kill()


# -- a frozen host -------------------------------------------------------------------------


def _session_processes(sshd: Sshd, address: str) -> list[psutil.Process]:
    """The sshd processes holding an established connection on `address`."""
    out = []
    for p in _fleet_descendants(sshd):
        with contextlib.suppress(psutil.Error):
            for conn in p.net_connections(kind="tcp"):
                if (
                    conn.status == psutil.CONN_ESTABLISHED
                    and conn.laddr
                    and (conn.laddr.ip, conn.laddr.port) == (address, sshd.fleet.port)
                ):
                    out.append(p)
                    break
    return out


@contextlib.contextmanager
def _frozen(procs: list[psutil.Process]) -> Iterator[None]:
    for p in procs:
        p.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for p in procs:
            with contextlib.suppress(psutil.Error):
                p.send_signal(signal.SIGCONT)


async def _round(collectors: dict[str, SshCollector]) -> tuple[dict[str, Observation], list[str]]:
    """One concurrent round; the observations and the order in which they arrived."""
    order: list[str] = []
    got: dict[str, Observation] = {}

    async def one(name: str, c: SshCollector) -> None:
        got[name] = await c.collect()
        order.append(name)

    async with asyncio.timeout(HANG_GUARD_S):
        await asyncio.gather(*(one(n, c) for n, c in collectors.items()))
    return got, order


async def test_frozen_host_times_out_and_does_not_delay_the_others(sshd: Sshd) -> None:
    frozen, others = sshd.normal[0], sshd.normal[1:3]
    # keepalive off: nothing but our own deadlines can end a wait on the frozen peer
    cs = {a: sshd.collector(a, command_timeout=2.0, keepalive=0) for a in [frozen, *others]}
    try:
        first, _ = await _round(cs)
        assert all(o.state is HostState.UP for o in first.values()), first
        procs = _session_processes(sshd, frozen)
        assert procs, "no sshd session found for the host to freeze"
        previous = first
        with _frozen(procs):
            # a read, then opening a channel for a new probe: each under its own deadline
            for expected in ("no reply within 2 s", "probe did not start within 2 s"):
                got, order = await _round(cs)
                assert got[frozen].state is HostState.TIMEOUT, got[frozen]
                assert got[frozen].reason == expected
                for a in others:
                    assert got[a].state is HostState.UP, got[a]
                    s, before = got[a].sample, previous[a].sample
                    assert s is not None and before is not None and s.sampled_at > before.sampled_at
                assert order[-1] == frozen  # everyone else observed before the frozen host's deadline
                previous = got
            # the frozen session was given up; a new one (not frozen) brings the host back
            got, _ = await _round(cs)
            assert got[frozen].state is HostState.UP, got[frozen]
    finally:
        for c in cs.values():
            await c.close()


# -- dark hosts ----------------------------------------------------------------------------


@contextlib.contextmanager
def _dark_host(address: str) -> Iterator[int]:
    """A port on `address` that drops every SYN: a listener with listen(0) whose accept queue
    is full (and never accepted), so the kernel drops further SYNs (tcp_abort_on_overflow=0)."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind((address, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect((address, port))
            fillers.append(s)
        probe = socket.socket()
        probe.settimeout(1.5)
        try:
            with pytest.raises(TimeoutError):
                probe.connect((address, port))
        finally:
            probe.close()
        yield port
    finally:
        for s in fillers:
            s.close()
        listener.close()


async def test_dark_hosts_do_not_starve_the_handshake_slots(sshd: Sshd) -> None:
    handshakes = asyncio.Semaphore(2)
    dark_address = "127.0.9.9"
    with _dark_host(dark_address) as dark_port:
        cs: dict[str, SshCollector] = {}
        for i in range(12):  # listed first
            t = sshd.target(dark_address, name=f"dark-{i}", port=dark_port, connect_timeout=8.0)
            cs[t.name] = SshCollector(t, handshakes)
        healthy = sshd.normal[:3]
        for a in healthy:
            cs[a] = SshCollector(sshd.target(a, connect_timeout=8.0), handshakes)
        try:
            got, order = await _round(cs)
        finally:
            for c in cs.values():
                await c.close()
    for a in healthy:
        assert got[a].state is HostState.UP, got[a]
    for i in range(12):
        dark = got[f"dark-{i}"]
        assert dark.state is HostState.TIMEOUT and "TCP" in (dark.reason or ""), dark
    assert set(order[: len(healthy)]) == set(healthy), order  # up before any dark host gave up


# -- key files -----------------------------------------------------------------------------


async def test_missing_identity_file_is_auth_failed_naming_it(sshd: Sshd, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-key"
    c = sshd.collector(sshd.normal[0], identity_file=str(missing))
    obs = await c.collect()
    await c.close()
    assert obs.state is HostState.AUTH_FAILED
    assert obs.reason == f"identity file {missing} not found"


async def test_encrypted_identity_file_without_agent_is_auth_failed(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(key)], check=True)
    c = sshd.collector(sshd.normal[0], identity_file=str(key))
    obs = await c.collect()
    await c.close()
    assert obs.state is HostState.AUTH_FAILED
    assert obs.reason == f"identity file {key} is encrypted and no ssh-agent key matches"


async def test_encrypted_identity_file_held_by_the_agent_logs_in(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "id_agent"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(key)], check=True)
    auth = sshd.fleet.workdir / "authorized_keys"
    before = auth.read_text()
    agent_sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(agent_sock)], stdout=subprocess.DEVNULL)
    try:
        await _until(agent_sock.exists, "ssh-agent socket")
        askpass = tmp_path / "askpass"
        askpass.write_text("#!/bin/sh\necho secret\n")
        askpass.chmod(0o700)
        env = {**os.environ, "SSH_AUTH_SOCK": str(agent_sock), "SSH_ASKPASS": str(askpass)}
        env["SSH_ASKPASS_REQUIRE"] = "force"
        subprocess.run(
            ["ssh-add", str(key)], env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL
        )
        auth.write_text(before + Path(f"{key}.pub").read_text())
        monkeypatch.setenv("SSH_AUTH_SOCK", str(agent_sock))
        c = sshd.collector(sshd.normal[0], identity_file=str(key))
        obs = await c.collect()
        await c.close()
    finally:
        auth.write_text(before)
        agent.terminate()
        agent.wait()
    assert obs.state is HostState.UP, obs.reason


# -- host keys through ~/.ssh/config -------------------------------------------------------


def _ssh_config(sshd: Sshd, tmp_path: Path) -> Path:
    """`direct` is on a non-22 port from the config only; `behind` is reached through `jump`."""
    f = sshd.fleet
    cfg = tmp_path / "ssh_config"
    cfg.write_text(
        f"Host direct\n    HostName {sshd.normal[0]}\n    Port {f.port}\n\n"
        f"Host jump\n    HostName {sshd.normal[1]}\n    Port {f.port}\n    User {USER}\n"
        f"    IdentityFile {f.identity}\n    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {f.known_hosts}\n\n"
        f"Host behind\n    HostName {sshd.normal[0]}\n    Port {f.port}\n    ProxyJump jump\n"
    )
    return cfg


def _known_hosts(tmp_path: Path, sshd: Sshd, kind: str) -> Path:
    kh = tmp_path / f"known_hosts.{kind}"
    if kind == "changed":  # another key where the real one should be: what an attacker shows
        other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
        kh.write_text(f"[{sshd.normal[0]}]:{sshd.fleet.port} {other}")
    elif kind == "missing":
        kh.write_text("")
    else:
        kh.write_text(sshd.fleet.known_hosts.read_text())
    return kh


@pytest.mark.parametrize("name", ["direct", "behind"])
@pytest.mark.parametrize(
    ("kind", "state"),
    [("changed", HostState.HOSTKEY_CHANGED), ("missing", HostState.HOSTKEY_UNKNOWN), ("right", HostState.UP)],
)
async def test_host_key_is_classified_with_the_port_and_route_used(
    sshd: Sshd, tmp_path: Path, name: str, kind: str, state: HostState
) -> None:
    cfg = _ssh_config(sshd, tmp_path)
    kw = sshd.fleet.target_kwargs()
    target = SshTarget(
        name=name,
        address=name,  # the port (and the jump) come from the ssh_config file only
        user=str(kw["user"]),
        identity_file=str(kw["identity_file"]),
        known_hosts=(str(_known_hosts(tmp_path, sshd, kind)),),
        ssh_config=(str(cfg),),
        connect_timeout=5.0,
        command_timeout=5.0,
    )
    c = SshCollector(target, asyncio.Semaphore(2))
    obs = await c.collect()
    await c.close()
    assert obs.state is state, obs.reason
    if state is not HostState.UP:
        real = asyncssh.read_public_key(f"{sshd.fleet.host_key}.pub").get_fingerprint()
        assert obs.extra["fingerprint"] == real
        assert f"[{sshd.normal[0]}]:{sshd.fleet.port}" in (obs.reason or "")


@pytest.mark.parametrize(
    ("kind", "state"), [("changed", HostState.HOSTKEY_CHANGED), ("missing", HostState.HOSTKEY_UNKNOWN)]
)
async def test_host_key_port_from_the_users_own_ssh_config(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, state: HostState
) -> None:
    """The default ~/.ssh/config (no ssh_config set), as an operator's machine has it."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(_ssh_config(sshd, tmp_path).read_text())
    monkeypatch.setenv("HOME", str(home))
    kw = sshd.fleet.target_kwargs()
    target = SshTarget(
        name="direct",
        address="direct",
        user=str(kw["user"]),
        identity_file=str(kw["identity_file"]),
        known_hosts=(str(_known_hosts(tmp_path, sshd, kind)),),
        connect_timeout=5.0,
    )
    c = SshCollector(target, asyncio.Semaphore(2))
    obs = await c.collect()
    await c.close()
    assert obs.state is state, obs.reason
