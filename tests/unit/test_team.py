"""Skills coverage on a sample team and onboarding ticks on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tomconsole.config import parse_config
from tomconsole.incidents.team import coverage, onboarding, tick
from tomconsole.models import TickOnboarding
from tomconsole.store import Store

TEAM = """team:
  members:
    - {name: ana, skills: [postgres, network]}
    - {name: ben, skills: [postgres]}
    - {name: cho, skills: [nginx], joined: 2026-11-20}
  needs: {"group:db": [postgres], "tag:web": [nginx, tls], "db:orders": [postgres, network]}
  onboarding:
    - {item: access granted, within: 3d}
    - {item: shadowed an on-call shift, within: 30d}
"""


def test_coverage_flags_single_points_and_gaps() -> None:
    config = parse_config(TEAM)
    got = {(c.system, c.skill): (c.people, c.problem) for c in coverage(config, next_week=["cho"])}
    assert got[("group:db", "postgres")] == (("ana", "ben"), "nobody on next week's rotation can handle it")
    assert got[("tag:web", "nginx")] == (("cho",), "only cho can handle it")
    assert got[("tag:web", "tls")] == ((), "nobody can handle it")
    assert got[("db:orders", "network")] == (("ana",), "only ana can handle it")
    ok = {(c.system, c.skill): c.problem for c in coverage(config, next_week=["ben"])}
    assert ok[("group:db", "postgres")] is None


def test_onboarding_items_fall_due_and_are_ticked_once(tmp_path: Path) -> None:
    config = parse_config(TEAM)
    store = Store(tmp_path)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    steps = {s.item: s for s in onboarding(config, store)}
    assert steps["access granted"].overdue(now) and not steps["shadowed an on-call shift"].overdue(now)
    tick(config, store, TickOnboarding("cho", "access granted", "ana"), now)
    done = {s.item: s for s in onboarding(config, Store(tmp_path, read_only=True))}
    assert done["access granted"].done_by == "ana" and not done["access granted"].overdue(now)
    with pytest.raises(ValueError, match="already ticked"):
        tick(config, store, TickOnboarding("cho", "access granted", "ana"), now)
    with pytest.raises(ValueError, match="not a new member"):
        tick(config, store, TickOnboarding("ana", "access granted", "ben"), now)
    with pytest.raises(ValueError, match="not on the onboarding checklist"):
        tick(config, store, TickOnboarding("cho", "coffee", "ben"), now)
