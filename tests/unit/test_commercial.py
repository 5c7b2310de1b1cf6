"""Vendors and contracts added from the shell: checked as the config's are, kept in the store,
seen beside the config's by everything (and after a restart), and carried by the inbox."""

from __future__ import annotations

from pathlib import Path

from tomconsole.config import Config
from tomconsole.engine import Engine
from tomconsole.incidents.actions import from_wire, to_wire
from tomconsole.models import AddContract, AddVendor

CONFIG = Config.model_validate(
    {
        "hosts": [{"name": "web-01", "address": "127.0.0.1"}],
        "vendors": [{"name": "Dell"}],
        "budget": {"lines": [{"name": "support", "planned": 100}]},
    }
)
ACME = (("name", "Acme [b]x[/b]"), ("support", "+1 555 0100"))
CONTRACT = (
    ("name", "acme-1"),
    ("vendor", "Acme [b]x[/b]"),
    ("covers", "host:web-01"),
    ("start", "2026-01-01"),
    ("end", "2026-12-31"),
    ("notice", "30d"),
    ("cost", "1200"),
    ("budget_line", "support"),
)


async def test_added_records_join_the_configs_and_survive_a_restart(tmp_path: Path) -> None:
    eng = Engine(CONFIG, data_dir=tmp_path, poll=False, background=False)
    try:
        early = await eng.act(AddContract(CONTRACT, "ana"))  # its vendor is not known yet
        assert not early["ok"] and "vendor Acme [b]x[/b] is not known" in early["error"]
        assert (await eng.act(AddVendor(ACME, "ana")))["ok"]
        reply = await eng.act(AddContract(CONTRACT, "ana"))
        assert reply["ok"] and reply["contract"]["notice"] == 30 * 86400
        assert [c.name for c in eng.config.contracts] == ["acme-1"]
        again = await eng.act(AddVendor((("name", "Dell"),), "ana"))
        assert not again["ok"] and again["error"] == "vendor Dell exists already"
        bad = await eng.act(
            AddContract((*CONTRACT[:1], ("vendor", "Dell"), *CONTRACT[2:4], ("end", "x")), "ana")
        )
        assert not bad["ok"] and bad["error"].startswith("contract: end:")
    finally:
        await eng.stop()
    restarted = Engine(CONFIG, data_dir=tmp_path, poll=False, background=False)
    try:
        assert [v.name for v in restarted.config.vendors] == ["Dell", "Acme [b]x[/b]"]
        assert [c.name for c in restarted.config.contracts] == ["acme-1"]
        audit = [a["action"] for a in restarted.store.all("audit")]  # type: ignore[union-attr]
        assert audit.count("vendor-add") == 1 and audit.count("contract-add") == 1
    finally:
        restarted.close()


def test_the_inbox_carries_them_unchanged() -> None:
    for action in (AddVendor(ACME, "ana"), AddContract(CONTRACT, "ana")):
        assert from_wire(to_wire(action)) == action
