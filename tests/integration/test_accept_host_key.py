"""Trusting an unknown host key, as an operator does it: the host shows `hostkey_unknown` with
the fingerprint it offers; AcceptHostKey (what K on the host screen sends) appends the key to
the host's configured known_hosts file, the host comes up, and the audit names who trusted
which fingerprint. A real sshd on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Sshd
from tomconsole.collectors.ssh_keys import trust_host_key
from tomconsole.config import Config, parse_config
from tomconsole.engine import Engine
from tomconsole.models import AcceptHostKey, HostState


def one_new_host(sshd: Sshd, address: str, known: Path, ssh_extra: str = "") -> Config:
    """A config with one sshd host `fresh` whose known_hosts file (`known`, none yet) lacks
    its key: every key it offers is unknown."""
    kw = sshd.fleet.target_kwargs()
    return parse_config(
        f"local: false\nssh:\n  user: {kw['user']}\n  identity_file: {kw['identity_file']}\n"
        f"  known_hosts: {known}\n{ssh_extra}hosts:\n"
        f"  - {{name: fresh, address: '{address}', port: {kw['port']}}}\n"
    )


async def test_accepting_an_unknown_key(sshd: Sshd, tmp_path: Path) -> None:
    kw = sshd.fleet.target_kwargs()
    known = tmp_path / "known_hosts"  # configured, and empty: every key is unknown
    address = sshd.normal[0]
    config = one_new_host(sshd, address, known, "  connect_timeout: 5\n")
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


async def test_only_the_unknown_key_the_host_offers_can_be_trusted(sshd: Sshd, tmp_path: Path) -> None:
    kw = sshd.fleet.target_kwargs()
    known = tmp_path / "known_hosts"
    config = one_new_host(sshd, sshd.normal[2], known)
    engine = Engine(config, data_dir=tmp_path / "data", background=False)
    try:
        reply = await engine.act(AcceptHostKey("fresh", "SHA256:x", "ssh-ed25519 AAAA", "ana"))
        assert (
            not reply["ok"] and "only an unknown host key can be trusted here (connecting)" in reply["error"]
        )
        await engine.round()
        (row,) = engine.snapshot().hosts
        assert row.state is HostState.HOSTKEY_UNKNOWN
        other = (Path(kw["identity_file"]).with_suffix(".pub")).read_text().strip()  # some other key
        reply = await engine.act(AcceptHostKey("fresh", row.extra["fingerprint"], other, "mallory"))
        assert not reply["ok"] and "another key than the one shown" in reply["error"]
        reply = await engine.act(AcceptHostKey("nosuch", "SHA256:x", "ssh-ed25519 AAAA", "ana"))
        assert not reply["ok"] and "not a host of this console" in reply["error"]
        assert not known.exists()
    finally:
        await engine.stop()


def test_a_name_with_a_key_on_file_is_never_given_a_second_one(sshd: Sshd, tmp_path: Path) -> None:
    kw = sshd.fleet.target_kwargs()
    on_file = Path(str(kw["known_hosts"][0])).read_text().splitlines()[0]  # type: ignore[index]
    known_as = on_file.split(" ", 1)[0]
    known = tmp_path / "known_hosts"
    known.write_text(on_file + "\n")
    other = Path(str(kw["identity_file"]) + ".pub").read_text().strip()
    with pytest.raises(ValueError, match="already has a key for"):
        trust_host_key(str(known), known_as, other)
    with pytest.raises(ValueError, match="not an OpenSSH public key"):
        trust_host_key(str(tmp_path / "new"), known_as, "ssh-ed25519 not-base64!")
    assert known.read_text() == on_file + "\n" and not (tmp_path / "new").exists()
