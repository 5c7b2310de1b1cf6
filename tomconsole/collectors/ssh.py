"""One SSH connection per host, kept open, and the long-lived probe process on it.

Everything that can go wrong with a host ends here as an Observation with a state
and a human reason; nothing raises into the scheduler. Host keys are always checked
against known_hosts files we read ourselves (never `known_hosts=None`, even when an
ssh_config says `UserKnownHostsFile none`), so an unknown key and a changed key can
be told apart and shown with the server's fingerprint.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh

from tomconsole.models import CpuTimes, HostSample, HostState, Observation
from tomconsole.probes.linux import PROBE_COMMAND, cpu_percent, parse_reply, request_line

DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts")
FACTS_EVERY = 120
PRIME_DELAY_S = 0.5


@dataclass(frozen=True)
class SshTarget:
    """Everything needed to reach one host; None means 'as ~/.ssh/config or ssh would'."""

    name: str
    address: str
    port: int | None = None
    user: str | None = None
    identity_file: str | None = None
    known_hosts: tuple[str, ...] | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 10.0
    keepalive: float = 15.0
    disk_every: int = 6
    output_cap_bytes: int = 256 * 1024
    interval: float = 5.0


class OutputCapExceeded(Exception):
    pass


class ProbeEnded(Exception):
    """The remote probe process exited (no awk, a broken shell, killed on the host)."""


_KNOWN_HOSTS_CACHE: dict[tuple[tuple[str, float, int], ...], asyncssh.SSHKnownHosts] = {}


def read_known_hosts(paths: tuple[str, ...] | None) -> asyncssh.SSHKnownHosts:
    """The readable known_hosts files as one set (missing files are simply empty).

    Parsed once and shared by every host that names the same files, until a file changes:
    a fleet of 500 hosts with one 500-line known_hosts would otherwise parse 250,000 keys.
    """
    files = [Path(p).expanduser() for p in (paths if paths is not None else DEFAULT_KNOWN_HOSTS)]
    stamp = []
    for f in files:
        try:
            st = f.stat()
            stamp.append((str(f), st.st_mtime, st.st_size))
        except OSError:
            stamp.append((str(f), -1.0, -1))
    key = tuple(stamp)
    cached = _KNOWN_HOSTS_CACHE.get(key)
    if cached is not None:
        return cached
    chunks = []
    for f in files:
        with contextlib.suppress(OSError):
            chunks.append(f.read_text(encoding="utf-8", errors="replace"))
    parsed = asyncssh.import_known_hosts("\n".join(chunks))
    if len(_KNOWN_HOSTS_CACHE) > 64:
        _KNOWN_HOSTS_CACHE.clear()
    _KNOWN_HOSTS_CACHE[key] = parsed
    return parsed


def backoff_delay(failures: int, rng: random.Random, base: float = 1.0, cap: float = 60.0) -> float:
    """Jittered exponential backoff: ~base*2^n, spread +-50% so a fleet does not reconnect in step."""
    raw = min(cap, base * (2 ** max(0, failures - 1)))
    return float(raw * rng.uniform(0.5, 1.5))


class SshCollector:
    """Samples one host over one kept-open connection and one long-lived probe process."""

    def __init__(self, target: SshTarget, handshakes: asyncio.Semaphore) -> None:
        self.target = target
        self.name = target.name
        self.interval = target.interval
        self._handshakes = handshakes
        self._conn: asyncssh.SSHClientConnection | None = None
        self._proc: asyncssh.SSHClientProcess[bytes] | None = None
        self._seq = 0
        self._failures = 0
        self._retry_at = 0.0
        self._last_fail: Observation | None = None
        self._rng = random.Random()
        self._prev_cpu: CpuTimes | None = None
        self._carry: HostSample | None = None  # slow-changing parts from the last full sample

    # -- connection -------------------------------------------------------------------------

    def _connect_kwargs(self) -> dict[str, Any]:
        t = self.target
        kw: dict[str, Any] = {
            "known_hosts": read_known_hosts(t.known_hosts),
            "connect_timeout": t.connect_timeout,
            "login_timeout": t.connect_timeout,
            "keepalive_interval": t.keepalive or None,
            "keepalive_count_max": 3,
        }
        if t.port is not None:
            kw["port"] = t.port
        if t.user is not None:
            kw["username"] = t.user
        if t.identity_file is not None:
            kw["client_keys"] = [str(Path(t.identity_file).expanduser())]
        return kw

    async def _hostkey_observation(self, kh: asyncssh.SSHKnownHosts) -> Observation:
        t = self.target
        port = t.port if t.port not in (None, 22) else None
        keys, cas, *_ = kh.match(t.address, t.address, port)
        fingerprint = "unknown"
        with contextlib.suppress(Exception):
            async with asyncio.timeout(t.connect_timeout):
                key = await asyncssh.get_server_host_key(t.address, t.port or ())
                if key is not None:
                    fingerprint = key.get_fingerprint()
        if keys or cas:
            return Observation(
                t.name,
                HostState.HOSTKEY_CHANGED,
                f"host key changed: server offers {fingerprint}, known_hosts has another key "
                "(possible man-in-the-middle); not connecting",
                extra={"fingerprint": fingerprint},
            )
        return Observation(
            t.name,
            HostState.HOSTKEY_UNKNOWN,
            f"host key {fingerprint} is not in known_hosts; verify it and add it to accept",
            extra={"fingerprint": fingerprint},
        )

    async def _connect(self) -> Observation | None:
        """Open the connection and probe process; an Observation says why it failed."""
        t = self.target
        kw = self._connect_kwargs()
        try:
            async with self._handshakes:
                async with asyncio.timeout(t.connect_timeout * 2):
                    conn = await asyncssh.connect(t.address, **kw)
        except asyncssh.HostKeyNotVerifiable:
            return await self._hostkey_observation(kw["known_hosts"])
        except asyncssh.PermissionDenied as exc:
            return Observation(t.name, HostState.AUTH_FAILED, f"authentication refused: {exc.reason}")
        except TimeoutError:
            return Observation(t.name, HostState.TIMEOUT, f"no SSH handshake within {t.connect_timeout:g} s")
        except (OSError, asyncssh.Error) as exc:
            return Observation(t.name, HostState.UNREACHABLE, _describe(exc))
        self._conn = conn
        return await self._start_probe()

    async def _start_probe(self) -> Observation | None:
        assert self._conn is not None
        try:
            self._proc = await self._conn.create_process(PROBE_COMMAND, encoding=None)
        except (OSError, asyncssh.Error) as exc:
            await self._drop()
            return Observation(self.name, HostState.UNREACHABLE, f"cannot start probe: {_describe(exc)}")
        self._prev_cpu = None
        return None

    async def _drop_probe(self) -> None:
        proc, self._proc = self._proc, None
        await _close_quietly(proc)

    async def _drop(self) -> None:
        await self._drop_probe()
        conn, self._conn = self._conn, None
        await _close_quietly(conn)

    async def close(self) -> None:
        await self._drop()

    # -- one request ------------------------------------------------------------------------

    async def _ask(self, *, disks: bool, facts: bool) -> str:
        assert self._proc is not None
        self._seq += 1
        end = f"\n$ {self._seq}\n".encode()
        self._proc.stdin.write(request_line(self._seq, disks=disks, facts=facts).encode())
        buf = bytearray()
        while end not in buf:
            chunk = await self._proc.stdout.read(65536)
            if not chunk:
                raise ProbeEnded(await self._probe_error())
            buf += chunk
            if len(buf) > self.target.output_cap_bytes:
                raise OutputCapExceeded
        return buf.decode("utf-8", errors="replace")

    async def _probe_error(self) -> str:
        """Why the probe ended, from its exit status and the start of its stderr."""
        assert self._proc is not None
        err = b""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1):
                err = await self._proc.stderr.read(300)
        status = self._proc.exit_status
        text = err.decode("utf-8", errors="replace").strip().splitlines()
        detail = text[0] if text else "no message"
        return f"probe exited ({'status ' + str(status) if status is not None else 'no status'}): {detail}"

    async def _sample(self) -> HostSample | str:
        """One full sample, or a reason it could not be read."""
        carry = self._carry
        disks = carry is None or carry.filesystems is None or self._seq % self.target.disk_every == 0
        facts = carry is None or self._seq % FACTS_EVERY == 0
        text = await self._ask(disks=disks, facts=facts)
        if self._prev_cpu is None:  # a fresh process: a second look gives a CPU rate now
            first = parse_reply(text, datetime.now(UTC))
            self._prev_cpu = first.sample.cpu_times if first.sample else None
            await asyncio.sleep(PRIME_DELAY_S)
            text = await self._ask(disks=False, facts=False)
            if first.sample is not None:
                carry = first.sample
        result = parse_reply(text, datetime.now(UTC))
        if result.sample is None:
            return f"unreadable reply: {result.error}"
        sample = result.sample
        cpu = cpu_percent(self._prev_cpu, sample.cpu_times)
        self._prev_cpu = sample.cpu_times
        if carry is not None:
            sample = dataclasses.replace(
                sample,
                filesystems=sample.filesystems if sample.filesystems is not None else carry.filesystems,
                processes=sample.processes if sample.processes is not None else carry.processes,
                os=sample.os or carry.os,
                kernel=sample.kernel or carry.kernel,
            )
        sample = dataclasses.replace(sample, cpu_pct=cpu)
        self._carry = sample
        return sample

    async def collect(self) -> Observation:
        t = self.target
        if self._conn is None:
            now = time.monotonic()
            if now < self._retry_at and self._last_fail is not None:
                wait = self._retry_at - now
                return dataclasses.replace(
                    self._last_fail, reason=f"{self._last_fail.reason} (retry in {wait:.0f} s)"
                )
            failed = await self._connect()
            if failed is not None:
                self._failures += 1
                self._retry_at = time.monotonic() + backoff_delay(self._failures, self._rng)
                self._last_fail = failed
                return failed
        elif self._proc is None:
            failed = await self._start_probe()
            if failed is not None:
                return failed
        try:
            async with asyncio.timeout(t.command_timeout):
                got = await self._sample()
        except TimeoutError:
            await self._drop_probe()  # closing the channel ends the remote awk as well
            return Observation(t.name, HostState.TIMEOUT, f"no reply within {t.command_timeout:g} s")
        except ProbeEnded as exc:
            await self._drop_probe()
            return Observation(t.name, HostState.STALE, str(exc))
        except OutputCapExceeded:
            await self._drop_probe()
            return Observation(
                t.name,
                HostState.STALE,
                f"reply exceeded {t.output_cap_bytes // 1024} KiB; discarded, probe restarted",
            )
        except (OSError, asyncssh.Error) as exc:
            await self._drop()
            return Observation(t.name, HostState.UNREACHABLE, f"connection lost: {_describe(exc)}")
        if isinstance(got, str):
            return Observation(t.name, HostState.STALE, got)
        self._failures = 0
        self._last_fail = None
        return Observation(t.name, HostState.UP, None, got)


async def _close_quietly(
    thing: asyncssh.SSHClientProcess[bytes] | asyncssh.SSHClientConnection | None,
) -> None:
    """Close a channel or connection, waiting briefly; a peer that is gone is not an error."""
    if thing is None:
        return
    thing.close()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await thing.wait_closed()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, BrokenPipeError | ConnectionResetError | asyncssh.ConnectionLost):
        return "connection closed by the remote side"
    if isinstance(exc, asyncssh.DisconnectError):
        return f"disconnected: {exc.reason}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    text = str(exc) or type(exc).__name__
    return text
