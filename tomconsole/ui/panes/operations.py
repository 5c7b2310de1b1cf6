"""The operations pane (6): the desk of who answers for change and the team, in three views
that `v` steps through.

- Changes: a calendar of the running changes, the upcoming ones day by day, and those that
  ended in the last two weeks, each with what needs a look (REVIEW after a critical incident
  during it, a conflict, emergency, freeze, approvals missing). `n` a new one, `m` moves the
  one under the cursor on (submit, approve, start, complete, ...), Enter its record.
- On call: each rotation's person now and next, the overrides to come, and the escalation
  path an unacknowledged incident follows. `o` puts someone on call instead.
- Team: members (skills, rotations, onboarding), the coverage of what each system needs, and
  the onboarding checklists (`x` ticks the item under the cursor).

A dumb pane: a snapshot's DeskView in, intents out (ChangeOpened, DeskRequested). `H` (any
view) shows the handoff report of the shift so far.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tomconsole.engine import Snapshot
from tomconsole.incidents.deskview import ChangeLine, DeskView
from tomconsole.ui.keys import FieldInput
from tomconsole.ui.messages import ChangeOpened, DeskRequested, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane
from tomconsole.ui.render import desk as r
from tomconsole.ui.widgets.fleet_table import FleetTable, Row
from tomconsole.ui.widgets.lines import show_text

VIEWS = ("changes", "oncall", "team", "vendors", "budget")
TITLES = {"changes": "Changes", "oncall": "On call", "team": "Team", "vendors": "Vendors", "budget": "Budget"}
SECTION = "§"  # a heading row's key: never a record's
ONLY = {"new_change": "changes", "move": "changes", "override": "oncall", "tick": "team"}


class OperationsPane(FilteredTablePane):
    """Pane 6."""

    TABLE_ID = "ops-changes"
    FILTER_HINT = "filter: words match every column (a change's id, title, targets; a name, a skill)"
    TAB_TITLE = "Operations"
    SHORT_TITLE = "Ops"
    LEGEND = (
        "v: Changes, On call, Team. Changes: running, upcoming by day, ended in the last 14 days;"
        " REVIEW: a critical incident during it; conflict: an open change on a shared target at an"
        " overlapping time; N inc: incidents on its targets while it ran (or just after). Team:"
        " a system only one person (or nobody) can handle is flagged, as is one nobody on next"
        " week's rotation can."
    )
    NAMED_COMMANDS = (
        ("Operations view: changes, on call, team", "the next view of the operations desk", "cycle_view"),
        ("New change", "a change record, as a draft", "new_change"),
        ("Move change on", "submit, approve, start, complete, roll back, fail, cancel", "move"),
        ("On-call override", "someone else on call for a team, from, for how long, why", "override"),
        ("Tick onboarding item", "the new member's item under the cursor: done", "tick"),
        ("Handoff report", "the shift so far, as the handoff report writes it", "handoff"),
    )
    # The views' own keys are bound on every view (a key typed on the wrong one says where it
    # belongs, never falls through to the app: `m` on Team must not open a maintenance
    # window); the status line lists the shown view's, the footer the pane's.
    BINDINGS = [
        Binding("v", "cycle_view", "View"),
        Binding("n", "new_change", "New change", show=False),
        Binding("m", "move", "Move on", show=False),
        Binding("o", "override", "Override", show=False),
        Binding("x", "tick", "Tick", show=False),
        Binding("H", "handoff", "Handoff"),
    ]
    VIEW_KEYS = {
        "changes": "n new  m move on  Enter record",
        "oncall": "o override",
        "team": "x tick the item under the cursor",
        "vendors": "config or contracts add; notice due opens a task",
        "budget": "to date; spend: tomconsole budget add | import FILE.csv",
    }

    def __init__(self, palette: Palette, **kw: object) -> None:
        super().__init__(**kw)
        self.palette = palette
        self.view = "changes"
        self.desk: DeskView | None = None
        self._generation = 0
        self.want: str | None = None  # a row to put the cursor on once it is shown (a new change)
        self._fresh = True  # a view just shown: its cursor starts on its first record

    def compose(self) -> ComposeResult:
        yield FieldInput(placeholder=self.FILTER_HINT, classes="pane-filter")
        yield Static(id="ops-views")
        yield FleetTable(r.CHANGE_COLUMNS, volatile=0, on_select=self.row_chosen, id="ops-changes")
        yield FleetTable(r.ONCALL_COLUMNS, volatile=0, id="ops-oncall")
        yield FleetTable(r.TEAM_COLUMNS, volatile=0, on_select=self.row_chosen, id="ops-team")
        yield FleetTable(r.VENDOR_COLUMNS, volatile=0, id="ops-vendors")
        yield FleetTable(r.BUDGET_COLUMNS, volatile=0, id="ops-budget")
        yield Static(classes="pane-status")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_view()

    @property
    def table(self) -> FleetTable:
        return self.query_one(f"#ops-{self.view}", FleetTable)

    def take(self, snapshot: Snapshot) -> None:
        if snapshot.desk is not None:  # a snapshot made for another pane leaves the desk out
            self.desk = snapshot.desk

    def repaint(self, palette: Palette) -> None:
        self.palette = palette
        self._generation += 1
        if self.is_mounted:
            for table in self.query(FleetTable):
                table.invalidate()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No sort here (the calendar has one order): not offered in the footer."""
        return action not in ("cycle_sort", "reverse_sort")

    def _in_view(self, action: str) -> bool:
        """A view's key on another view: say where it belongs; the keys typed behind it (for
        the dialog it would have opened) go with it."""
        view = ONLY[action]
        if view == self.view:
            return True
        self._refuse(f"that key is on the {TITLES[view]} view: v to get there")
        return False

    # -- views --------------------------------------------------------------------------

    def _show_view(self) -> None:
        for view in VIEWS:
            self.query_one(f"#ops-{view}", FleetTable).display = view == self.view
        line = Text(" ")
        for view in VIEWS:
            style = "bold reverse" if view == self.view else self.palette.faint
            line.append(f" {TITLES[view]} ", style=style)
            line.append(" ")
        line.append(" v: next view", style=self.palette.faint)
        show_text(self.query_one("#ops-views", Static), line)
        self.refresh_bindings()

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._fresh = True
        self._show_view()
        self._render_rows()
        self.table.to_top()
        self.screen.set_focus(self.table)

    def _render_rows(self) -> None:
        desk = self.desk
        if desk is None:
            store = getattr(self.app, "store", None)
            why = "reading the desk..." if store is not None else "the operations desk needs a data directory"
            self.set_status(Text(f" {why}", style=self.palette.faint))
            return
        rows = {
            "changes": self._change_rows,
            "oncall": self._oncall_rows,
            "team": self._team_rows,
            "vendors": self._vendor_rows,
            "budget": self._budget_rows,
        }[self.view]
        picked = [row for row in rows(desk) if self._matches(row)]
        # a heading with nothing left under it (a filter took its rows) goes too
        picked = [
            row
            for i, row in enumerate(picked)
            if not row.key.startswith(SECTION)
            or (i + 1 < len(picked) and not picked[i + 1].key.startswith(SECTION))
        ]
        table = self.table
        table.set_rows(picked)
        keys = table.keys
        if self.want in keys:
            table.action_jump(keys.index(self.want))
            self.want, self._fresh = None, False
        elif self._fresh and picked:
            first = next((i for i, k in enumerate(keys) if not k.startswith(SECTION)), 0)
            table.action_jump(first)
            self._fresh = False
        shown = sum(not row.key.startswith(SECTION) for row in picked)
        what = {"vendors": "contracts", "budget": "lines"}.get(self.view, "shown")
        status = Text(f" {TITLES[self.view]}: {shown} {what}  ", style=self.palette.faint)
        status.append(f"{self.VIEW_KEYS[self.view]}  ")
        if self.view == "changes" and not desk.changes:
            status.append(
                "no changes yet: n writes one (or `tomconsole changes new`)", style=self.palette.faint
            )
        elif self.view == "oncall" and not desk.oncall:
            status.append("no rotation: oncall.rotations in the config", style=self.palette.faint)
        elif self.view == "vendors" and not desk.contracts:
            status.append("no contracts: vendors: and contracts: in the config", style=self.palette.faint)
        elif self.view == "budget" and not desk.budget:
            status.append("no budget lines: budget.lines in the config", style=self.palette.faint)
        if self.query_text:
            status.append(f"filter: {self.query_text}", style=self.palette.faint)
        self.set_status(status)

    def _matches(self, row: Row) -> bool:
        if not self.query_text or row.key.startswith(SECTION):
            return True
        text = " ".join(t.plain for t in row.cells()).lower() + " " + row.key.lower()
        return all(word in text for word in self.query_text.lower().split())

    def _change_rows(self, desk: DeskView) -> list[Row]:
        p, now, gen = self.palette, desk.now, self._generation
        rows: list[Row] = []
        running = [c for c in desk.changes if c.when == "running"]
        upcoming = sorted((c for c in desk.changes if c.when == "upcoming"), key=lambda c: c.doc["start"])
        recent = sorted(  # most recently ended first; a cancelled one, by when it was cancelled
            (c for c in desk.changes if c.when == "recent"),
            key=lambda c: c.doc.get("ended_at") or c.doc["history"][-1]["at"],
            reverse=True,
        )

        def add(c: ChangeLine, day_shown: bool = False) -> None:
            token = (repr(c), now.astimezone().date(), gen)
            rows.append(Row(c.doc["id"], token, partial(r.change_cells, c, now, p, day_shown)))

        def head(key: str, title: str, note: str = "") -> None:
            rows.append(Row(f"{SECTION}{key}", (title, note, gen), partial(r.heading, title, note, p)))

        if running:
            head("running", "Running now")
            for c in running:
                add(c)
        day = None
        for c in upcoming:
            start = datetime.fromisoformat(c.doc["start"]).astimezone()
            if start.date() != day:
                day = start.date()
                today = now.astimezone().date()
                label = "Today" if day == today else f"{start:%a %b %d}"
                head(f"day{day}", f"Upcoming · {label}" if day >= today else f"Planned · {label} (past)")
            add(c, day_shown=True)
        if recent:
            head("recent", "Ended in the last 14 days")
            for c in recent:
                add(c)
        return rows

    def _oncall_rows(self, desk: DeskView) -> list[Row]:
        p, now, gen = self.palette, desk.now, self._generation
        rows: list[Row] = []
        for i, line in enumerate(desk.oncall):
            key = f"{line.team}|{line.role}|{i}"
            rows.append(
                Row(key, (repr(line), now.astimezone().date(), gen), partial(r.oncall_cells, line, now, p))
            )
        on_call = {line.who for line in desk.oncall if line.role == "now"}
        for n, who in enumerate(desk.escalation, start=1):
            why = "on call now" if who in on_call else "fixed list"
            rows.append(Row(f"esc|{n}", (who, why, gen), partial(r.escalation_cells, n, who, why, p)))
        return rows

    def _team_rows(self, desk: DeskView) -> list[Row]:
        p, now, gen = self.palette, desk.now, self._generation
        rows: list[Row] = [Row(f"{SECTION}members", ("m", gen), partial(r.heading, "Members", "", p))]
        for m in desk.members:
            rows.append(Row(f"member|{m.name}", (repr(m), gen), partial(r.member_cells, m, p)))
        flagged = sum(c.problem is not None for c in desk.coverage)
        rows.append(
            Row(
                f"{SECTION}coverage",
                ("c", flagged, gen),
                partial(r.heading, "Coverage", f"{flagged} flagged" if flagged else "", p),
            )
        )
        for c in desk.coverage:
            rows.append(Row(f"cover|{c.system}|{c.skill}", (repr(c), gen), partial(r.coverage_cells, c, p)))
        if desk.onboarding:
            late = sum(s.overdue(now) for s in desk.onboarding)
            note = f"{late} overdue" if late else ""
            rows.append(Row(f"{SECTION}onb", ("o", late, gen), partial(r.heading, "Onboarding", note, p)))
        for s in desk.onboarding:
            token = (repr(s), s.overdue(now), gen)
            rows.append(Row(f"step|{s.member}|{s.item}", token, partial(r.step_cells, s, now, p)))
        return rows

    def _vendor_rows(self, desk: DeskView) -> list[Row]:
        p, gen = self.palette, self._generation
        rows: list[Row] = []
        vendor = None
        for line in desk.contracts:
            if line.contract.vendor != vendor:
                vendor = line.contract.vendor
                rows.append(
                    Row(f"{SECTION}{vendor}", (repr(line.vendor), gen), partial(r.vendor_heading, line, p))
                )
            rows.append(
                Row(f"contract|{line.contract.name}", (repr(line), gen), partial(r.contract_cells, line, p))
            )
        return rows

    def _budget_rows(self, desk: DeskView) -> list[Row]:
        p, gen = self.palette, self._generation
        return [
            Row(f"line|{v.line.name}", (repr(v), gen), partial(r.budget_cells, v, p)) for v in desk.budget
        ]

    # -- intents ------------------------------------------------------------------------

    def _cursor(self) -> str | None:
        key = self.table.cursor_key
        return None if key is None or key.startswith(SECTION) else key

    def row_chosen(self, key: str) -> None:
        if key.startswith(SECTION):
            return
        if self.view == "changes":
            send(self, ChangeOpened(key))
        elif self.view == "team" and key.startswith("step|"):
            self.action_tick()

    def action_new_change(self) -> None:
        if self._in_view("new_change"):
            send(self, DeskRequested("new-change"))

    def action_move(self) -> None:
        if not self._in_view("move"):
            return
        key = self._cursor()
        if key is None:
            self._refuse("put the cursor on a change to move it on")
            return
        send(self, DeskRequested("step", key))

    def action_override(self) -> None:
        if not self._in_view("override"):
            return
        key = self._cursor()
        team = key.split("|", 1)[0] if key and "|" in key and not key.startswith("esc|") else None
        send(self, DeskRequested("override", team))

    def action_tick(self) -> None:
        if not self._in_view("tick"):
            return
        key = self._cursor()
        if key is None or not key.startswith("step|"):
            # a tick opens no dialog: the keys behind it are the operator's next ones, kept
            self.notify(
                "put the cursor on an onboarding item (under Onboarding) to tick it", severity="warning"
            )
            return
        send(self, DeskRequested("tick", key.split("|", 1)[1]))

    def action_handoff(self) -> None:
        send(self, DeskRequested("handoff"))

    def _refuse(self, text: str) -> None:
        """A key that would have opened a dialog did not: what was typed ahead for it goes."""
        refuse = getattr(self.app, "refuse_burst", None)
        if refuse is not None:
            refuse()
        self.notify(text, severity="warning", timeout=3)
