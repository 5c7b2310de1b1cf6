"""Contracts: which one covers a host, the renewal task opened once on the right day (not
again after a restart, paging nobody), and a lapsed contract on a live host."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.incidents.contracts import covering, host_contract, lapsed, notice_date
from tomconsole.models import HostInfo

CONFIG = {
    "hosts": [{"name": "db-01", "address": "127.0.0.1", "group": "prod"}],
    "team": {"members": [{"name": "ana"}], "escalation": ["ana"]},
    "incidents": {"ack_within": "1m"},
    "vendors": [{"name": "Dell [b]EMC[/b]", "support": "+49 69 9792 0000"}],
    "contracts": [
        {
            "name": "prosupport",
            "vendor": "Dell [b]EMC[/b]",
            "covers": "group:prod",
            "start": "2026-01-01",
            "end": "2026-12-31",
            "notice": "90d",  # notice by 2 October; the task from 3 August (60 days before)
            "auto_renew": True,
            "cost": 12000,
        },
        {
            "name": "old",
            "vendor": "Dell [b]EMC[/b]",
            "covers": "host:db-01",
            "start": "2025-01-01",
            "end": "2025-12-31",
        },
    ],
}
DB01 = HostInfo("db-01", "127.0.0.1", (), "prod")


def test_covering_and_notice_date() -> None:
    cfg = Config.model_validate(CONFIG)
    prosupport, old = cfg.contracts
    assert notice_date(prosupport) == date(2026, 10, 2)
    assert covering(cfg.contracts, "db-01", DB01, date(2026, 6, 1)) == [prosupport]
    assert covering(cfg.contracts, "db-01", DB01, date(2025, 6, 1)) == [old]
    assert lapsed(cfg.contracts, [DB01], date(2027, 1, 2)) == []  # prosupport renewed itself: covered
    (renewed,) = covering(cfg.contracts, "db-01", DB01, date(2027, 1, 2))
    assert (renewed.start, renewed.end, notice_date(renewed)) == (
        date(2027, 1, 1),
        date(2027, 12, 31),
        date(2027, 10, 2),
    )
    ended = Config.model_validate({**CONFIG, "contracts": [{**CONFIG["contracts"][0], "auto_renew": False}]})
    assert [(c.name, h) for c, h in lapsed(ended.contracts, [DB01], date(2027, 1, 2))] == [
        ("prosupport", "db-01")
    ]
    assert lapsed(cfg.contracts, [DB01], date(2026, 6, 1)) == []  # prosupport covers it now


async def test_the_renewal_task_opens_once_on_its_day_and_pages_nobody(tmp_path: Path) -> None:
    clock = [datetime(2026, 8, 2, 23, 59, tzinfo=UTC)]
    config = Config.model_validate(CONFIG)

    def make() -> Engine:
        return Engine(config, data_dir=tmp_path, poll=False, background=False, wall=lambda: clock[0])

    eng = make()
    try:
        await eng.housekeeping()
        assert eng.incidents is not None and eng.incidents.book.open() == []  # a minute early
        clock[0] += timedelta(minutes=1)
        eng._contracts_due = 0.0  # the next look (once a minute)
        await eng.housekeeping()
        (task,) = eng.incidents.book.open()
        assert task.kind == "task" and task.severity == "info"
        assert task.title == (
            "contract prosupport (Dell [b]EMC[/b]): give notice by 2026-10-02"
            " or it renews by itself on 2026-12-31"
        )
        clock[0] += timedelta(days=3)
        eng.tick()
        assert not eng.incidents.book.incidents[task.id].escalated  # ack_within is 1m: a task waits
        eng.incidents.book.resolve(task.id, "ana")
    finally:
        await eng.stop()
    again = make()  # a restart, the task resolved: not opened again for this term
    try:
        await again.housekeeping()
        assert again.incidents is not None and again.incidents.book.open() == []
    finally:
        await again.stop()


def test_a_host_screen_line_names_the_contract_its_sla_and_support() -> None:
    cfg = Config.model_validate(
        {**CONFIG, "contracts": [{**CONFIG["contracts"][0], "sla_response": "4h", "sla_resolution": "1d"}]}
    )
    line = host_contract(cfg, "db-01", DB01, date(2026, 6, 1))
    assert line == "prosupport (Dell [b]EMC[/b]) until 2026-12-31, SLA 4h00m/1d0h; support +49 69 9792 0000"
    assert "until 2027-12-31" in (host_contract(cfg, "db-01", DB01, date(2027, 1, 1)) or "")  # renewed
    ended = Config.model_validate({**CONFIG, "contracts": [{**CONFIG["contracts"][0], "auto_renew": False}]})
    assert host_contract(ended, "db-01", DB01, date(2027, 1, 1)) is None  # ended: none covers it


def test_a_contracts_targets_and_currency_are_checked_with_their_line() -> None:
    import pytest

    from tomconsole.config import ConfigError, parse_config

    bad_scope = (
        "vendors: [{name: D}]\ncontracts:\n"
        "  - {name: c, vendor: D, covers: 'grup:prod', start: 2026-01-01, end: 2026-12-31}\n"
    )
    with pytest.raises(ConfigError, match=r"grup:prod: a contract covers host:NAME"):
        parse_config(bad_scope)
    mixed = (
        "vendors: [{name: D}]\nbudget: {lines: [{name: s, planned: 1}]}\n"
        "contracts:\n  - {name: c, vendor: D, covers: 'group:prod', start: 2026-01-01, end: 2026-12-31,"
        " currency: USD, budget_line: s}\n"
    )
    with pytest.raises(ConfigError, match="contract c costs USD; its budget line s is in EUR"):
        parse_config(mixed)


async def test_a_task_pages_nobody_and_the_vendor_is_engaged_once(tmp_path: Path) -> None:
    config = Config.model_validate(
        {**CONFIG, "notifications": {"command": ["true"], "events": ["trigger", "resolve"]}}
    )
    eng = Engine(
        config, data_dir=tmp_path, poll=False, background=False, wall=lambda: datetime(2026, 9, 1, tzinfo=UTC)
    )
    try:
        await eng.housekeeping()
        assert eng.incidents is not None
        (task,) = eng.incidents.book.open()
        eng.incidents.book.resolve(task.id, "ana")
        assert (
            eng.store is not None and eng.store.all("outbox") == []
        )  # neither opened nor resolved: no event
        inc = eng.incidents.book.open_manual("db-01 slow", "ana", "db-01", "major")
        from tomconsole.models import EngageVendor

        assert (await eng.act(EngageVendor(inc.id, "ana", "Dell", "SR-1")))["ok"]
        again = await eng.act(EngageVendor(inc.id, "ben", "Dell", "SR-2"))
        assert not again["ok"] and "was engaged at 2026-09-01T00:00 UTC" in again["error"]
        assert eng.incidents.book.incidents[inc.id].vendor == {
            "name": "Dell",
            "at": "2026-09-01T00:00:00+00:00",
            "ref": "SR-1",
        }
    finally:
        await eng.stop()
