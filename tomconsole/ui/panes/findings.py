"""The security findings pane: every finding across the fleet, worst first, grouped by host
or by check, with the open counts per severity and the fleet's patch state on top.

A dumb pane: a snapshot in, intents out (`FindingOpened`, `AcceptRequested`). `/` filters:
plain words match host, check, title and evidence; `sev:high`, `host:`, `check:` and
`state:` match one field (`sev:high,critical` either). `v` switches the view: live findings,
what changed in each target's last scan (new and fixed), or everything ever found.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from tomconsole.engine import Snapshot
from tomconsole.findings.book import LIVE, rank, severity_counts
from tomconsole.findings.report import patch_counts
from tomconsole.models import HostState
from tomconsole.ui.keys import FieldInput
from tomconsole.ui.messages import AcceptRequested, FindingOpened, FindingsExportRequested, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane, Sort
from tomconsole.ui.render.facts import fields_text
from tomconsole.ui.render.findings import FINDING_COLUMNS, counts_fields, finding_cells, group_cells
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import FleetTable, Row
from tomconsole.ui.widgets.lines import show_text

VIEWS = ("live", "changes", "all")
GROUPS = ("host", "check")
FIELDS = {"sev": "severity", "severity": "severity", "host": "host", "check": "check", "state": "state"}
GROUP_PREFIX = "§"  # a group header row's key: never a finding's


def finding_matches(d: dict[str, Any], query: str) -> bool:
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if sep and field in FIELDS:
            have = str(d[FIELDS[field]]).lower()
            wants = [v for v in value.split(",") if v]
            if field == "state":  # people say fixed and n/a for resolved and not_assessed
                wants = [{"fixed": "resolved", "n/a": "not_assessed"}.get(v, v) for v in wants]
            if field in ("sev", "severity", "state"):
                if wants and not any(have == v or have.startswith(v) for v in wants):
                    return False
            elif wants and not any(v in have for v in wants):
                return False
        elif not any(word in str(d.get(k, "")).lower() for k in ("host", "check", "title", "evidence")):
            return False
    return True


class FindingsPane(FilteredTablePane):
    """Pane 5."""

    COLUMNS = FINDING_COLUMNS
    VOLATILE = 0
    TABLE_ID = "findings"
    FILTER_HINT = "filter: words, sev:high, host:web-01, check:ssh-, state:open|accepted|fixed|n/a"
    TAB_TITLE = "Findings"
    LEGEND = (
        "A ▸ row heads a group (a host, or a check) with its open findings by severity. State:"
        " open, accepted (a reason and an expiry, it reopens then), fixed, n/a (not assessed: the"
        " login could not judge it, e.g. a file only root may read). v: live, the changes of each"
        " last scan, or everything."
    )
    NAMED_COMMANDS = (
        ("Accept finding risk", "the finding under the cursor: a reason and an expiry", "accept"),
        ("Group findings by host or check", "group the findings by host, or by check", "cycle_group"),
        (
            "Findings view: live, changes, all",
            "open ones; new and fixed in each scan; everything",
            "cycle_view",
        ),
        ("Export findings", "every finding to a Markdown, CSV or JSON file in the data directory", "export"),
    )
    SORTS = (
        Sort(
            "worst", "sev", words="by severity", first="worst group and finding first", last="mildest first"
        ),
        Sort("name", "group", descending=False, words="by name", first="A to Z", last="Z to A"),
        Sort("newest", "last", words="by last seen", first="most recent first", last="least recent first"),
    )
    BINDINGS = [
        Binding("a", "accept", "Accept risk"),
        Binding("b", "cycle_group", "Group by"),
        Binding("v", "cycle_view", "View"),
        Binding("E", "export", "Export"),
    ]

    def __init__(self, palette: Palette, **kw: object) -> None:
        super().__init__(**kw)
        self.palette = palette
        self.view, self.group = "live", "host"
        self._docs: list[dict[str, Any]] = []
        self._diffs: list[dict[str, Any]] = []
        self._patches = ""
        self._generation = 0
        self._seen: tuple[object, ...] | None = None
        self._failed: tuple[tuple[str, str], ...] = ()  # scans that failed: (host, why)
        self._drop_failures: tuple[str, ...] = ()  # dropped reports that could not be imported

    def compose(self) -> ComposeResult:
        yield FieldInput(placeholder=self.FILTER_HINT, classes="pane-filter")
        yield Static(id="findings-summary")
        yield FleetTable(self.COLUMNS, volatile=0, on_select=self.row_chosen, id=self.TABLE_ID)
        yield Static(classes="pane-status")

    @property
    def shown(self) -> list[str]:
        return [k for k in self.table.keys if not k.startswith(GROUP_PREFIX)]

    def take(self, snapshot: Snapshot) -> None:
        self._docs = snapshot.findings
        self._diffs = snapshot.finding_scans
        self._patches = patch_counts(snapshot.scans)
        self._drop_failures = tuple(snapshot.drop_failures)
        self._failed = tuple(
            (r.info.name, r.reason or r.state.value)
            for r in snapshot.scans
            if r.state in (HostState.ERROR, HostState.TIMEOUT)
        )

    def repaint(self, palette: Palette) -> None:
        self.palette = palette
        self._generation += 1
        self._seen = None
        if self.is_mounted:
            self.table.invalidate()

    def _rows_for_view(self) -> list[tuple[dict[str, Any], str | None]]:
        if self.view == "all":
            return [(d, None) for d in self._docs]
        if self.view == "live":
            return [(d, None) for d in self._docs if d["state"] in LIVE]
        by_key = {f"{d['host']}|{d['check']}|{d['obj']}": d for d in self._docs}
        out: list[tuple[dict[str, Any], str | None]] = []
        for scan in self._diffs:
            out += [(by_key[k], "new") for k in scan.get("new", ()) if k in by_key]
            out += [(by_key[k], "fixed") for k in scan.get("fixed", ()) if k in by_key]
        return out

    def _render_rows(self) -> None:
        key = (
            id(self._docs),
            id(self._diffs),
            self.view,
            self.group,
            self.query_text,
            self.sort,
            self.sort_reversed,
            self._generation,
            self.size.width,  # the summary wraps to it
            self._failed,
            self._patches,
            self._drop_failures,
        )
        if key == self._seen:
            return  # nothing new: the findings change once a scan, not once a redraw
        self._seen = key
        picked = [(d, m) for d, m in self._rows_for_view() if finding_matches(d, self.query_text)]
        # Worst group first (its worst open finding, then how many open), worst first within it.
        worst: dict[str, tuple[int, int]] = {}
        for d, _mark in picked:
            if d["state"] == "open":
                r, n = worst.get(d[self.group], (99, 0))
                worst[d[self.group]] = (min(r, rank(d["severity"])), n - 1)
        newest: dict[str, str] = {}
        for d, _mark in picked:
            newest[d[self.group]] = max(newest.get(d[self.group], ""), d["last_seen"])
        group = self.group

        def detail(d: dict[str, Any]) -> tuple[int, str, str]:
            return rank(d["severity"]), d["host"], d["check"]

        if self.sort == "name":
            picked.sort(key=lambda dm: (dm[0][group], *detail(dm[0])))
        elif self.sort == "newest":  # ISO times: newest group first, newest first within it
            picked.sort(key=lambda dm: detail(dm[0]))
            picked.sort(key=lambda dm: dm[0]["last_seen"], reverse=True)  # stable: worst first on a tie
            picked.sort(key=lambda dm: (newest[dm[0][group]], dm[0][group]), reverse=True)
        else:
            picked.sort(key=lambda dm: (worst.get(dm[0][group], (99, 0)), dm[0][group], *detail(dm[0])))
        picked = self.ordered(picked)  # reversed, a group's rows still follow its heading
        rows: list[Row] = []
        current = None
        p, gen = self.palette, self._generation
        groups: dict[str, list[dict[str, Any]]] = {}
        for d, _mark in picked:
            groups.setdefault(d[self.group], []).append(d)
        for d, mark in picked:
            name = d[self.group]
            if name != current:
                current = name
                counts = severity_counts(groups[name])
                counted = (tuple(counts.items()), gen)
                rows.append(Row(f"{GROUP_PREFIX}{name}", counted, partial(group_cells, name, counts, p)))
            row_key = f"{d['id']}{':' + mark if mark else ''}"
            token = (d["last_seen"], d["state"], mark, gen)
            rows.append(Row(row_key, token, partial(finding_cells, d, p, mark)))
        self.table.set_rows(rows)
        live = [d for d in self._docs if d["state"] in LIVE]
        fields = counts_fields(
            severity_counts(live),
            sum(d["state"] == "accepted" for d in live),
            sum(d["state"] == "not_assessed" for d in live),
            p,
        )
        box = self.query_one("#findings-summary", Static)
        patches = safe_text(self._patches, style="bold")
        show_text(
            box, fields_text([*fields, patches], max(20, (box.size.width or self.size.width) - 2), "  ")
        )
        status = Text(
            f" view: {self.view} (v)  by {self.group} (b)  {len(picked)} shown  ", style=self.palette.faint
        )
        if self._failed:  # first on the line: a scan that did not run hides what it would find
            host, why = self._failed[0]
            more = f" (+{len(self._failed) - 1} more)" if len(self._failed) > 1 else ""
            lead = Text(" scan failed on ", style=f"bold {self.palette.crit}")
            lead.append_text(safe_text(host, style="bold"))
            lead.append(f"{more}: ")
            lead.append_text(safe_text(why))
            lead.append("  ")
            status = lead + status
        if self._drop_failures:
            lead = Text(" not imported (see failed/): ", style=f"bold {self.palette.warn}")
            lead.append_text(safe_text(self._drop_failures[-1]))
            lead.append("  ")
            status = lead + status
        if self.query_text:
            status.append("filter: ", style=self.palette.faint)
            status.append_text(safe_text(self.query_text))
        elif not self._docs:
            status.append(
                "no findings yet: hosts are scanned on connect, then every security.interval",
                style=self.palette.faint,
            )
        self.set_status(status)

    def _current(self) -> str | None:
        key = self.table.cursor_key
        if key is None or key.startswith(GROUP_PREFIX):
            return None
        return key.split(":", 1)[0]

    def on_resize(self) -> None:
        self._render_rows()

    def filter_to(self, query: str) -> None:
        """Show only what `query` matches, the filter box saying so."""
        box = self.query_one(".pane-filter", Input)
        box.value, box.display, self.query_text = query, True, query
        self._render_rows()

    def row_chosen(self, key: str) -> None:
        if key.startswith(GROUP_PREFIX):
            self.filter_to(f"{self.group}:{key[len(GROUP_PREFIX) :]}")  # Enter on a group narrows to it
            return
        send(self, FindingOpened(key.split(":", 1)[0]))

    def action_accept(self) -> None:
        fid = self._current()
        if fid is None:
            refuse = getattr(self.app, "refuse_burst", None)
            if refuse is not None:
                refuse()
            self.notify("put the cursor on a finding to accept its risk", severity="warning", timeout=3)
            return
        send(self, AcceptRequested(fid))

    def sort_column(self, sort: Sort) -> str:
        return self.group if sort.column == "group" else sort.column

    def action_cycle_group(self) -> None:
        self.group = GROUPS[(GROUPS.index(self.group) + 1) % len(GROUPS)]
        self._mark_sort()
        self._render_rows()
        self.table.action_jump(0)

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self._render_rows()
        self.table.action_jump(0)
        words = {
            "live": "open, accepted and not assessed",
            "changes": "new and fixed in each last scan",
            "all": "everything, fixed too",
        }
        self.notify(f"findings: {words[self.view]}", timeout=2)

    def action_export(self) -> None:
        send(self, FindingsExportRequested())
