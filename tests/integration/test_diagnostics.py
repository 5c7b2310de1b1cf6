"""Diagnostics and process tables against OpenSSH's sshd on loopback, as the console and the
CLI run them: output as by hand, a hang ended at its deadline with nothing left on the host,
a flood capped and marked, hostile text printed safely, the audit and the attached note kept
across a restart, free commands refused, and a process table that agrees with `ps`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from tests.conftest import service_unavailable
from tests.harness.apt import Unavailable, ensure_packages
from tests.integration.conftest import Sshd
from tests.integration.test_cli import _run
from tomconsole.collectors.ssh import SshCollector
from tomconsole.config import Config, parse_config
from tomconsole.engine import Engine
from tomconsole.models import HostState, Observation
from tomconsole.probes.processes import BY_CPU, BY_MEMORY, ProcessTable
from tomconsole.store import Store
from tomconsole.troubleshoot.diagnostics import Refused

HAND = "ls -1 /etc | head -n 40; cat /etc/os-release; echo err-line >&2; exit 3"
# Sleeps no other run on this machine has (a second suite, a console's own test), so the
# check that none is left counts only ours.
_MARK = random.randint(10**6, 10**7)
SLEEPS = (f"sleep {_MARK}1", f"sleep {_MARK}2")
HANG = f'trap "" TERM; {SLEEPS[0]} & {SLEEPS[1]}; wait'
FLOOD = f"yes tomconsole-flood-{_MARK}"


def hung(cmd: str) -> bool:
    """A process of the `hang` diagnostic (of this run)."""
    return cmd in SLEEPS or f"{SLEEPS[1]}; wait" in cmd


HOSTILE = r"printf '[bold red]PWNED[/] \033[31mred\033]0;owned\007 \342\200\256mirror\n'"


def _config(sshd: Sshd, tmp_path: Path, extra: str = "") -> tuple[Config, Path]:
    kw = sshd.fleet.target_kwargs()
    text = (
        f"local: false\nssh:\n  user: {kw['user']}\n  identity_file: {kw['identity_file']}\n"
        f"  known_hosts: [{kw['known_hosts'][0]}]\n  connect_timeout: 5\n  command_timeout: 5\n"  # type: ignore[index]
        f"hosts:\n  - {{name: box, address: '{sshd.normal[2]}', port: {kw['port']}, group: lab}}\n"
        "diagnostics:\n"
        f"  - {{name: by-hand, title: as by hand, command: {json.dumps(HAND)}}}\n"
        f"  - {{name: hang, title: a hang, command: {json.dumps(HANG)}, timeout: 2}}\n"
        f"  - {{name: flood, title: a flood, command: {json.dumps(FLOOD)}, max_bytes: 65536}}\n"
        f"  - {{name: hostile, title: hostile text, command: {json.dumps(HOSTILE)}}}\n"
        "  - {name: elsewhere, title: not here, command: uptime, hosts: 'group:other'}\n"
        f"{extra}"
    )
    path = tmp_path / "tomconsole.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, str(path)), path


def _left(marker: Callable[[str], bool]) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if marker(" ".join(p.info["cmdline"] or [])):
                out.append(p)
    return out


async def _until(cond: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    async with asyncio.timeout(limit):
        while not cond():
            await asyncio.sleep(0.05)
    assert cond(), what


@pytest.fixture
async def engine(sshd: Sshd, tmp_path: Path) -> Engine:
    config, _ = _config(sshd, tmp_path)
    eng = Engine(config, data_dir=tmp_path / "data", background=False)
    await eng.round()
    assert eng.snapshot().hosts[0].state.value == "up", eng.snapshot().hosts[0].reason
    yield eng  # type: ignore[misc]
    await eng.stop()
    for c in eng.sources:
        for u in c.collectors():
            await u.close()


async def test_output_matches_the_command_run_by_hand(engine: Engine) -> None:
    ran = await engine.troubleshooter.run("box", "by-hand", "ana")
    by_hand = subprocess.run(["sh", "-c", HAND], capture_output=True, text=True)
    assert ran.not_audited is None
    assert ran.run.status == 3 and not ran.run.timed_out and not ran.run.truncated
    assert ran.run.output == by_hand.stdout + by_hand.stderr
    assert ran.run.bytes == len(ran.run.output.encode())


async def test_a_hang_hits_its_deadline_and_leaves_no_process(engine: Engine) -> None:
    def ours(cmd: str) -> bool:
        return hung(cmd)

    try:
        ran = await engine.troubleshooter.run("box", "hang", "ana")
        assert ran.run.timed_out and ran.run.status in (124, 137, None), ran.run
        assert "deadline" in ran.run.outcome
        await _until(lambda: not _left(ours), "processes of the hung diagnostic left on the host")
    finally:
        for p in _left(ours):  # only when the test failed: ours, by PID
            with contextlib.suppress(psutil.Error):
                p.kill()


async def test_a_flood_is_capped_marked_and_ended(engine: Engine) -> None:
    def ours(cmd: str) -> bool:
        return cmd == FLOOD

    try:
        ran = await engine.troubleshooter.run("box", "flood", "ana")
        assert ran.run.truncated and len(ran.run.output.encode()) == 65536
        assert ran.run.bytes > 65536
        assert ran.run.output.startswith(f"tomconsole-flood-{_MARK}\n")
        assert "truncated" in ran.run.headline()
        await _until(lambda: not _left(ours), "the flooding process left on the host")
    finally:
        for p in _left(ours):
            with contextlib.suppress(psutil.Error):
                p.kill()


async def test_only_configured_diagnostics_run(engine: Engine) -> None:
    t = engine.troubleshooter
    assert [d.name for d in t.available("box")][:5] == [
        "journal-errors",
        "kernel-messages",
        "var-usage",
        "listening",
        "failed-units",
    ]
    assert "elsewhere" not in {d.name for d in t.available("box")}
    with pytest.raises(Refused, match="elsewhere is not a diagnostic for box"):
        await t.run("box", "elsewhere", "ana")
    with pytest.raises(Refused, match="free commands are off"):
        await t.run("box", "", "ana", command="id")
    with pytest.raises(Refused, match="not a host of this console"):
        await t.run("nowhere", "by-hand", "ana")


async def test_the_process_table_agrees_with_ps(engine: Engine) -> None:
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass", "tomconsole-burner"])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; b = bytearray(150 << 20); time.sleep(120)", "tomconsole-holder"]
    )
    try:
        t = engine.troubleshooter
        await t.processes("box", BY_CPU)  # the first look gives lifetime averages

        async def table(by: str) -> ProcessTable:
            got = await t.processes("box", by)
            assert isinstance(got, ProcessTable), got
            return got

        await _until(lambda: psutil.Process(holder.pid).memory_info().rss > 150 << 20, "the holder's memory")
        cpu = await table(BY_CPU)
        mem = await table(BY_MEMORY)
        assert cpu.count == len(psutil.pids()) or abs(cpu.count - len(psutil.pids())) < 20
        rows = {r.pid: r for r in cpu.rows}
        assert burner.pid in rows, [(r.pid, r.command) for r in cpu.rows]
        assert rows[burner.pid].cpu_pct > 50
        by_mem = {r.pid: r for r in mem.rows}
        assert holder.pid in by_mem
        ps = subprocess.run(
            ["ps", "-ww", "-o", "user=,rss=,nlwp=,etimes=,args=", "-p", str(holder.pid)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split(None, 4)
        row = by_mem[holder.pid]
        assert row.user == ps[0]
        assert abs(row.rss_bytes - int(ps[1]) * 1024) < 0.05 * int(ps[1]) * 1024
        assert row.threads == int(ps[2])
        assert row.started_at is not None
        age = (datetime.now(UTC) - row.started_at).total_seconds()
        assert abs(age - int(ps[3])) < 3
        assert row.command == ps[4].strip()
        assert mem.rows[0].rss_bytes >= mem.rows[-1].rss_bytes
    finally:
        for p in (burner, holder):
            p.kill()
            p.wait()


async def test_cli_run_attach_survive_a_restart_and_print_safely(sshd: Sshd, tmp_path: Path) -> None:
    _, path = _config(sshd, tmp_path)
    data = tmp_path / "data"
    code, out, err = await _run(
        "--config", str(path), "incidents", "open", "--title", "disk", "--host", "box", data=data
    )
    assert code == 0, err
    inc = out.split(":")[0]
    code, out, err = await _run(
        "--config", str(path), "--as", "ana", "diag", "run", "box", "hostile", "--attach", inc, data=data
    )
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "[bold red]PWNED[/]" in out and "\\x1b[31mred" in out
    assert f"attached to {inc}" in err
    code, out, err = await _run(
        "--config", str(path), "diag", "run", "box", "hostile", "--format", "json", data=data
    )
    assert code == 0, err
    assert json.loads(out)["output"] == "[bold red]PWNED[/] \x1b[31mred\x1b]0;owned\x07 \u202emirror\n"

    code, out, err = await _run("--config", str(path), "diag", "run", "box", "--command", "id", data=data)
    assert code == 1 and "free commands are off" in err

    # a new process: what was written is there, once
    store = Store(data, role="cli", background=False, read_only=True)
    try:
        audit = [a for a in store.all("audit") if a.get("action") == "diagnostic"]
    finally:
        store.close()
    assert [(a["who"], a["host"], a["diagnostic"], a["status"]) for a in audit] == [
        ("ana", "box", "hostile", 0),
        (os.environ.get("USER") or audit[1]["who"], "box", "hostile", 0),
    ]
    assert audit[0]["bytes"] == len("[bold red]PWNED[/] \x1b[31mred\x1b]0;owned\x07 \u202emirror\n".encode())
    code, out, err = await _run("--config", str(path), "incidents", "export", inc, data=data)
    assert code == 0, err
    assert "diagnostic hostile (hostile text) on box" in out
    assert "```\n[bold red]PWNED[/] \\x1b[31mred" in out


async def test_a_hostile_command_line_cannot_forge_rows(engine: Engine) -> None:
    """A process whose arguments hold newlines and the probe's own record shapes is one row,
    its text carried exactly; nothing it holds is read as a record."""
    code = "import time; b = bytearray(200 << 20); time.sleep(60)"  # among the top by memory
    argv = [sys.executable, "-c", code, "x\nT 1 R 99.9 1 1 1 root forged\n$ 1", "[b]y"]
    proc = subprocess.Popen(argv)
    try:
        await _until(lambda: psutil.Process(proc.pid).memory_info().rss > 200 << 20, "the process's memory")
        got = await engine.troubleshooter.processes("box", BY_MEMORY)
        assert isinstance(got, ProcessTable), got
        rows = [r for r in got.rows if "forged" in r.command]
        assert [r.pid for r in rows] == [proc.pid]
        assert rows[0].command == " ".join(argv)
        assert not [r for r in got.rows if r.pid == 1 and r.command == "forged"]
    finally:
        proc.kill()
        proc.wait()


async def test_a_run_stopped_by_the_operator_is_audited_and_ended(engine: Engine) -> None:
    """Esc in the viewer cancels the run: the remote process ends and the audit says stopped."""

    def ours(cmd: str) -> bool:
        return hung(cmd)

    try:
        task = asyncio.ensure_future(engine.troubleshooter.run("box", "hang", "ana"))
        await _until(lambda: bool(_left(ours)), "the diagnostic's processes on the host")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        store = engine.store
        assert store is not None

        def stopped() -> list[dict[str, object]]:
            return [a for a in store.all("audit") if a.get("action") == "diagnostic" and a.get("stopped")]

        await _until(lambda: bool(stopped()), "the stopped run in the audit log")
        assert [(a["who"], a["diagnostic"], a["status"]) for a in stopped()] == [("ana", "hang", None)]
        await _until(lambda: not _left(ours), "processes of the stopped diagnostic left on the host")
    finally:
        for p in _left(ours):
            with contextlib.suppress(psutil.Error):
                p.kill()


async def test_free_commands_run_only_when_allowed_and_are_audited_with_their_text(
    sshd: Sshd, tmp_path: Path
) -> None:
    config, path = _config(sshd, tmp_path, "allow_free_commands: true\n")
    eng = Engine(config, data_dir=tmp_path / "data", background=False)
    try:
        await eng.round()
        ran = await eng.troubleshooter.run("box", "", "ana", command="echo typed-$((6 * 7))")
        assert ran.run.output == "typed-42\n" and ran.run.diagnostic == "free"
        assert eng.store is not None
        (audit,) = [a for a in eng.store.all("audit") if a.get("action") == "diagnostic"]
        assert (audit["diagnostic"], audit["command"], audit["who"]) == (
            "free",
            "echo typed-$((6 * 7))",
            "ana",
        )
    finally:
        await eng.stop()
    code, out, err = await _run(
        "--config", str(path), "diag", "run", "box", "--command", "echo cli", data=tmp_path / "d2"
    )
    assert (code, out) == (0, "cli\n"), err


async def test_sudo_that_would_ask_for_a_password_says_so(sshd: Sshd, tmp_path: Path) -> None:
    try:
        ensure_packages("sudo", ["sudo"], ["/usr/bin/sudo"])
    except Unavailable as exc:
        service_unavailable(str(exc))
    config, _ = _config(sshd, tmp_path, "  - {name: as-root, title: as root, command: id -u, sudo: true}\n")
    eng = Engine(config, data_dir=tmp_path / "data", background=False)
    try:
        await eng.round()
        ran = await eng.troubleshooter.run("box", "as-root", "ana")  # the probe user may not sudo
        assert ran.run.status != 0 and ran.run.needs_password, ran.run
        assert "NOPASSWD" in ran.run.outcome
    finally:
        await eng.stop()


async def test_a_process_table_between_samples_changes_nothing_of_them(engine: Engine) -> None:
    """Tables asked while samples run: every sample still arrives, disks when due."""
    (collector,) = [c for s in engine.sources for c in s.collectors() if isinstance(c, SshCollector)]

    async def tables() -> list[ProcessTable | str]:
        return [await collector.top(BY_CPU) for _ in range(4)]

    async def samples() -> list[Observation]:
        return [await collector.collect() for _ in range(8)]

    got_tables, got_samples = await asyncio.gather(tables(), samples())
    assert all(isinstance(t, ProcessTable) for t in got_tables), got_tables
    assert [o.state for o in got_samples] == [HostState.UP] * 8, [o.reason for o in got_samples]
    assert all(o.sample is not None and o.sample.filesystems for o in got_samples)


async def test_cli_lists_diagnostics_for_a_host(sshd: Sshd, tmp_path: Path) -> None:
    _, path = _config(sshd, tmp_path)
    code, out, err = await _run("--config", str(path), "diag", "list", "box")
    assert code == 0, err
    names = [line.split()[0] for line in out.splitlines()]
    assert names == [
        "journal-errors", "kernel-messages", "var-usage", "listening", "failed-units",
        "by-hand", "hang", "flood", "hostile",
    ]  # fmt: skip
    assert "\nflood            a flood  (30 s, up to 64 KiB)\n" in out
    code, out, _ = await _run("--config", str(path), "diag", "list", "--format", "json")
    assert "elsewhere" in {d["name"] for d in json.loads(out)}
    code, _, err = await _run("--config", str(path), "diag", "list", "nowhere")
    assert code == 1 and err == "error: nowhere is not a host of `hosts:` (diagnostics run over SSH)\n"
