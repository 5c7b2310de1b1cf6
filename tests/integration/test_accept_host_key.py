"""Trusting an unknown host key, as an operator does it: the host shows `hostkey_unknown` with
the fingerprint it offers; AcceptHostKey (what K on the host screen sends) appends the key to
the host's configured known_hosts file, the host comes up, and the audit names who trusted
which fingerprint. A real sshd on loopback."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import Sshd
from tomconsole.config import parse_config
from tomconsole.engine import Engine
from tomconsole.models import AcceptHostKey, HostState


async def test_accepting_an_unknown_key(sshd: Sshd, tmp_path: Path) -> None:
    kw = sshd.fleet.target_kwargs()
    known = tmp_path / "known_hosts"  # configured, and empty: every key is unknown
    address = sshd.normal[0]
    config = parse_config(
        f"local: false\nssh:\n  user: {kw['user']}\n  identity_file: {kw['identity_file']}\n"
        f"  known_hosts: {known}\n  connect_timeout: 5\nhosts:\n"
        f"  - {{name: fresh, address: '{address}', port: {kw['port']}}}\n"
    )
    engine = Engine(config, data_dir=tmp_path / "data", background=False)
    try:
        await engine.round()
        (row,) = engine.snapshot().hosts
        assert row.state is HostState.HOSTKEY_UNKNOWN, row.reason
        fingerprint, key = row.extra["fingerprint"], row.extra["key"]
        assert fingerprint.startswith("SHA256:") and fingerprint in (row.reason or "")
        assert not known.exists()

        reply = await engine.act(AcceptHostKey("fresh", fingerprint, key, "ana"))
        assert reply["ok"], reply
        assert reply["file"] == str(known)
        (line,) = known.read_text().splitlines()
        assert line == f"[{address}]:{kw['port']} {key}"
        assert known.stat().st_mode & 0o777 == 0o600

        await engine.round()  # tried again at once, no backoff wait
        (row,) = engine.snapshot().hosts
        assert row.state is HostState.UP, row.reason
        assert engine.store is not None
        (audit,) = [a for a in engine.store.all("audit") if a["action"] == "accept-host-key"]
        assert (audit["who"], audit["host"], audit["fingerprint"]) == ("ana", "fresh", fingerprint)
    finally:
        await engine.stop()


async def test_a_key_that_is_not_one_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    kw = sshd.fleet.target_kwargs()
    known = tmp_path / "known_hosts"
    config = parse_config(
        f"local: false\nssh:\n  user: {kw['user']}\n  known_hosts: {known}\nhosts:\n"
        f"  - {{name: fresh, address: '{sshd.normal[0]}', port: {kw['port']}}}\n"
    )
    engine = Engine(config, data_dir=tmp_path / "data", background=False)
    try:
        reply = await engine.act(AcceptHostKey("fresh", "SHA256:x", "ssh-ed25519 not-base64!", "ana"))
        assert not reply["ok"] and "not an OpenSSH public key" in reply["error"]
        reply = await engine.act(AcceptHostKey("nosuch", "SHA256:x", "ssh-ed25519 AAAA", "ana"))
        assert not reply["ok"] and "nosuch is not an SSH host" in reply["error"]
        assert not known.exists()
    finally:
        await engine.stop()
