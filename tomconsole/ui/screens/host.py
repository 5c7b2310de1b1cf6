"""Everything about one host: state and reason, facts, history charts, its top processes
(by CPU or memory, `s`; refreshed while the screen is shown, from the host's probe),
filesystems, its interfaces (rates, use of the link, errors and drops per second) and the
network checks run from it, each opened with Enter as on the network pane. `d` offers the
host's diagnostics."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from tomconsole.config import Thresholds
from tomconsole.models import AcceptHostKey, HostState, OpenWindow
from tomconsole.monitor.network import check_rank, checks_where, interfaces
from tomconsole.monitor.state import FleetState, HostRow
from tomconsole.probes import HOST
from tomconsole.ui import format as fmt
from tomconsole.ui.messages import ActionRequested, CheckOpened, DiagnosticsRequested, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.facts import facts_text
from tomconsole.ui.render.network import CHECK_COLUMNS, IF_COLUMNS, check_cells, interface_cells
from tomconsole.ui.rows import levels
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.chart import MetricChart, fit_charts
from tomconsole.ui.widgets.fleetbar import FleetBar
from tomconsole.ui.widgets.top_processes import Processes, TopProcesses

STRIP = 20  # rounds in a check's history strip here


# The host kind's charted metrics, with their labels and units (defined in probes/host.py).
CHARTS = tuple((m.name, m.label or m.name, m.unit) for name in HOST.charted if (m := HOST.metric(name)))


def _read_only(table: DataTable[Text]) -> DataTable[Text]:
    """A table to read, not to visit: Tab goes past it to the checks, which open."""
    table.can_focus = False
    return table


class HostScreen(Screen[None]):
    """Opened with Enter on a host; Escape goes back to the fleet."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("K", "trust_key", "Trust key"),
        Binding("m", "maintenance", "Maint window"),
        Binding("d", "diagnostics", "Diagnostics"),
        Binding("s", "order", "Sort procs"),
    ]
    NAMED_COMMANDS = (
        ("Trust host key", "the key an unknown host offers (asks first)", "trust_key"),
        ("Diagnostics", "run a read-only diagnostic on this host (journal, dmesg, du, ...)", "diagnostics"),
        ("Sort processes", "the top processes by CPU or by memory", "order"),
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """K is offered (in the footer too) only while the host offers a key that is not known."""
        if action == "trust_key":
            row = self.fleet.row(self.host_name)
            return row is not None and row.state is HostState.HOSTKEY_UNKNOWN
        if action in ("diagnostics", "order"):  # only hosts polled over SSH have them
            return self.processes is not None
        return True

    def action_diagnostics(self) -> None:
        send(self, DiagnosticsRequested(self.host_name))

    def action_order(self) -> None:
        if self.processes is not None:
            self.query_one(TopProcesses).toggle()

    def action_maintenance(self) -> None:
        send(self, ActionRequested(OpenWindow, None, self.host_name))

    def action_trust_key(self) -> None:
        """An unknown host key: show its fingerprint and ask before trusting it (audited)."""
        row = self.fleet.row(self.host_name)
        if row is None or row.state is not HostState.HOSTKEY_UNKNOWN or "key" not in row.extra:
            self.notify("K trusts a host key only while the host offers one that is not known", timeout=4)
            return
        send(self, ActionRequested(AcceptHostKey, None, self.host_name))

    def __init__(
        self,
        fleet: FleetState,
        name: str,
        thresholds: Thresholds,
        palette: Palette,
        processes: Processes | None = None,
        contract: Callable[[str], str | None] | None = None,
    ) -> None:
        """`processes(host, by)`: the host's top processes now (None: none are shown);
        `contract(host)`: the contract covering it, in words (None: none covers it)."""
        super().__init__()
        self.processes = processes
        self.contract = contract
        self.fleet = fleet
        self.host_name = name
        self.thresholds = thresholds
        self.palette = palette
        self._shown_state: HostState | None = None
        self._check_keys: list[str] = []  # the checks table's rows, in order

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")  # fleet and incident counts on every screen
        yield Static(id="host-title")
        with VerticalScroll(id="host-body"):
            yield Static(id="host-reason")  # why it is not up, in full: it wraps
            yield Static(id="host-facts")
            for key, label, unit in CHARTS:
                yield MetricChart(label, unit, self.palette, id=f"chart-{key}")
            if self.processes is not None:
                yield TopProcesses(self.host_name, self.processes, self.palette.faint, id="host-top")
            yield Label("Filesystems", classes="section")
            yield _read_only(DataTable(id="host-fs", cursor_type="row", show_cursor=False))
            yield Label("Interfaces", classes="section")
            yield _read_only(DataTable(id="host-if", cursor_type="row", show_cursor=False))
            yield Label(
                "Checks run from this host (Enter opens one)", id="host-checks-title", classes="section"
            )
            yield DataTable(id="host-checks", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        fs: DataTable[Text] = self.query_one("#host-fs", DataTable)
        for label in ("Mount", "Device", "Size", "Used", "Use%"):
            fs.add_column(Text(label), key=label)
        nics: DataTable[Text] = self.query_one("#host-if", DataTable)
        for c in IF_COLUMNS[1:]:  # the host is this screen's
            nics.add_column(Text(c.label, justify="right" if c.right else "left"), key=c.key)
        checks: DataTable[Text] = self.query_one("#host-checks", DataTable)
        for c in CHECK_COLUMNS:
            if c.key != "from":
                checks.add_column(Text(c.label, justify="right" if c.right else "left"), key=c.key)
        self.refresh_from_state()
        self.set_interval(1.0, self.refresh_from_state)

    def refresh_from_state(self) -> None:
        row = self.fleet.row(self.host_name)
        if row is None:
            return
        if row.state is not self._shown_state:  # K comes and goes with hostkey_unknown
            self._shown_state = row.state
            self.refresh_bindings()
        self._title(row)
        self._facts(row)
        cpus = float(row.sample.ncpu) if row.sample and row.sample.ncpu else 1.0
        for key, _label, _unit in CHARTS:
            values = self.fleet.history(self.host_name, key, 240)
            floor = cpus if key == "load1" else 1.0  # load: the scale reaches the host's CPUs
            self.query_one(f"#chart-{key}", MetricChart).show(values, row.info.interval_s, floor)
        self._tables(row)

    def on_resize(self) -> None:
        """The charts share the height the facts and tables leave: 2 rows each at 80x24,
        up to 10 (with a time axis from 4) on a tall terminal."""
        fit_charts(list(self.query(MetricChart)), self.size.height, reserved=16)

    def _title(self, row: HostRow) -> None:
        title = Text(" ")
        title.append_text(safe_text(row.name, style="bold"))
        title.append(f"  {row.info.address}  ", style=self.palette.faint)
        if row.info.source not in ("ssh", "local") or row.also:  # as the servers pane marks it
            title.append_text(safe_text(f"via {'+'.join(row.sources)}  ", style=self.palette.faint))
        title.append(row.state.value, style=self.palette.state_style(row.state))
        self.query_one("#host-title", Static).update(title)
        reason = self.query_one("#host-reason", Static)
        reason.display = row.state is not HostState.UP and bool(row.reason)
        if reason.display:
            why = Text("why: ", style=self.palette.faint)
            why.append_text(safe_text(row.reason, style=self.palette.state_style(row.state)))
            why.no_wrap = False  # a fingerprint and a man-in-the-middle warning, whole
            reason.update(why)

    def _facts(self, row: HostRow) -> None:
        s = row.sample
        facts = Text()
        offered = row.extra.get("fingerprint")
        if offered and row.state in (HostState.HOSTKEY_UNKNOWN, HostState.HOSTKEY_CHANGED):
            facts.append("key offered: ", style=self.palette.faint)
            facts.append_text(safe_text(offered, style="bold"))
            hint = (
                "  K: compare it with the host's own, then trust it\n"
                if row.state is HostState.HOSTKEY_UNKNOWN
                else "  changed: verify out of band; not trusted from here\n"
            )
            facts.append(hint, style=self.palette.faint)
        pairs: list[tuple[str, object]] = [
            ("os", s.os if s else None),
            ("kernel", s.kernel if s else None),
            ("cpus", s.ncpu if s else None),
            ("uptime", fmt.duration(s.uptime_s) if s else None),
            ("processes", s.processes if s else None),
            ("memory", fmt.size(s.mem_total_bytes) if s else None),
            ("swap used", fmt.pct(s.swap_used_pct) if s else None),
            ("group", row.info.group),
            ("tags", ", ".join(row.info.tags)),
            ("sampled", f"{fmt.duration(row.age_s)} ago" if row.age_s is not None else None),
        ]
        if self.contract is not None:
            pairs.append(("contract", self.contract(row.info.name) or "none covers it"))
        width = self.size.width - 4  # the body's padding and a scrollbar, shown or not yet: stable
        facts.append_text(facts_text(pairs, width, self.palette.faint))
        lv = levels(row, self.thresholds)
        if s is not None:
            facts.append("\nnow: ", style=self.palette.faint)
            facts.append(f"cpu {fmt.pct(s.cpu_pct)}", style=self.palette.level_style(lv.cpu))
            facts.append(f"  mem {fmt.pct(s.mem_used_pct)}", style=self.palette.level_style(lv.mem))
            load = s.load or (None, None, None)
            facts.append(
                f"  load {fmt.num(load[0])} {fmt.num(load[1])} {fmt.num(load[2])}",
                style=self.palette.level_style(lv.load),
            )
        self.query_one("#host-facts", Static).update(facts)

    def _tables(self, row: HostRow) -> None:
        s = row.sample
        fs: DataTable[Text] = self.query_one("#host-fs", DataTable)
        fs.clear()
        for f in (s.filesystems or ()) if s else ():
            style = self.palette.level_style(self.thresholds.fs_pct.level(f.used_pct))
            fs.add_row(
                safe_text(f.mount),
                safe_text(f.device),
                Text(fmt.size(f.size_bytes), justify="right"),
                Text(fmt.size(f.used_bytes), justify="right"),
                Text(fmt.pct(f.used_pct), style=style, justify="right"),
            )
        nics: DataTable[Text] = self.query_one("#host-if", DataTable)
        nics.clear()
        for i in interfaces([row]):
            nics.add_row(*interface_cells(i, self.palette)[1:])
        self._checks()

    def _checks(self) -> None:
        """The checks whose vantage point is this host, worst first as on the network pane;
        the cursor stays on the check it was on."""
        table: DataTable[Text] = self.query_one("#host-checks", DataTable)
        views = sorted(checks_where(self.fleet, "from", self.host_name), key=check_rank)
        keys = [c.key for c in views]
        was = self._check_keys[table.cursor_row] if 0 <= table.cursor_row < len(self._check_keys) else None
        table.clear()
        skip = [c.key for c in CHECK_COLUMNS].index("from")
        for c in views:
            cells = check_cells(c, self.palette, STRIP)
            table.add_row(*cells[:skip], *cells[skip + 1 :], key=c.key)
        self._check_keys = keys
        if views:
            table.move_cursor(row=keys.index(was) if was in keys else 0)
        table.display = bool(views)
        self.query_one("#host-checks-title", Label).display = bool(views)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "host-checks" and event.row_key.value is not None:
            send(self, CheckOpened(event.row_key.value))
