"""One check from one vantage point in full: state and reason (wrapped), what it checks, its
latency over the window as a smokeping-style chart with loss drawn as loss, its certificate
or DNS answer, and the same check from the other vantage points beside it."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tomconsole.models import HostState
from tomconsole.monitor.network import WINDOW, CheckView, check_view, checks_where
from tomconsole.monitor.state import FleetState
from tomconsole.ui.messages import HostOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.render.hosts import STATE_LABEL
from tomconsole.ui.render.network import latency_chart, ms, strip
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleetbar import FleetBar


class CheckScreen(Screen[None]):
    """Opened with Enter on a check; Escape goes back to the pane."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("h", "vantage_host", "Vantage host"),
    ]
    NAMED_COMMANDS = (("Show the check's vantage host", "the host this check runs from", "vantage_host"),)

    def __init__(self, fleet: FleetState, key: str, palette: Palette) -> None:
        super().__init__()
        self.fleet = fleet
        self.key = key
        self.palette = palette

    def compose(self) -> ComposeResult:
        yield FleetBar(classes="fleetbar")
        yield Static(id="check-title")
        with VerticalScroll(id="check-body"):
            yield Static(id="check-facts")
            yield Static(id="check-chart")
            yield Static(id="check-peers")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_from_state()
        self.set_interval(1.0, self.refresh_from_state)

    def view(self) -> CheckView | None:
        row = self.fleet.row(self.key)
        return None if row is None else check_view(row, self.fleet)

    def refresh_from_state(self) -> None:
        """Redraw from the fleet state: title, facts, chart and the other vantage points."""
        c = self.view()
        if c is None:
            return
        row = c.row
        title = Text(" ")
        title.append_text(safe_text(c.name, style="bold"))
        title.append_text(safe_text(f"  from {c.vantage}  {c.probe}  ", style=self.palette.faint))
        title.append(STATE_LABEL[row.state], style=self.palette.state_style(row.state))
        self.query_one("#check-title", Static).update(title)
        self.query_one("#check-facts", Static).update(self._facts(c))
        width = max(20, self.size.width - 2)
        height = max(6, min(20, self.size.height - 16))
        lows = self.fleet.history(self.key, "latency_min_ms", WINDOW)
        highs = self.fleet.history(self.key, "latency_max_ms", WINDOW)
        times = None
        r = c.result
        if r is not None and c.loss:
            span = timedelta(seconds=row.info.interval_s * (min(len(c.loss), width - 8) - 1))
            times = (r.sampled_at - span, r.sampled_at)
        chart = Text(
            "Latency (ms) over the last rounds: ░ fastest to slowest, █ median, ✕ lost\n", style="bold"
        )
        chart.append_text(latency_chart(c, lows, highs, width, height, self.palette, times))
        self.query_one("#check-chart", Static).update(chart)
        self.query_one("#check-peers", Static).update(self._peers(c))

    def _facts(self, c: CheckView) -> Text:
        row, r = c.row, c.result
        out = Text(no_wrap=False)
        if row.state is not HostState.UP and row.reason:
            out.append("why: ", style=self.palette.faint)
            why = safe_text(row.reason)
            why.no_wrap = False  # the whole reason, wrapped: it says what to do
            out.append_text(why)
            out.append("\n")
        pairs: list[tuple[str, object]] = [
            ("target", c.where),
            ("every", f"{row.info.interval_s:g}s"),
            ("last", _ms_or_dash(c.last_ms)),  # number and unit as one word: never split by a wrap
            ("p50", _ms_or_dash(c.p50_ms)),
            ("p95", _ms_or_dash(c.p95_ms)),
            ("loss", _loss(c)),
        ]
        if r is not None and r.http_status is not None:
            pairs.append(("http status", r.http_status))
        if r is not None and r.cert_days is not None:
            pairs.append(("certificate expires in", f"{r.cert_days:.0f} days"))
        for label, value in pairs:
            out.append(f"{label}: ", style=self.palette.faint)
            out.append_text(safe_text(value))
            out.append("   ")
        if r is not None and r.cert_subject is not None:
            out.append("\ncertificate: ", style=self.palette.faint)
            out.append_text(safe_text(r.cert_subject))
            out.append("  issued by ", style=self.palette.faint)
            out.append_text(safe_text(r.cert_issuer or "-"))
        if r is not None and r.answer is not None:
            out.append("\nanswer: ", style=self.palette.faint)
            out.append_text(safe_text(", ".join(r.answer) or "no records"))
            if r.answer_changed_at is not None:
                out.append("  changed at ", style=self.palette.faint)
                out.append(r.answer_changed_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"))
        if row.info.group or row.info.tags:
            out.append("\ngroup: ", style=self.palette.faint)
            out.append_text(safe_text(row.info.group or "-"))
            out.append("  tags: ", style=self.palette.faint)
            out.append_text(safe_text(", ".join(row.info.tags) or "-"))
        return out

    def _peers(self, c: CheckView) -> Text:
        """The same check from every vantage point, side by side."""
        out = Text("\nFrom every vantage point\n", style="bold")
        width = max(8, min(30, self.app.size.width - 66))  # one line each, also at 80 columns
        for other in checks_where(self.fleet, "name", c.name):
            row = other.row
            mark = "▶ " if other.key == self.key else "  "
            out.append(mark)
            out.append_text(safe_text(f"{other.vantage[:14]:<14}"))
            out.append(f" {STATE_LABEL[row.state]:<10}", style=self.palette.state_style(row.state))
            loss = "-" if other.window_loss_pct is None else f"{other.window_loss_pct:.0f}%"
            out.append(f" p50 {ms(other.p50_ms):>5}  p95 {ms(other.p95_ms):>5}  loss {loss:>4}  ")
            out.append_text(strip(other.latency, other.loss, width, self.palette, other.p95_ms))
            out.append("\n")
        return out

    def action_vantage_host(self) -> None:
        """h: the screen of the host this check runs from (for the console, a note says so)."""
        c = self.view()
        if c is None or c.vantage == "console":
            self.notify("this check runs from the console itself", timeout=3)
            return
        send(self, HostOpened(c.vantage))


def _ms_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{ms(value)}ms"


def _loss(c: CheckView) -> str:
    now = "-" if c.loss_pct is None else f"{c.loss_pct:.0f}%"
    window = "-" if c.window_loss_pct is None else f"{c.window_loss_pct:.1f}%"
    return f"{now} now, {window} over {len(c.loss)} rounds"
