"""A store that cannot be written is one line naming the path and the cause, a non-zero exit,
nothing left behind and nothing changed: on a full disk, a read-only mount, an immutable
file. A corrupt store is recovered with a message from every entry point."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import fill, service_unavailable, tmpfs
from tests.integration.test_cli import _run
from tomconsole.store import STORE_FILE


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name not in ("filler", "tomconsole.lock")
    }


async def _open_one(data: Path) -> str:
    code, out, err = await _run("incidents", "open", "--title", "VPN drops", data=data)
    assert code == 0, err
    await _run("incidents", "note", "INC-000001", "first note", data=data)
    return out


async def test_full_disk_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", 512) as data:
        await _open_one(data)
        fill(data)
        before = _snapshot(data)
        code, out, err = await _run("incidents", "note", "INC-000001", "x" * 4000, data=data)
        assert code == 3 and out == ""
        assert err == f"error: cannot write {data / STORE_FILE}: No space left on device\n"
        assert _snapshot(data) == before  # no temp file, store and backups untouched
        # No rules: a default one going pending (load-high on a busy machine) is a write.
        quiet = tmp_path / "quiet.yaml"
        quiet.write_text("local: true\ndefault_rules: false\n")
        code, out, err = await _run(
            "--config", str(quiet), "poll", "--once", "--format", "json", data=data
        )  # reading still works, and says nothing about the disk since it writes nothing here
        assert code in (0, 1) and json.loads(out)["incidents"][0]["id"] == "INC-000001", err


async def test_read_only_mount_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", 512) as data:
        await _open_one(data)
        subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True)
        before = _snapshot(data)
        code, _, err = await _run("incidents", "ack", "INC-000001", data=data)
        assert code == 3
        assert err == f"error: cannot write in {data}: Read-only file system\n"
        code, out, _ = await _run("incidents", "list", data=data)
        assert code == 0 and "VPN drops" in out
        code, out, err = await _run("--config", "/dev/null", "poll", "--once", data=data)
        assert code == 3 and err == f"error: cannot write in {data}: Read-only file system\n"
        assert json.loads(out)["incidents"][0]["title"] == "VPN drops"
        missing = data / "never-made"
        code, _, err = await _run("incidents", "list", data=missing)
        assert (
            code == 3
            and err == f"error: no data directory {missing}: nothing is stored there (check --data-dir)\n"
        )
        assert not missing.exists()
        assert _snapshot(data) == before


async def test_immutable_store_file_is_one_line(tmp_path: Path) -> None:
    await _open_one(tmp_path)
    live = tmp_path / STORE_FILE
    if subprocess.run(["chattr", "+i", str(live)], capture_output=True, check=False).returncode != 0:
        service_unavailable("chattr +i is not supported here")
    try:
        before = _snapshot(tmp_path)
        code, _, err = await _run("incidents", "ack", "INC-000001", data=tmp_path)
        assert code == 3 and err == f"error: cannot write {live}: Operation not permitted\n"
        assert _snapshot(tmp_path) == before and not list(tmp_path.glob(".*.tmp"))
    finally:
        subprocess.run(["chattr", "-i", str(live)], check=True)


@pytest.mark.parametrize("entry", ["list", "poll", "ack"])
async def test_every_entry_point_says_it_recovered(tmp_path: Path, entry: str) -> None:
    await _open_one(tmp_path)
    code, _, _ = await _run("incidents", "ack", "INC-000001", data=tmp_path)  # the last action reported done
    assert code == 0
    live = tmp_path / STORE_FILE
    live.write_bytes(live.read_bytes()[:40])
    args = {
        "list": ["incidents", "list", "--format", "json"],
        "poll": ["--config", "/dev/null", "poll", "--once"],
        "ack": ["incidents", "note", "INC-000001", "after the crash"],
    }[entry]
    code, out, err = await _run(*args, data=tmp_path)
    assert f"note: store {live} was unreadable" in err
    assert f"recovered from backup {tmp_path / (STORE_FILE + '.bak.1')}" in err
    assert err.count("\n") == 1, err
    code, out, _ = await _run("incidents", "list", "--format", "json", data=tmp_path)
    (inc,) = json.loads(out)
    assert inc["state"] == "acknowledged"  # nothing reported done was lost


async def test_poll_on_a_full_disk_prints_the_fleet_and_exits_3(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("local: true\nrules:\n  - {name: always, metric: cpu_pct, op: '>=', threshold: 0}\n")
    with tmpfs(tmp_path / "disk", 256) as data:
        code, _, err = await _run("incidents", "list", data=data)  # creates the lock file
        fill(data)
        code, out, err = await _run("--config", str(cfg), "poll", "--once", data=data)
        assert json.loads(out)["hosts"][0]["name"] == "localhost"
        assert code == 3 and err == f"error: cannot write {data / STORE_FILE}: No space left on device\n"
        assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]
