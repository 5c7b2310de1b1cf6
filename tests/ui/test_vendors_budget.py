"""The Vendors and Budget views of the operations pane, and a contract on an incident's
screen with the vendor engaged by keys: markup in vendor names and notes stays literal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.ui.conftest import frozen_app, frozen_incidents
from tests.ui.test_keys import _ready, burst
from tests.ui.test_servers_pane import wait_for
from tomconsole.models import BookSpend, SpendEntry
from tomconsole.ui.app import TomConsole
from tomconsole.ui.panes.operations import OperationsPane
from tomconsole.ui.screens.ask import AskForm
from tomconsole.ui.screens.incident import IncidentScreen

# The frozen clock is 2026-11-23. The contract names its hosts, so the test does not depend
# on the groups the frozen fleet's plan gives them.
MONEY: dict[str, Any] = {
    "vendors": [{"name": "Dell [b]EMC[/b]", "support": "+49 69 [i]9792[/i]", "escalation": "TAM"}],
    "budget": {
        "lines": [{"name": "support", "planned": 1000, "owner": "ana"}, {"name": "cloud", "planned": 10}]
    },
    "contracts": [
        {
            "name": "prosupport",
            "vendor": "Dell [b]EMC[/b]",
            "covers": "host:db-01 host:web-01",
            "start": "2026-01-01",
            "end": "2027-01-31",
            "notice": "90d",  # notice by 2026-11-02: past it (the task came in September)
            "cost": 12000,
            "sla_response": "4h",
            "sla_resolution": "1d",
            "budget_line": "support",
        },
        {
            "name": "lapsed",
            "vendor": "Dell [b]EMC[/b]",
            "covers": "host:lb-01",
            "start": "2025-01-01",
            "end": "2025-12-31",
        },
    ],
}


def _pane(app: TomConsole) -> OperationsPane:
    return next(p for p in app.panes if isinstance(p, OperationsPane))


def _cells(app: TomConsole, key: str) -> list[str]:
    table = _pane(app).table
    return [c.plain for c in table.cells(key)] if key in table.keys else [""] * 8


async def test_vendors_and_budget_views(tmp_path: Path) -> None:
    app = frozen_app(data_dir=tmp_path, extra=MONEY, operator="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        burst(app, "6", "v", "v", "v")
        pane = _pane(app)
        await wait_for(pilot, lambda: pane.view == "vendors" and "contract|prosupport" in pane.table.keys)
        heading = pane.table.cells("§Dell [b]EMC[/b]")[0].plain
        assert heading.startswith("▸ Dell [b]EMC[/b]") and "+49 69 [i]9792[/i]" in heading
        cells = _cells(app, "contract|prosupport")
        assert cells[2] == "2" and cells[4] == "2026-11-02" and cells[7] == "past notice"
        assert _cells(app, "contract|lapsed")[7] == "ended"
        assert app.engine is not None  # a cloud bill over its plan (10 a month)
        spend = (SpendEntry("2026-11-02", "cloud", 500.0, "AWS", "[b]bill[/b]"),)
        assert (await app.engine.act(BookSpend(spend, "ana", "cli")))["ok"]
        burst(app, "v")
        await wait_for(pilot, lambda: pane.view == "budget" and "line|support" in pane.table.keys)
        # by hand: planned 10 months x 1000 + 23/30 of November; the contract the same, prorated
        support = _cells(app, "line|support")
        assert support[3] == "10,767" and support[4] == "10,767" and support[5] == "+0"
        await wait_for(pilot, lambda: _cells(app, "line|cloud")[4] == "500")
        assert _cells(app, "line|cloud")[5] == "+392" and _cells(app, "line|cloud")[7] == "OVER PLAN"
        assert _cells(app, "line|support")[7] == "EUR"  # on plan: its currency, no flag


async def test_a_contract_on_an_incident_and_the_vendor_engaged(tmp_path: Path) -> None:
    frozen_incidents(tmp_path)  # INC-000001: filesystem-full on db-01
    app = frozen_app(data_dir=tmp_path, extra=MONEY, operator="ana")
    async with app.run_test(size=(100, 40)) as pilot:
        await _ready(pilot)
        assert app.incidents is not None
        inc = next(i for i in app.incidents.book.open() if i.host == "db-01")
        burst(app, "2")
        await wait_for(pilot, lambda: app.incidents_pane.table.cursor_key is not None)
        keys = app.incidents_pane.table.keys
        burst(app, *["j"] * keys.index(inc.id), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen))

        def facts() -> str:
            return str(app.screen.query_one("#inc-facts", Static).render())

        await wait_for(pilot, lambda: "contract: prosupport (Dell [b]EMC[/b])" in facts())
        assert "support: +49 69 [i]9792[/i]; escalation: TAM" in facts()
        assert "the clock starts when the vendor is engaged (V)" in facts()
        burst(app, "V")
        await wait_for(pilot, lambda: isinstance(app.screen, AskForm))
        burst(app, *"SR [b]1[/b]", "enter")
        await wait_for(pilot, lambda: "vendor engaged 0m ago (ticket SR [b]1[/b])" in facts())
        assert app.incidents.book.incidents[inc.id].vendor["name"] == "Dell [b]EMC[/b]"
    again = frozen_app(data_dir=tmp_path, extra=MONEY, operator="ana")  # kept across a restart
    async with again.run_test(size=(100, 40)) as pilot:
        await _ready(pilot)
        assert again.incidents is not None
        assert again.incidents.book.incidents[inc.id].vendor["ref"] == "SR [b]1[/b]"
