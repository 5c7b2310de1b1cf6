"""Keys, ours and the hosts': identity files (and ssh-agent), and host keys against known_hosts.

Host keys are always checked against known_hosts files we read ourselves (never
`known_hosts=None`), parsed once and shared. `HostKeyWitness` lets asyncssh do the lookup
with the name, address and port it really connects to and keeps the key the server offered,
so an unknown key and a changed one (a possible man-in-the-middle) are told apart. An
identity file that cannot be used is said in words, naming the file, before connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import asyncssh

from tomconsole.models import HostState, Observation

DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts")
AGENT_TIMEOUT_S = 3.0

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


def read_identity(path: str) -> tuple[asyncssh.SSHKey | None, str | None, bool]:
    """(key, problem, encrypted): the key if usable without a passphrase, else why not."""
    full = Path(path).expanduser()
    try:
        data = full.read_bytes()
    except FileNotFoundError:
        return None, f"identity file {path} not found", False
    except IsADirectoryError:
        return None, f"identity file {path} is a directory, not a key", False
    except OSError as exc:
        return None, f"identity file {path} cannot be read: {(exc.strerror or str(exc)).lower()}", False
    try:
        return asyncssh.import_private_key(data), None, False
    except asyncssh.KeyImportError as exc:
        if "passphrase" in str(exc).lower():
            return None, f"identity file {path} is encrypted (passphrase-protected)", True
        return None, f"identity file {path} is not a private key this client can read ({exc})", False


def identity_file_problem(path: str) -> str | None:
    """Why the private key file at `path` cannot be used as it is, or None if it can.

    Reads the file, never connects: missing, unreadable, not a key, or passphrase-protected
    (such a key still works when ssh-agent holds it; this says only what the file is).
    """
    return read_identity(path)[1]


def _public_key_beside(path: str) -> asyncssh.SSHKey | None:
    """The public half of an identity file, from `path`.pub (OpenSSH writes it beside the key)."""
    try:
        return asyncssh.read_public_key(os.path.expanduser(path) + ".pub")
    except (OSError, asyncssh.KeyImportError):
        return None


async def agent_key_for(path: str) -> Any | None:
    """The ssh-agent key matching `path`.pub, if an agent is running and holds it."""
    wanted = _public_key_beside(path)
    if wanted is None:
        return None
    agent = None
    try:
        async with asyncio.timeout(AGENT_TIMEOUT_S):
            agent = await asyncssh.connect_agent()
            keys = await agent.get_keys()
    except (OSError, asyncssh.Error, TimeoutError, ValueError):
        if agent is not None:
            agent.close()
        return None
    for key in keys:
        if key.public_data == wanted.public_data:
            return key  # it signs through the agent connection, which therefore stays open
    agent.close()
    return None


# -- host keys ------------------------------------------------------------------------------


class HostKeyWitness(asyncssh.SSHClient):
    """Our known_hosts lookup, done by asyncssh with what it really connects to, and the key
    the server offered when it was not trusted: enough to tell 'unknown' from 'changed'."""

    def __init__(self, known: asyncssh.SSHKnownHosts) -> None:
        self.known = known
        self.looked_up: tuple[str, str, int | None] | None = None
        self.had_keys = False
        self.offered: asyncssh.SSHKey | None = None

    def known_hosts(self, host: str, addr: str, port: int | None) -> tuple[Any, ...]:
        """asyncssh's `known_hosts=` callable: trusted keys, CA keys, revoked keys."""
        self.looked_up = (host, addr, port)
        keys, cas, revoked, *_ = self.known.match(host, addr, port)
        self.had_keys = bool(keys or cas)
        return keys, cas, revoked

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.offered = key
        return False

    def observation(self, name: str) -> Observation:
        fingerprint = self.offered.get_fingerprint() if self.offered is not None else "unknown"
        where = "this host"
        if self.looked_up is not None:
            host, _, port = self.looked_up
            where = f"[{host}]:{port}" if port not in (None, 22) else host
        extra = {"fingerprint": fingerprint}
        if self.offered is not None:
            extra["key"] = self.offered.export_public_key().decode("ascii").strip()
        if self.looked_up is not None:
            extra["known_as"] = where
        if self.had_keys:
            return Observation(
                name,
                HostState.HOSTKEY_CHANGED,
                f"host key changed: server offers {fingerprint}, known_hosts has another key for "
                f"{where} (possible man-in-the-middle); not connecting",
                extra=extra,
            )
        return Observation(
            name,
            HostState.HOSTKEY_UNKNOWN,
            f"host key {fingerprint} for {where} is not in known_hosts; verify it and add it to accept",
            extra=extra,
        )


def trust_host_key(path: str, known_as: str, key_line: str) -> Path:
    """Append `known_as key_line` to the known_hosts file at `path` (made 0600 if new), fsynced.
    `key_line` must be one OpenSSH public key; the file's directory must exist."""
    try:
        key = asyncssh.import_public_key(key_line)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise ValueError(f"not an OpenSSH public key: {exc}") from None
    if not known_as or any(c.isspace() for c in known_as):
        raise ValueError(f"not a host name for known_hosts: {known_as!r}")
    line = f"{known_as} {key.export_public_key().decode('ascii').strip()}\n"
    full = Path(path).expanduser()
    host, _, port = known_as.removeprefix("[").partition("]:")
    if full.exists():
        keys, cas, *_ = read_known_hosts((str(full),)).match(host, "", int(port) if port else 22)
        if keys or cas:  # a key on file for this name: this is a changed key, never added here
            raise ValueError(
                f"{full} already has a key for {known_as}; verify the change and edit it by hand"
            )
    fd = os.open(full, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size and not full.read_bytes().endswith(b"\n"):
            line = "\n" + line
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return full
