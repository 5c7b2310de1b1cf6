"""The demo's operations desk: a few change records written by the demo team (ben and ana),
so the Changes view has a calendar to show and the operator has someone else's change to
approve, start and complete (nobody approves their own). Written once, into an empty store."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tomconsole.engine import Engine
from tomconsole.models import BookSpend, ChangeStep, NewChange, SpendEntry


async def seed_changes(engine: Engine, fleet_hosts: list[str]) -> None:
    """CHG-1 on db-01 now (submitted: approve it, start it, complete it), CHG-2 kernel updates
    tomorrow morning (submitted), CHG-3 a high-risk certificate rotation (a draft)."""
    ie = engine.incidents
    if ie is None or ie.store.read_only or ie.changes.listing():
        return
    now = datetime.now(UTC)
    tomorrow = datetime.combine(now.astimezone().date() + timedelta(days=1), time(6, 0)).astimezone()
    db = next((h for h in fleet_hosts if h.startswith("db-")), fleet_hosts[0])
    drafts = [
        (
            NewChange(
                f"Grow /var on {db}: the order logs are filling it",
                "ben",
                "low",
                f"host:{db} db:orders",
                now.isoformat(),
                (now + timedelta(minutes=45)).isoformat(),
                rollback="nothing to undo: the volume only grows",
                description="Extend the LVM volume behind /var by 20 GiB and the filesystem with it.",
                impact="none expected; orders keeps running",
            ),
            True,
        ),
        (
            NewChange(
                "Kernel update on the staging servers",
                "ben",
                "medium",
                "group:staging",
                tomorrow.astimezone(UTC).isoformat(),
                (tomorrow + timedelta(hours=1)).astimezone(UTC).isoformat(),
                rollback="boot the previous kernel from the GRUB menu",
                impact="each host reboots once, one at a time",
            ),
            True,
        ),
        (
            NewChange(
                "Rotate the TLS certificates on the load balancers",
                "ana",
                "high",
                "tag:lb",
                (tomorrow + timedelta(hours=16)).astimezone(UTC).isoformat(),
                (tomorrow + timedelta(hours=16, minutes=30)).astimezone(UTC).isoformat(),
                rollback="put the old certificate and key back; reload haproxy",
            ),
            False,
        ),
    ]
    for change, submit in drafts:
        reply = await engine.act(change)
        if reply.get("ok") and submit:
            await engine.act(ChangeStep(reply["change"]["id"], "submit", change.by))
    # the cloud bill, a little over plan every month this year (the Budget view flags it)
    today = now.date()
    bills = tuple(
        SpendEntry(
            f"{today.year}-{m:02d}-03", "cloud", 2100.0 + 15 * m, "AWS", f"invoice {today.year}-{m:02d}"
        )
        for m in range(1, today.month + 1)
        if today.day >= 3 or m < today.month
    )
    if bills:
        await engine.act(BookSpend(bills, "cho", "demo"))
