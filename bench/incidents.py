"""`python -m bench.incidents`: how long an acknowledgement takes to be durable, against the
physical floor measured in the same run (one atomic, durable write of a file of the live
store's size: temp file, fsync, rename, directory fsync), with 10,000 incidents in history
and 500 open.

History older than `archive_after` is archived at start (as the engine does), so the live
file holds the open incidents and recent history only. The store runs as in the console:
an action is applied on the event loop and written by the writer thread, and "durable" is
when `store.durable()` returns (live file fsynced and renamed). The stall is the part that
runs on the loop (the change and its serialisation), measured separately.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tomconsole.incidents.book import IncidentBook, Policy
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.store import Store, atomic_write


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else values[0]


def seed(store: Store, history: int, open_: int, now: datetime) -> None:
    docs = {}
    for n in range(history):
        at = (now - timedelta(days=60, minutes=n)).isoformat()
        inc = Incident(
            f"INC-{n + 1:06d}",
            f"rule|host-{n % 500}|/",
            f"filesystem-full: host-{n % 500} /",
            "major",
            f"host-{n % 500}",
            "filesystem-full",
            state=IncidentState.RESOLVED,
            opened_at=at,
            resolved_at=at,
            resolved_by="tomconsole",
        )
        inc.log(now - timedelta(days=60), "triggered")
        inc.log(now - timedelta(days=60), "resolved")
        docs[inc.id] = inc.to_doc()
    for n in range(open_):
        iid = f"INC-{history + n + 1:06d}"
        inc = Incident(
            iid,
            f"rule|host-{n}|/var",
            f"filesystem-full: host-{n} /var",
            "critical",
            f"host-{n}",
            "filesystem-full",
            opened_at=(now - timedelta(minutes=n)).isoformat(),
        )
        inc.log(now - timedelta(minutes=n), "triggered", detail="value 93.0")
        docs[iid] = inc.to_doc()
    store.put_many("incidents", docs)


def floor_write(path: Path, size: int, rounds: int) -> list[float]:
    """The physical floor of one durable, atomic write of a file this size: temp file, fsync,
    rename, directory fsync (`store.atomic_write` alone, with no engine around it)."""
    data = os.urandom(size)
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        atomic_write(path, data)
        out.append(time.perf_counter() - t)
    return out


async def acknowledge_all(d: Path, history: int, open_: int, acks_n: int) -> tuple[list[float], ...]:
    now = datetime.now(UTC)
    store = Store(d, background=True)
    try:
        seed(store, history, open_, now)
        await store.durable()
        before = store.size_bytes()
        book = IncidentBook(store, Policy())
        archived = book.archive(timedelta(days=30))
        await store.durable()
        acks, stalls = [], []
        for iid in [i.id for i in book.open()][:acks_n]:
            t = time.perf_counter()
            book.acknowledge(iid, "bench")
            stalls.append(time.perf_counter() - t)
            await store.durable()
            acks.append(time.perf_counter() - t)
        live_after = store.size_bytes()
    finally:
        store.close()
    return acks, stalls, [float(before), float(live_after), float(archived)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--history", type=int, default=10_000)
    ap.add_argument("--open", type=int, default=500)
    ap.add_argument("--acks", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tomconsole-bench-") as tmp:
        d = Path(tmp)
        acks, stalls, (before, live, archived) = asyncio.run(
            acknowledge_all(d, args.history, args.open, args.acks)
        )
        live_after = int(live)
        floor = floor_write(d / "floor.bin", live_after, max(50, args.acks))
    ack_p99, floor_p99 = _p(acks, 99), _p(floor, 99)
    print(f"| history {args.history}, open {args.open} | value | floor (same run) | ratio |")
    print("|---|---|---|---|")
    ack_p50, floor_p50 = statistics.median(acks), statistics.median(floor)
    for label, ours, base in (("p50", ack_p50, floor_p50), ("p99", ack_p99, floor_p99)):
        print(
            f"| ack -> durable, {label} | {1000 * ours:.1f} ms | {1000 * base:.1f} ms | {ours / base:.2f}x |"
        )
    stall_p99, stall_max = 1000 * _p(stalls, 99), 1000 * max(stalls)
    print(f"| event-loop stall per ack, p99 / max | {stall_p99:.1f} / {stall_max:.1f} ms | | |")
    print(
        f"| live file | {live_after / 2**20:.2f} MB (was {before / 2**20:.2f} MB before archiving "
        f"{int(archived)} incidents) | | |"
    )


if __name__ == "__main__":
    main()
