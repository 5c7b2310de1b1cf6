"""The store keeps what it acknowledged, refuses a second writer, and never starts silently empty."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tomconsole.store import STORE_FILE, ReadOnlyStore, Store

CHILD = """
import sys
from pathlib import Path
from tomconsole.store import Store
store = Store(Path(sys.argv[1]), wait=10)
i = int(sys.argv[2])
while True:
    with store.transaction():
        store.put("incidents", f"inc-{i}", {"state": "acknowledged", "by": "ops", "n": i})
        store.append("audit", {"action": "ack", "incident": f"inc-{i}"})
    print(i, flush=True)  # reported only after the transaction is durable
    i += 1
"""


def _kill_cycles(directory: Path, cycles: int, seed: int) -> None:
    rng = random.Random(seed)
    reported: set[int] = set()
    next_i = 0
    for _ in range(cycles):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(directory), str(next_i)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # the child is writing now
        assert first, "child produced nothing"
        reported.add(int(first))
        time.sleep(rng.uniform(0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate()
        reported.update(int(x) for x in rest.split())
        next_i = max(reported) + 1
        raw = (directory / STORE_FILE).read_bytes()
        data = json.loads(raw)  # never torn
        keys = {d["_key"] for d in data["incidents"].values()}
        missing = [i for i in reported if f"inc-{i}" not in keys]
        assert not missing, f"acknowledged but lost: {missing[:5]}"
        audits = [d for d in data["audit"].values() if d["action"] == "ack"]
        assert len(audits) >= len(reported)


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    _kill_cycles(tmp_path, 100, seed=1)


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write_many_more(tmp_path: Path) -> None:
    _kill_cycles(tmp_path, 200, seed=2)


def test_roundtrip_and_transaction(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        with s.transaction():
            s.put("incidents", "a", {"state": "triggered"})
            s.put("incidents", "a", {"state": "acknowledged"})
            assert not (tmp_path / STORE_FILE).exists()  # nothing written mid-transaction
        s.append("audit", {"action": "ack"})
    with Store(tmp_path) as s:
        assert s.get("incidents", "a") == {"state": "acknowledged"}
        assert len(s.all("audit")) == 1


def test_second_store_is_read_only_and_names_the_holder(tmp_path: Path) -> None:
    with Store(tmp_path) as first:
        first.put("incidents", "a", {"x": 1})
        second = Store(tmp_path)
        assert second.read_only
        assert f"pid {os.getpid()}" in (second.banner or "")
        assert second.get("incidents", "a") is not None
        with pytest.raises(ReadOnlyStore):
            second.put("incidents", "b", {"x": 2})
        second.close()
    third = Store(tmp_path)  # the lock went with the first store
    assert not third.read_only
    third.close()


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), "0"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline()
    assert Store(tmp_path).read_only
    child.kill()
    child.communicate()
    s = Store(tmp_path)
    assert not s.read_only
    s.close()


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[: len(b) // 2], lambda b: b"\0" * len(b), lambda _b: b"this is not json"],
    ids=["truncated", "nuls", "not-json"],
)
def test_corrupt_file_is_moved_aside_and_backup_loaded(tmp_path: Path, damage: object) -> None:
    with Store(tmp_path) as s:
        s.put("incidents", "a", {"state": "triggered"})
    with Store(tmp_path) as s:
        s.put("incidents", "b", {"state": "triggered"})
        s.put("incidents", "a", {"state": "acknowledged"})  # the last acknowledged write
    live = tmp_path / STORE_FILE
    live.write_bytes(damage(live.read_bytes()))  # type: ignore[operator]
    with Store(tmp_path) as s:
        (aside,) = tmp_path.glob(f"{STORE_FILE}.corrupt-*")
        assert s.banner == (
            f"store {live} was unreadable (kept as {aside}); recovered from backup "
            f"{tmp_path / (STORE_FILE + '.bak.1')} (saved {s.banner.split('(saved ')[1]}"
        )
        # The newest backup is the last acknowledged state: nothing reported done is lost.
        assert s.get("incidents", "a") == {"state": "acknowledged"}
        assert s.get("incidents", "b") == {"state": "triggered"}


def test_corrupt_without_backup_says_so(tmp_path: Path) -> None:
    (tmp_path / STORE_FILE).write_bytes(b"{")
    with Store(tmp_path) as s:
        assert s.banner and "no good backup" in s.banner
        assert s.all("incidents") == []


def test_backups_are_private_and_rotate_at_most_hourly(tmp_path: Path) -> None:
    for n in range(4):  # four short sessions in a row, as cron would run them
        with Store(tmp_path) as s:
            s.put("incidents", f"inc-{n}", {"n": n})
    backups = sorted(tmp_path.glob(f"{STORE_FILE}.bak.*"))
    assert [b.name for b in backups] == [f"{STORE_FILE}.bak.1", f"{STORE_FILE}.bak.2"]
    assert all(b.stat().st_mode & 0o777 == 0o600 for b in backups)
    older = json.loads((tmp_path / f"{STORE_FILE}.bak.2").read_text())
    assert [d["_key"] for d in older["incidents"].values()] == ["inc-0"]  # the first session's end
