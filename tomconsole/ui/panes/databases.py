"""The databases pane: every configured database, worst on top (down, then a blocker, lag,
connections near the maximum, an old backup), coloured by the display levels.

A dumb pane: a snapshot in, `DatabaseOpened` out. `/` filters: plain words match the name,
engine and endpoint; `engine:redis`, `state:down`, `tag:` and `group:` match one field.
"""

from __future__ import annotations

from rich.text import Text

from tomconsole.engine import Snapshot
from tomconsole.monitor.databases import DbView, db_rank
from tomconsole.ui import format as fmt
from tomconsole.ui.messages import DatabaseOpened, send
from tomconsole.ui.palette import Palette
from tomconsole.ui.panes.base import FilteredTablePane, Sort
from tomconsole.ui.render.databases import DB_COLUMNS, db_cells
from tomconsole.ui.rows import matches
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Row


def db_matches(v: DbView, query: str) -> bool:
    rest = []
    for word in query.lower().split():
        field, sep, value = word.partition(":")
        if sep and field == "engine":
            if value not in v.engine:
                return False
        elif not sep and (word in v.engine or word in v.endpoint.lower()):
            continue
        else:
            rest.append(word)
    return matches(v.row, " ".join(rest)) if rest else True


def arrange(views: list[DbView], query: str, sort: str) -> list[DbView]:
    shown = [v for v in views if db_matches(v, query)] if query else list(views)
    if sort == "name":
        return sorted(shown, key=lambda v: v.name)
    if sort == "connections":
        return sorted(shown, key=lambda v: (-(v.conn_pct or -1), v.key))
    if sort == "lag":
        return sorted(shown, key=lambda v: (-(v.lag_s or -1), v.key))
    return sorted(shown, key=db_rank)


class DatabasesPane(FilteredTablePane):
    """Pane 4."""

    COLUMNS = DB_COLUMNS
    VOLATILE = 0  # every cell changes only with a new round
    TABLE_ID = "databases"
    FILTER_HINT = "filter: words, engine:redis, state:down, tag:prod, group:"
    TAB_TITLE = "Databases"
    SHORT_TITLE = "DBs"
    LEGEND = (
        "Conn: connections in use of the server's maximum. Act: running a query. IdTx: idle in a"
        " transaction. Blk: sessions waiting on a lock. LongQ and LongTx: the longest query and"
        " transaction now. Lag: replication lag. Hit: cache hit ratio. Tx/s: transactions per"
        " second. Bkup: the age of the newest backup. Ping: the login's round trip in ms."
    )
    SORTS = (
        Sort("worst", "state", words="by health", first="worst first", last="healthiest first"),
        Sort("name", "name", descending=False, words="by name", first="A to Z", last="Z to A"),
        Sort("connections", "conn", words="by connections used"),
        Sort("lag", "lag", words="by replication lag"),
    )

    def __init__(self, palette: Palette, **kw: object) -> None:
        super().__init__(**kw)
        self.palette = palette
        self._views: list[DbView] = []
        self._generation = 0
        self.note: str | None = None  # said on the status line (the demo's missing servers)

    @property
    def shown(self) -> list[str]:
        return list(self.table.keys)

    def take(self, snapshot: Snapshot) -> None:
        self._views = snapshot.databases

    def repaint(self, palette: Palette) -> None:
        self.palette = palette
        self._generation += 1
        if self.is_mounted:
            self.table.invalidate()

    def _render_rows(self) -> None:
        views = self.ordered(arrange(self._views, self.query_text, self.sort))
        self.table.set_rows([self._row(v) for v in views])
        status = Text()
        blocked = [v for v in views if v.blocker and v.blocked_max_s]
        if blocked:  # the row says how many wait; this says who holds them, first on the line
            worst = max(blocked, key=lambda v: v.blocked_max_s or 0)
            status.append(" blocker on ", style=f"bold {self.palette.crit}")
            status.append_text(safe_text(worst.name, style="bold"))
            status.append(f" ({fmt.duration(worst.blocked_max_s)}): ")
            status.append_text(safe_text(worst.blocker))
            status.append(" ")
        status.append(f" {len(views)} database{'s' * (len(views) != 1)}  ", style=self.palette.faint)
        if self.query_text:
            status.append("filter: ", style=self.palette.faint)
            status.append_text(safe_text(self.query_text))
        if self.note:
            status.append("  ")
            status.append_text(safe_text(self.note, style="bold"))
        elif not self._views:
            status.append(
                "  no databases configured: `databases:` in the config (see README)", style=self.palette.faint
            )
        self.set_status(status)

    def _row(self, v: DbView) -> Row:
        token = (v.row.version, v.row.state, v.row.reason, self._generation)
        return Row(v.key, token, lambda: db_cells(v, self.palette))

    def row_chosen(self, key: str) -> None:
        send(self, DatabaseOpened(key))
