"""A shared NOC console exactly as the README sets it up: OpenSSH's own sshd runs
`tomconsole --read-only --config ...` as the ForceCommand of a dedicated user, and an
operator reaches it with ssh and a pty. Every action is refused; nothing is written."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from tests.conftest import service_unavailable
from tests.harness.sshd import SshdFleet, Unavailable, aliases
from tests.ui.conftest import frozen_incidents

CONFIG = """\
hosts:
  - name: web-01
    address: 127.0.0.1
    port: 9
"""


@pytest.fixture
def noc(tmp_path: Path) -> Iterator[tuple[SshdFleet, Path]]:
    """sshd on loopback whose only login runs the read-only console on a store with incidents."""
    work = Path(tempfile.mkdtemp(prefix="tomconsole-noc-"))
    work.chmod(0o755)
    data = work / "data"
    frozen_incidents(data)
    (work / "config.yaml").write_text(CONFIG)
    for path in [data, *data.iterdir(), work / "config.yaml"]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    console = Path(sys.executable).parent / "tomconsole"
    force = f"ForceCommand {console} --read-only --config {work / 'config.yaml'} --data-dir {data}\n"
    # The login is root, not a dedicated user as in the README: this venv's interpreter lives
    # under /root (pyenv), which no other user may enter. What is tested is the same: sshd's
    # ForceCommand, a pty, and a console that refuses every action and writes nothing.
    fleet = SshdFleet(work / "sshd", aliases(1, first=201), extra_config=force, login="root")
    try:
        fleet.start()
    except Unavailable as exc:
        fleet.stop()
        service_unavailable(str(exc))
    yield fleet, data
    fleet.stop()
    shutil.rmtree(work, ignore_errors=True)


async def test_forcecommand_read_only_console_over_ssh_with_a_pty(noc: tuple[SshdFleet, Path]) -> None:
    fleet, data = noc
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    out = bytearray()

    async def until(text: bytes, limit: float = 60.0) -> None:
        async def read() -> None:
            while text not in out:
                chunk = await proc.stdout.read(65536)
                if not chunk:
                    raise AssertionError(f"the console closed before {text!r}: {bytes(out[-2000:])!r}")
                out.extend(chunk)

        await asyncio.wait_for(read(), limit)

    async with asyncssh.connect(
        fleet.addresses[0],
        fleet.port,
        username=fleet.user,
        client_keys=[str(fleet.identity)],
        known_hosts=str(fleet.known_hosts),
    ) as conn:
        # The command asked for is ignored: sshd runs its ForceCommand.
        proc = await conn.create_process("sh", term_type="xterm-256color", term_size=(80, 24), encoding=None)
        await until(b"read-only console")
        await until(b"web-01")
        out.clear()
        proc.stdin.write(b"2")  # the queue, then acknowledge the incident under the cursor
        await until(b"INC-000")
        out.clear()
        proc.stdin.write(b"a")
        await until(b"not done")  # the refusal's toast, not the banner that is always there
        proc.stdin.write(b"q")
        await asyncio.wait_for(proc.wait(), 30)
        assert proc.exit_status == 0
    after = {p.name: p.read_bytes() for p in data.iterdir()}
    assert after == before  # no lock, no log, no store write
