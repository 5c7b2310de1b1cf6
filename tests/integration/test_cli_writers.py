"""Writers from the shell: a CLI waits for another CLI, hands its action to a console only when
a console holds the store, and never reports an applied action as failed (Ctrl-C included)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from pathlib import Path

from tests.integration.test_cli import _run
from tomconsole.incidents.actions import answer
from tomconsole.incidents.book import IncidentBook
from tomconsole.incidents.inbox import inbox_dir, process
from tomconsole.incidents.windows import WindowBook
from tomconsole.store import LOCK_FILE, Store


async def _spawn(data: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tomconsole",
        "--data-dir",
        str(data),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # As from a terminal: Ctrl-C delivered, even when this run was started in the background
        # by a shell that ignores SIGINT for its jobs (children would inherit that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


async def _until(check: object, limit_s: float = 30.0) -> None:
    """Wait for a state (not for a time); fail with the state's name if it never comes."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, f"never: {check}"
        await asyncio.sleep(0.02)


def _has_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fds / fd) == str(path) for fd in os.listdir(fds))
    except OSError:
        return False


async def test_a_cli_writer_waits_for_another_cli_writer(tmp_path: Path) -> None:
    other = Store(tmp_path, role="cli")  # a short-lived writer is mid-write
    proc = await _spawn(tmp_path, "incidents", "open", "--title", "disk on fire")
    await _until(lambda: _has_open(proc.pid, tmp_path / LOCK_FILE))  # it is waiting for the lock
    other.close()
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    assert out.decode() == "INC-000001: opened (triggered, major): disk on fire\n" and err == b""
    assert not inbox_dir(tmp_path).exists()  # nothing parked where no console would read it


async def test_an_unconfirmed_hand_off_is_reported_as_queued_and_applied_once(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        IncidentBook(s).open_manual("VPN drops", "ana")
    console = Store(tmp_path, role="console")  # holds the store, but does not read its inbox yet
    code, out, err = await _run("incidents", "ack", "INC-000001", data=tmp_path)
    assert code == 4 and out == ""
    assert "note: the store is held by console pid" in err
    assert "error: queued, not yet confirmed: the console has not answered within 10 s" in err
    book = IncidentBook(console)

    async def durable() -> None:
        return None

    assert await process(console, lambda req: answer(book, WindowBook(console), req), durable) == 1
    assert await process(console, lambda req: answer(book, WindowBook(console), req), durable) == 0
    assert book.incidents["INC-000001"].acknowledged_by is not None
    console.close()


async def test_ctrl_c_never_leaves_an_applied_action_reported_as_failed(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        IncidentBook(s).open_manual("VPN drops", "ana")
    rng = random.Random(7)
    outcomes: dict[str, int] = {}
    said: dict[str, bytes] = {}  # each run's stderr: an unexpected exit code says why with it
    for n in range(24):
        text = f"note {n}"
        proc = await _spawn(tmp_path, "incidents", "note", "INC-000001", text)
        await asyncio.sleep(rng.uniform(0.1, 0.6))  # a person's Ctrl-C at any moment of the run
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        _, err = await proc.communicate()
        if b"init_import_site" in err:
            # The Ctrl-C landed while Python itself was starting (a loaded machine), before any
            # of tomconsole ran: nothing can have been applied, which the check below holds it to.
            outcomes[text] = 130
            continue
        assert b"Traceback" not in err, err
        outcomes[text] = proc.returncode or 0
        said[text] = err[-1500:]
    _, out, _ = await _run("incidents", "show", "INC-000001", "--format", "json", data=tmp_path)
    saved = {n["text"] for n in json.loads(out)["notes"]}
    for text, rc in outcomes.items():
        assert rc in (0, 130, -signal.SIGINT), (text, rc, said.get(text))
        assert (text in saved) == (rc == 0), f"{text}: exit {rc}, saved={text in saved}"
    assert 0 < sum(rc == 0 for rc in outcomes.values()) < len(outcomes)  # both outcomes were exercised
