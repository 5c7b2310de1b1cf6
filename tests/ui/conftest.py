"""UI fixtures: a frozen fleet for snapshots (real wire format, fixed numbers) and the live demo."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.ui.frozen_network import CHECKS, feed_checks
from tomconsole.collectors.sources import StaticSource, check_infos
from tomconsole.config import Config, HostConfig, load_config
from tomconsole.demo.fleet import DemoFleet, plan
from tomconsole.demo.sim import SimHost
from tomconsole.engine import Engine
from tomconsole.models import HostInfo, HostState, Observation
from tomconsole.probes import HOST
from tomconsole.probes.linux import cpu_percent, parse_reply
from tomconsole.probes.network import CHECK
from tomconsole.ui.app import TomConsole

FROZEN_WALL = datetime(2026, 11, 23, 3, 14, 15, tzinfo=UTC)


DESK: dict[str, Any] = {
    "team": {
        "members": [
            {"name": "ana", "skills": ["linux", "postgres"]},
            {"name": "ben", "skills": ["linux"]},
            {"name": "cho", "joined": "2026-11-10"},
        ],
        "escalation": ["ana", "ben", "cho"],
        "needs": {"group:prod": ["linux"], "host:db-01": ["postgres"], "tag:lb": ["haproxy"]},
        "onboarding": [
            {"item": "accounts granted", "within": "2d"},
            {"item": "runbooks read", "within": "30d"},
        ],
    },
    # FROZEN_WALL is Mon 2026-11-23 04:14 in Berlin: ana's week (from Nov 16), ben's from 09:00
    "oncall": {
        "rotations": [
            {
                "team": "ops",
                "members": ["ana", "ben"],
                "handover_day": "mon",
                "handover_time": "09:00",
                "timezone": "Europe/Berlin",
                "start": "2026-11-02",
            }
        ]
    },
}


def seed_desk(engine: Engine) -> None:
    """Three changes at fixed times, through the real book: one running on db-01 (ana's,
    approved by ben), one completed, one waiting for approval tomorrow."""
    from datetime import timedelta

    from tomconsole.models import ChangeStep, NewChange

    assert engine.incidents is not None
    book = engine.incidents.changes
    at = FROZEN_WALL
    plans = [
        (
            "Grow /var on db-01 [b]now[/b]",
            "ana",
            "low",
            "host:db-01 db:orders",
            -10,
            50,
            ("submit", "approve", "start"),
        ),
        (
            "Restart the queue workers",
            "ben",
            "low",
            "tag:queue",
            -5,
            10,
            ("submit", "approve", "start", "complete"),
        ),
        ("Kernel update on staging", "ben", "medium", "group:staging", 24 * 60, 25 * 60, ("submit",)),
    ]
    for n, (title, who, risk, scope, start, end, steps) in enumerate(plans, start=1):
        s, e = at + timedelta(minutes=start), at + timedelta(minutes=end)
        book.new(NewChange(title, who, risk, scope, s.isoformat(), e.isoformat(), rollback="undo it"))
        for step in steps:
            book.step(ChangeStep(f"CHG-{n}", step, "cho" if step == "approve" else who))


class FrozenClock:
    def __init__(self) -> None:
        self.t = 10_000.0

    def __call__(self) -> float:
        return self.t


def frozen_engine(
    n: int = 10,
    data_dir: Path | None = None,
    network: bool = False,
    read_only: bool = False,
    extra: dict[str, object] | None = None,
) -> Engine:
    """An engine whose fleet is filled from simulated replies at fixed times, parsed by the
    real parser; its sources have the targets and no collectors, so nothing changes after.
    With `network`, the checks of tests/ui/frozen_network.py too."""
    hosts = plan(n)
    clock = FrozenClock()
    infos = [HostInfo(h.spec.name, h.address, (h.spec.role,), h.group, 2.0) for h in hosts]
    config = frozen_config(n, network, extra).model_copy(update={"history_points": 60})
    sources = [StaticSource("frozen", HOST, infos)]
    if network:
        sources.append(StaticSource("network", CHECK, check_infos(config)))
    engine = Engine(
        config, data_dir=data_dir, sources=sources, clock=clock, read_only=read_only, wall=lambda: FROZEN_WALL
    )
    fleet = engine.fleet
    sims = [SimHost(h.spec, clock=1_700_000_000.0) for h in hosts]
    prev: dict[str, object] = {}
    for step in range(12):
        wall = 1_700_000_000.0 + 2 * step
        for h, sim in zip(hosts, sims, strict=True):
            sample = parse_reply(sim.reply(str(step), "df", wall), FROZEN_WALL).sample
            assert sample is not None
            cpu = cpu_percent(prev.get(h.spec.name), sample.cpu_times)  # type: ignore[arg-type]
            prev[h.spec.name] = sample.cpu_times
            fleet.apply(Observation(h.spec.name, HostState.UP, None, replace(sample, cpu_pct=cpu)))
        clock.t += 2
    fleet.apply(Observation(hosts[-1].spec.name, HostState.UNREACHABLE, "connection refused"))
    fleet.apply(Observation(hosts[-2].spec.name, HostState.HOSTKEY_CHANGED, "host key changed"))
    if network:
        feed_checks(engine, clock, FROZEN_WALL)
    return engine


def frozen_incidents(data_dir: Path) -> None:
    """A store with a few incidents at fixed times, written through the real book."""
    from datetime import timedelta

    from tomconsole.incidents.book import IncidentBook
    from tomconsole.store import Store

    t = [FROZEN_WALL - timedelta(minutes=42)]
    with Store(data_dir) as store:
        book = IncidentBook(store, now=lambda: t[0])
        a = book.open_manual("filesystem-full: db-01 /var fs_pct > 90", "tomconsole", "db-01", "critical")
        t[0] += timedelta(minutes=5)
        book.acknowledge(a.id, "ana")
        book.note(a.id, "ana", "rotating /var/log/app, [b]not markup[/b]")
        book.assign(a.id, "ana", "ben")
        t[0] += timedelta(minutes=20)
        book.open_manual("host-down: web-04", "tomconsole", "web-04", "critical")
        t[0] += timedelta(minutes=10)
        book.open_manual("load-high: cache-02 load_per_core > 2", "tomconsole", "cache-02", "minor")


def frozen_config(n: int = 10, network: bool = False, extra: dict[str, object] | None = None) -> Config:
    """The config of the frozen fleet: its hosts (and checks), and no rules, not even the
    defaults (the frozen screen shows only the stored incidents)."""
    hosts = [
        HostConfig(name=h.spec.name, address=h.address, tags=[h.spec.role], group=h.group) for h in plan(n)
    ]
    checks = {"interval": "10s", "checks": CHECKS} if network else {}
    return Config.model_validate({"hosts": hosts, "default_rules": False, "network": checks, **(extra or {})})


def frozen_app(
    n: int = 10,
    data_dir: Path | None = None,
    network: bool = False,
    read_only: bool = False,
    extra: dict[str, object] | None = None,
    operator: str | None = None,
) -> TomConsole:
    """`extra`: config keys beside the frozen fleet's (team, oncall, changes...)."""
    engine = frozen_engine(n, data_dir, network, read_only, extra)
    if read_only:
        engine.as_read_only_console()  # as cli/console.py does for --read-only
    return TomConsole(engine, wall_clock=lambda: FROZEN_WALL, subtitle="snapshot", operator=operator)


def demo_app(directory: Path, hosts: int = 8) -> tuple[TomConsole, DemoFleet]:
    fleet = DemoFleet(directory, hosts)

    async def start() -> Engine:
        await fleet.start(interval=1.0)
        return Engine(load_config(fleet.config_path))

    app = TomConsole(start, subtitle="demo fleet", teardown=fleet.stop)
    return app, fleet
