"""The network pane: every check from every vantage point, worst on top, and below it every
host's interfaces (physical links first, virtual ones folded until `v`).

A dumb pane: a snapshot in, `CheckOpened` / `HostOpened` out. `/` filters both tables:
plain words match a check's name, target and vantage or a host and interface name;
`from:web-01`, `kind:dns`, `state:down`, `tag:` and `group:` match one field (of an
interface: its host, `state:` its link, `kind:interface`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from tomconsole.engine import Snapshot
from tomconsole.monitor.network import CheckView, InterfaceView, check_rank, interfaces
from tomconsole.ui.keys import FieldInput
from tomconsole.ui.messages import CheckOpened, HostOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane, Sort
from tomconsole.ui.render.network import CHECK_COLUMNS, IF_COLUMNS, check_cells, interface_cells
from tomconsole.ui.rows import matches
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import FleetTable, Row
from tomconsole.ui.widgets.lines import show_text

IF_TABLE = "network-ifs"


def check_matches(c: CheckView, query: str) -> bool:
    """Every word of the filter holds for the check (see the module docstring)."""
    rest = []
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if sep and field == "from":
            if value not in c.vantage.lower():
                return False
        elif sep and field == "kind":
            if value != c.probe:
                return False
        elif not sep and word in c.where.lower():
            continue
        else:
            rest.append(word)
    return matches(c.row, " ".join(rest)) if rest else True


def if_matches(i: InterfaceView, query: str) -> bool:
    """Every word of the filter holds for the interface: a plain word is in its host's or
    its own name; `from:`/`host:` its host, `state:` its link or its host's state, `tag:` and
    `group:` its host's; `kind:` keeps interfaces only as `kind:interface` (or `kind:if`)."""
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if not sep:
            ok = word in i.host.lower() or word in i.name.lower()
        elif field in ("from", "host"):
            ok = value in i.host.lower()
        elif field == "state":
            ok = value in (i.operstate or "").lower() or value in i.host_state.value
        elif field == "tag":
            ok = any(value in t.lower() for t in i.tags)
        elif field == "group":
            ok = value in (i.group or "").lower()
        elif field == "kind":
            ok = value in ("interface", "if")
        else:
            ok = False
        if not ok:
            return False
    return True


def arrange_checks(checks: list[CheckView], query: str, sort: str) -> list[CheckView]:
    """The checks the filter keeps, in the chosen order (worst first by default)."""
    shown = [c for c in checks if check_matches(c, query)] if query else list(checks)
    if sort == "name":
        return sorted(shown, key=lambda c: (c.name, c.vantage))
    if sort == "latency":
        return sorted(shown, key=lambda c: (-(c.p50_ms or -1), c.key))
    if sort == "loss":
        return sorted(shown, key=lambda c: (-(c.window_loss_pct or -1), c.key))
    return sorted(shown, key=check_rank)


class NetworkPane(FilteredTablePane):
    """Pane 3: the checks table over the interfaces table."""

    COLUMNS = CHECK_COLUMNS
    TABLE_ID = "network-checks"
    FILTER_HINT = "filter: words, from:web-01, kind:dns, state:down, tag:web"
    TAB_TITLE = "Network"
    SHORT_TITLE = "Net"
    LEGEND = (
        "Last, p50, p95: round-trip times in ms (the last round, the median and the 95th"
        " percentile of the kept rounds). Loss: rounds without an answer. History: one cell per"
        " round, its height the latency, ✕ a round lost. From: the vantage point (console: this"
        " machine). Interfaces: Util is the busier direction's share of the link speed."
    )
    SORTS = (
        Sort("worst", "state", words="by health", first="worst first", last="healthiest first"),
        Sort("name", "check", descending=False, words="by name", first="A to Z", last="Z to A"),
        Sort("latency", "p95", words="by p95 latency", first="slowest first", last="fastest first"),
        Sort("loss", "loss", words="by packet loss"),
    )
    NAMED_COMMANDS = (
        ("Show or fold virtual interfaces", "lo, veth, docker, bridges, ...", "toggle_virtual"),
        ("Show the check's vantage host", "the host a check runs from", "vantage_host"),
    )
    BINDINGS = [
        Binding("v", "toggle_virtual", "Virtual ifs"),
        Binding("h", "vantage_host", "Vantage host"),
    ]

    def __init__(self, palette: Palette, **kw: object) -> None:
        super().__init__(**kw)
        self.palette = palette
        self.show_virtual = False
        self._checks: list[CheckView] = []
        self._ifs: list[InterfaceView] = []
        self._generation = 0
        self._strip_width = 12

    def compose(self) -> ComposeResult:
        yield FieldInput(placeholder=self.FILTER_HINT, classes="pane-filter")
        yield FleetTable(
            self.COLUMNS, on_select=self.row_chosen, on_refit=self._render_rows, id=self.TABLE_ID
        )
        yield Label("", id="network-if-title", classes="section")
        yield FleetTable(IF_COLUMNS, on_select=self.interface_chosen, id=IF_TABLE)
        yield Static(classes="pane-status")

    def focus_after_filter(self) -> FleetTable:
        """The checks, unless the filter left only interfaces (`/eth0`, `/localhost`)."""
        if self.table.row_count == 0 and self.interfaces_table.row_count > 0:
            return self.interfaces_table
        return self.table

    @property
    def interfaces_table(self) -> FleetTable:
        return self.query_one(f"#{IF_TABLE}", FleetTable)

    @property
    def shown_checks(self) -> list[str]:
        return list(self.table.keys)

    @property
    def shown_interfaces(self) -> list[str]:
        return list(self.interfaces_table.keys)

    def take(self, snapshot: Snapshot) -> None:
        """The new snapshot's checks and interfaces (drawn by the next render)."""
        self._checks = snapshot.checks
        self._ifs = interfaces(snapshot.hosts)

    def repaint(self, palette: Palette) -> None:
        self.palette = palette
        self._generation += 1
        if self.is_mounted:
            self.table.invalidate()
            self.interfaces_table.invalidate()

    def _render_rows(self) -> None:
        table = self.table
        width = table.width_of(len(CHECK_COLUMNS) - 1)
        if width != self._strip_width:
            self._strip_width = width
            self._generation += 1
        checks = self.ordered(arrange_checks(self._checks, self.query_text, self.sort))
        table.set_rows([self._check_row(c) for c in checks])
        ifs = [i for i in self._ifs if if_matches(i, self.query_text)] if self.query_text else self._ifs
        physical = [i for i in ifs if i.physical]
        shown = ifs if self.show_virtual else physical
        self.interfaces_table.set_rows([self._if_row(i) for i in shown])
        folded = len(ifs) - len(physical)
        title = f"Interfaces ({len(physical)} physical"
        if folded:
            how = "shown" if self.show_virtual else "folded: v shows them"
            title += f", {folded} virtual {how}"
        title += ")"
        show_text(self.query_one("#network-if-title", Label), Text(title))
        self._update_status(len(checks), len(shown))

    def _check_row(self, c: CheckView) -> Row:
        token = (c.row.version, c.row.state, c.row.reason, self._generation)
        return Row(c.key, token, lambda: check_cells(c, self.palette, self._strip_width))

    def _if_row(self, i: InterfaceView) -> Row:
        token = (i, self._generation)
        return Row(i.key, token, lambda: interface_cells(i, self.palette))

    def _update_status(self, checks: int, ifs: int) -> None:
        counts = f"{checks} check{'s' * (checks != 1)}  {ifs} interface{'s' * (ifs != 1)}"
        status = Text(f" {counts}  ", style=self.palette.faint)
        if self.query_text:
            status.append("filter: ", style=self.palette.faint)
            status.append_text(safe_text(self.query_text))
        if not self._checks:
            status.append(
                "  no checks configured: network.checks in the config (see README)", style=self.palette.faint
            )
        self.set_status(status)

    # -- intents out ------------------------------------------------------------------

    def row_chosen(self, key: str) -> None:
        """Enter on a check: its screen."""
        send(self, CheckOpened(key))

    def interface_chosen(self, key: str) -> None:
        """Enter on an interface: its host's screen."""
        send(self, HostOpened(key.rsplit("/", 1)[0]))

    def action_vantage_host(self) -> None:
        """From a check to the host it runs from (the interfaces table: to that host)."""
        if self.interfaces_table.has_focus:
            key = self.interfaces_table.cursor_key
            if key is not None:
                self.interface_chosen(key)
            return
        key = self.table.cursor_key
        check = next((c for c in self._checks if c.key == key), None)
        if check is None:
            return
        if check.vantage == "console":
            self.notify("this check runs from the console itself", timeout=3)
        else:
            send(self, HostOpened(check.vantage))

    def action_toggle_virtual(self) -> None:
        """v: show or fold the virtual interfaces."""
        self.show_virtual = not self.show_virtual
        self._render_rows()
