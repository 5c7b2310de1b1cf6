"""One SSH connection per host, kept open, and the long-lived probe process on it.

Everything that can go wrong with a host ends here as an Observation with a state
and a human reason; nothing raises into the scheduler. Host keys are always checked
against known_hosts files we read ourselves (never `known_hosts=None`, even when an
ssh_config says `UserKnownHostsFile none`; see ssh_keys.py), with the name, address and
port asyncssh actually connects to (after ~/.ssh/config's HostName, Port and ProxyJump).

Every remote step has a deadline: the TCP connect (`connect_timeout`, outside the
handshake cap, so a host that never answers a SYN holds no handshake slot), the SSH
handshake and login (`connect_timeout`, holding one slot), starting the probe and each
reply (`command_timeout`). A probe given up on is signalled (KILL, which sshd delivers
to the session's process group; see probes/linux.py for why df stays in that group)
and its channel closed, in the background, so the observation is not delayed by a peer
that no longer answers. We do not use a pty instead: sshd forwards signals since
OpenSSH 7.9, a pty would echo our requests and rewrite line ends, and its hang-up
would not reach a process group other than the foreground one either. Where a server
ignores the signal, the remote `timeout` still ends df and awk dies on its closed pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncssh

from tomconsole.collectors.ssh_keys import (
    HostKeyWitness,
    agent_key_for,
    read_identity,
    read_known_hosts,
)
from tomconsole.models import CpuTimes, HostSample, HostState, Observation
from tomconsole.probes.linux import PROBE_COMMAND, cpu_percent, parse_reply, request_line
from tomconsole.probes.processes import ProcessTable, parse_top, top_request

FACTS_EVERY = 120
TOP_GAP_S = 1.0  # a process table's CPU % is over at least this long
TOP_STALE_S = 10.0  # ... and at most this long (else two looks, TOP_GAP_S apart)
PRIME_DELAY_S = 0.5
CLEANUP_S = 3.0  # how long a background close waits for a peer's answer

log = logging.getLogger(__name__)


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
    ssh_config: tuple[str, ...] | None = None  # None: ~/.ssh/config, as ssh would


class OutputCapExceeded(Exception):
    pass


class ProbeEnded(Exception):
    """The remote probe process exited (no awk, a broken shell, killed on the host)."""


def backoff_delay(failures: int, rng: random.Random, base: float = 1.0, cap: float = 60.0) -> float:
    """Jittered exponential backoff: ~base*2^n, spread +-50% so a fleet does not reconnect in step."""
    raw = min(cap, base * (2 ** max(0, failures - 1)))
    return float(raw * rng.uniform(0.5, 1.5))


# -- identity files -----------------------------------------------------------------------


# -- event loop -----------------------------------------------------------------------------


def install_uvloop() -> bool:
    """Make later `asyncio.run()` calls (Textual's `App.run()` is one) use uvloop; False if absent.

    Opt-in, for the process's entry point to call before it starts its loop; nothing in the
    collectors depends on which loop runs them. uvloop is a dependency where it builds (not
    on Windows).
    """
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


# -- ciphers --------------------------------------------------------------------------------

# AES-GCM offered first. asyncssh builds chacha20-poly1305 out of separate ChaCha20 and
# Poly1305 calls, five cipher contexts per packet made in Python, while an AES-GCM packet is
# one call into OpenSSL: at 500 hosts that was the largest single item of client CPU per
# sample (bench/run.py). Both are AEAD ciphers in OpenSSH's own default list; the set
# allowed stays asyncssh's (or ssh_config's Ciphers, whose order is then kept as written);
# only the order we offer changes. Host-key checking is untouched.
PREFERRED_CIPHERS = (b"aes128-gcm@openssh.com", b"aes256-gcm@openssh.com")


def cipher_preference(allowed: Sequence[bytes]) -> list[str]:
    """`allowed` with the AES-GCM ciphers it holds moved to the front, as asyncssh takes them."""
    first = [c for c in PREFERRED_CIPHERS if c in allowed]
    return [c.decode("ascii") for c in (*first, *(c for c in allowed if c not in first))]


# -- TCP ------------------------------------------------------------------------------------


class _TcpTimeout(Exception):
    """No TCP connection within the connect timeout (a dark host drops our SYNs)."""


async def _open_tcp(host: str, port: int, limit_s: float) -> socket.socket:
    """A connected non-blocking socket, opened without holding a handshake slot."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(limit_s):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            last: OSError = OSError(f"cannot resolve {host}")
            for family, kind, proto, _, addr in infos:
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, addr)
                except OSError as exc:
                    sock.close()
                    last = exc
                    continue
                except BaseException:
                    sock.close()
                    raise
                return sock
            raise last
    except TimeoutError:
        raise _TcpTimeout from None


# -- the probe's channel ----------------------------------------------------------------------


class _Ended(Exception):
    """The probe's output is over (EOF, or its channel closed cleanly)."""


STDERR_KEEP = 300  # bytes of the probe's stderr kept, to say why it ended


class _ProbeChannel(asyncssh.SSHClientSession[bytes]):
    """The probe's channel, read as a session rather than through asyncssh's process streams.

    The replies arrive as channel data, and this hands each one over whole: data accumulates
    until the awaited end marker is in it, then one future is resolved. The stream layer
    (SSHClientProcess's readers, their waiters and pause checks, our read loop) cost about a
    twentieth of client CPU per sample at 500 hosts and bought nothing here: one reader, one
    request at a time, a reply in one packet. stderr is kept (its first bytes) to say why a
    probe ended.
    """

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None
        self._buf = b""
        self._end = b""
        self._reply: asyncio.Future[bytes] | None = None
        self._over: BaseException | None = None  # why no more output will come
        self.stderr = b""

    def expect(self, end: bytes) -> asyncio.Future[bytes]:
        """The reply ending with `end`: its bytes, or OutputCapExceeded, _Ended or a connection error."""
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._buf, self._end, self._reply = b"", end, reply
        if self._over is not None:
            reply.set_exception(self._over)
        return reply

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype is not None:  # stderr
            if len(self.stderr) < STDERR_KEEP:
                self.stderr += data[: STDERR_KEEP - len(self.stderr)]
            return
        reply = self._reply
        if reply is None or reply.done():
            return  # nothing asked (or already answered): the next request starts afresh
        buf = self._buf + data if self._buf else data  # a reply is one packet: usually no join
        if len(buf) > self._cap:
            self._buf = b""
            reply.set_exception(OutputCapExceeded())
        elif self._end in buf:
            self._buf = b""
            reply.set_result(buf)
        else:
            self._buf = buf

    def eof_received(self) -> bool:
        self._finish(_Ended())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(exc if exc is not None else _Ended())

    def _finish(self, why: BaseException) -> None:
        if self._over is None:
            self._over = why
        if self._reply is not None and not self._reply.done():
            self._reply.set_exception(self._over)


# -- the collector --------------------------------------------------------------------------


class SshCollector:
    """Samples one host over one kept-open connection and one long-lived probe process."""

    def __init__(self, target: SshTarget, handshakes: asyncio.Semaphore) -> None:
        self.target = target
        self.name = target.name
        self.interval = target.interval
        self._handshakes = handshakes
        self._conn: asyncssh.SSHClientConnection | None = None
        self._probe: _ProbeChannel | None = None
        self._cleanups: set[asyncio.Task[None]] = set()
        self._seq = 0  # requests sent to the probe (samples and process tables)
        self._rounds = 0  # samples asked for: when disks and facts are due
        self._top_at: float | None = None  # when the probe last gave a process table
        self._failures = 0
        self._retry_at = 0.0
        self._last_fail: Observation | None = None
        self._rng = random.Random()
        self._prev_cpu: CpuTimes | None = None
        self._carry: HostSample | None = None  # slow-changing parts from the last full sample
        self._connecting: asyncio.Future[None] | None = None  # a connect attempt under way
        self._asking = asyncio.Lock()  # one request at a time on the probe (samples, process tables)

    # -- connection -------------------------------------------------------------------------

    def _connect_kwargs(self, witness: HostKeyWitness, client_keys: list[Any] | None) -> dict[str, Any]:
        t = self.target
        kw: dict[str, Any] = {
            "host": t.address,
            "known_hosts": witness.known_hosts,
            "client_factory": lambda: witness,
            "connect_timeout": t.connect_timeout,
            "login_timeout": t.connect_timeout,
            "keepalive_interval": t.keepalive or None,
            "keepalive_count_max": 3,
        }
        # () is asyncssh's "~/.ssh/config, as ssh would"; it must be passed explicitly, or
        # SSHClientConnectionOptions (which we build to learn the route) loads no config at all
        kw["config"] = list(t.ssh_config) if t.ssh_config is not None else ()
        if t.port is not None:
            kw["port"] = t.port
        if t.user is not None:
            kw["username"] = t.user
        if client_keys is not None:
            kw["client_keys"] = client_keys
        return kw

    async def _client_keys(self) -> list[Any] | Observation | None:
        """The configured identity as keys to offer; None for asyncssh's defaults."""
        path = self.target.identity_file
        if path is None:
            return None
        key, problem, encrypted = read_identity(path)
        if key is not None:
            return [key]
        if encrypted:
            agent_key = await agent_key_for(path)
            if agent_key is not None:
                return [agent_key]
            problem = f"identity file {path} is encrypted and no ssh-agent key matches"
        return Observation(self.name, HostState.AUTH_FAILED, problem)

    async def _connect(self) -> Observation | None:
        """Open the connection and probe process; an Observation says why it failed."""
        t = self.target
        keys = await self._client_keys()
        if isinstance(keys, Observation):
            return keys
        witness = HostKeyWitness(read_known_hosts(t.known_hosts))
        kw = self._connect_kwargs(witness, keys)
        try:
            route = await asyncssh.SSHClientConnectionOptions.construct(**kw)
            if not route.config.get("Ciphers"):  # an operator's own order stands
                kw["encryption_algs"] = cipher_preference(route.encryption_algs)
            sock = None
            if not route.tunnel and not route.proxy_command:  # through a jump host asyncssh connects
                sock = await _open_tcp(route.host, route.port, t.connect_timeout)
            try:
                async with self._handshakes:  # held for the SSH handshake and login only
                    async with asyncio.timeout(t.connect_timeout):
                        conn = await asyncssh.connect(sock=sock, **kw)
            except BaseException:
                if sock is not None:
                    sock.close()
                raise
        except asyncssh.HostKeyNotVerifiable:
            return witness.observation(t.name)
        except asyncssh.PermissionDenied as exc:
            return Observation(t.name, HostState.AUTH_FAILED, f"authentication refused: {exc.reason}")
        except _TcpTimeout:
            return Observation(t.name, HostState.TIMEOUT, f"no TCP connection within {t.connect_timeout:g} s")
        except TimeoutError:
            return Observation(t.name, HostState.TIMEOUT, f"no SSH handshake within {t.connect_timeout:g} s")
        except (OSError, asyncssh.Error) as exc:
            return Observation(t.name, HostState.UNREACHABLE, _describe(exc))
        self._conn = conn
        return await self._start_probe()

    async def _start_probe(self) -> Observation | None:
        assert self._conn is not None
        t = self.target
        try:
            probe = _ProbeChannel(t.output_cap_bytes)
            async with asyncio.timeout(t.command_timeout):
                await self._conn.create_session(lambda: probe, PROBE_COMMAND, encoding=None)
            self._probe = probe
        except TimeoutError:
            self._retire_connection()  # a channel that cannot open within the deadline: a dead peer
            return Observation(
                t.name, HostState.TIMEOUT, f"probe did not start within {t.command_timeout:g} s"
            )
        except (OSError, asyncssh.Error) as exc:
            self._retire_connection()
            return Observation(self.name, HostState.UNREACHABLE, f"cannot start probe: {_describe(exc)}")
        self._prev_cpu = None
        self._top_at = None  # a new probe keeps no readings from the old one's
        return None

    def _background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    def _retire_probe(self) -> None:
        """End the probe on the host (signal, then close) without making the caller wait."""
        proc, self._probe = self._probe, None
        if proc is not None:
            self._background(_end_process(proc))

    def _retire_connection(self) -> None:
        self._retire_probe()
        conn, self._conn = self._conn, None
        if conn is not None:
            self._background(_close_quietly(conn))

    async def _settle(self) -> None:
        """Wait for background cleanups (each bounded by CLEANUP_S)."""
        if self._cleanups:
            await asyncio.gather(*list(self._cleanups), return_exceptions=True)

    async def close(self) -> None:
        self._retire_connection()
        await self._settle()

    # -- one request ------------------------------------------------------------------------

    async def _ask(self, *, disks: bool, facts: bool) -> str:
        async with self._asking:
            probe = self._probe
            if probe is None or probe.chan is None:
                raise ProbeEnded("the probe was restarted")
            self._seq += 1
            return await self._request(probe, request_line(self._seq, disks=disks, facts=facts))

    async def _request(self, probe: _ProbeChannel, line: str) -> str:
        assert probe.chan is not None
        reply = probe.expect(f"\n$ {self._seq}\n".encode())
        try:
            probe.chan.write(line.encode())
        except BrokenPipeError:
            if not reply.cancel():
                reply.exception()  # already failed (the probe had ended): retrieved, so never logged
            if self._conn is None or self._conn.is_closed():
                raise  # the connection itself is gone: "connection lost"
            raise ProbeEnded(await _probe_error(probe)) from None  # only the probe ended (no sh, no awk)
        try:
            data = await reply
        except _Ended:
            raise ProbeEnded(await _probe_error(probe)) from None
        return data.decode("utf-8", errors="replace")

    async def _sample(self) -> HostSample | str:
        """One full sample, or a reason it could not be read."""
        carry = self._carry
        self._rounds += 1
        disks = carry is None or carry.filesystems is None or self._rounds % self.target.disk_every == 0
        facts = carry is None or self._rounds % FACTS_EVERY == 0
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
        # One copy per sample (each frozen HostSample costs 15 attribute sets): the CPU rate,
        # plus whatever this light round did not ask for, carried from the last full one.
        changes: dict[str, Any] = {"cpu_pct": cpu_percent(self._prev_cpu, sample.cpu_times)}
        self._prev_cpu = sample.cpu_times
        if carry is not None:
            if sample.filesystems is None:
                changes["filesystems"] = carry.filesystems
            if sample.processes is None:
                changes["processes"] = carry.processes
            if not sample.os:
                changes["os"] = carry.os
            if not sample.kernel:
                changes["kernel"] = carry.kernel
        sample = dataclasses.replace(sample, **changes)
        self._carry = sample
        return sample

    async def collect(self) -> Observation:
        """This host's observation now; never raises for anything the host or network does."""
        try:
            return await self._collect()
        except Exception as exc:  # a surprise is this host's state, never the scheduler's crash
            log.exception("collecting %s", self.name)
            self._retire_connection()
            return Observation(self.name, HostState.ERROR, f"error: {type(exc).__name__}: {exc}")

    async def top(self, by: str) -> ProcessTable | str:
        """The host's top processes from its probe (ordered `by`), or why there are none now.

        Asked between samples: while a sample is under way it waits for it (that wait is not
        the request's deadline, and a request never sent never restarts the probe). A reply
        that does not come within `command_timeout` restarts the probe, as a sample's would.
        CPU % is over the time since the probe's last table; when that was long ago (a screen
        opened again) or a moment ago (the order just switched), it takes a first look and
        a second one TOP_GAP_S later."""
        try:
            now = time.monotonic()
            last = self._top_at
            if last is None or now - last > TOP_STALE_S or now - last < TOP_GAP_S:
                first = await self._top_once(by)
                if isinstance(first, str):
                    return first
                await asyncio.sleep(TOP_GAP_S)
            return await self._top_once(by)
        except Exception as exc:  # a surprise is said on the screen, never raised into it
            log.exception("process table of %s", self.name)
            return f"error: {type(exc).__name__}: {exc}"

    async def _top_once(self, by: str) -> ProcessTable | str:
        t = self.target
        try:
            async with asyncio.timeout(t.command_timeout):
                await self._asking.acquire()
        except TimeoutError:
            return f"the probe has been busy for {t.command_timeout:g} s"
        try:
            probe = self._probe
            if probe is None or probe.chan is None:
                return f"not connected: {self.down_reason or 'connecting'}"
            self._seq += 1
            line = top_request(self._seq, by)
            async with asyncio.timeout(t.command_timeout):
                text = await self._request(probe, line)
        except TimeoutError:
            self._retire_probe()
            return f"no process table within {t.command_timeout:g} s"
        except ProbeEnded as exc:
            return str(exc)
        except OutputCapExceeded:
            self._retire_probe()
            return f"the process table exceeded {t.output_cap_bytes // 1024} KiB"
        except (OSError, asyncssh.Error) as exc:
            return f"connection lost: {_describe(exc)}"
        finally:
            self._asking.release()
        self._top_at = time.monotonic()
        return parse_top(text, datetime.now(UTC))

    @property
    def connection(self) -> asyncssh.SSHClientConnection | None:
        """The kept connection, for other work on this host (a check run from it); None while
        the host is down."""
        return self._conn

    async def connection_soon(self, limit_s: float) -> asyncssh.SSHClientConnection | None:
        """The connection, after waiting (up to `limit_s`) for a connect attempt under way: a
        check run from this host in the first round waits for the host's own connection."""
        attempt = self._connecting
        if self._conn is None and attempt is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit_s):
                    await asyncio.shield(attempt)
        return self._conn

    @property
    def down_reason(self) -> str | None:
        return None if self._last_fail is None else self._last_fail.reason

    def retry_now(self) -> None:
        """Forget the backoff: the next round connects (the operator just fixed something)."""
        self._retry_at = 0.0
        self._last_fail = None

    async def _collect(self) -> Observation:
        t = self.target
        if self._conn is None:
            now = time.monotonic()
            if now < self._retry_at and self._last_fail is not None:
                wait = self._retry_at - now
                return dataclasses.replace(
                    self._last_fail, reason=f"{self._last_fail.reason} (retry in {wait:.0f} s)"
                )
            self._connecting = asyncio.get_running_loop().create_future()
            try:
                failed = await self._connect()
            finally:
                self._connecting.set_result(None)
                self._connecting = None
            if failed is not None:
                self._failures += 1
                self._retry_at = time.monotonic() + backoff_delay(self._failures, self._rng)
                self._last_fail = failed
                return failed
        elif self._probe is None:
            failed = await self._start_probe()
            if failed is not None:
                return failed
        try:
            async with asyncio.timeout(t.command_timeout):
                got = await self._sample()
        except TimeoutError:
            self._retire_probe()  # signalled and closed in the background: nothing stays on the host
            return Observation(t.name, HostState.TIMEOUT, f"no reply within {t.command_timeout:g} s")
        except ProbeEnded as exc:
            self._retire_probe()
            return Observation(t.name, HostState.STALE, str(exc))
        except OutputCapExceeded:
            self._retire_probe()
            return Observation(
                t.name,
                HostState.STALE,
                f"reply exceeded {t.output_cap_bytes // 1024} KiB; discarded, probe restarted",
            )
        except (OSError, asyncssh.Error) as exc:
            self._retire_connection()
            return Observation(t.name, HostState.UNREACHABLE, f"connection lost: {_describe(exc)}")
        if isinstance(got, str):
            return Observation(t.name, HostState.STALE, got)
        self._failures = 0
        self._last_fail = None
        return Observation(t.name, HostState.UP, None, got)


async def _probe_error(probe: _ProbeChannel) -> str:
    """Why the probe ended, from its exit status and the start of its stderr."""
    chan = probe.chan
    assert chan is not None
    with contextlib.suppress(*GONE):
        async with asyncio.timeout(1):
            await chan.wait_closed()  # the exit status and stderr come before the close
    status = chan.get_exit_status()
    text = [ln for ln in probe.stderr.decode("utf-8", errors="replace").strip().split("\n") if ln]
    detail = text[0] if text else "no message"
    return f"probe exited ({'status ' + str(status) if status is not None else 'no status'}): {detail}"


async def _end_process(probe: _ProbeChannel) -> None:
    """Signal the remote probe (sshd kills its process group), then close its channel."""
    chan = probe.chan
    if chan is None:
        return
    with contextlib.suppress(*GONE):
        chan.send_signal("KILL")
    with contextlib.suppress(*GONE):
        async with asyncio.timeout(CLEANUP_S):
            await chan.wait_closed()  # exit-signal arrives, then the channel closes
    await _close_quietly(chan)


async def _close_quietly(
    thing: asyncssh.SSHClientChannel[bytes] | asyncssh.SSHClientConnection | None,
) -> None:
    """Close a channel or connection, waiting briefly; a peer that is gone is not an error."""
    if thing is None:
        return
    thing.close()
    with contextlib.suppress(*GONE):
        async with asyncio.timeout(CLEANUP_S):
            await thing.wait_closed()


# What talking to a peer that is gone or wedged raises; anything else is a bug and surfaces.
GONE = (OSError, EOFError, TimeoutError, asyncssh.Error)


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
