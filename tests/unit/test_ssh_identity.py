"""identity_file_problem: why a key file cannot be used, said without connecting (check-config
prints it; the collector turns the same reasons into the host's auth_failed state)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import asyncssh
import pytest

from tomconsole.collectors.ssh_keys import identity_file_problem


def test_a_plain_private_key_has_no_problem(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(key))
    assert identity_file_problem(str(key)) is None


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope")
    assert identity_file_problem(path) == f"identity file {path} not found"


def test_a_directory_is_not_a_key(tmp_path: Path) -> None:
    assert identity_file_problem(str(tmp_path)) == f"identity file {tmp_path} is a directory, not a key"


def test_a_public_key_or_garbage_is_not_a_private_key(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello\n")
    problem = identity_file_problem(str(garbage))
    assert problem is not None and problem.startswith(f"identity file {garbage} is not a private key")


def test_passphrase_protected_key(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(key)], check=True)
    assert identity_file_problem(str(key)) == f"identity file {key} is encrypted (passphrase-protected)"


def test_tilde_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(tmp_path / "k"))
    assert identity_file_problem("~/k") is None
    assert identity_file_problem("~/other") == "identity file ~/other not found"
