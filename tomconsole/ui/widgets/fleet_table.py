"""A fast, keyboard-driven table for hundreds of live rows, built on Textual's Line API.

Why not DataTable: any `update_cell` bumps DataTable's update counter, which is part of
every cell's cache key, so each refresh re-renders every visible cell through Rich. With
a live fleet that is a refresh every half second, and at 50 hosts it stalled the event
loop for ~350 ms a frame on this machine (see bench/). Here each row's Strip is cached
against the row's identity token and rebuilt only when that row changed; only visible
rows are ever rendered; the header stays put while the rows scroll.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    flex: bool = False  # takes the spare width (up to max_width)
    max_width: int = 40
    right: bool = False  # numbers are right-aligned, and so is their header
    drop: int = 0  # when the columns do not fit, the highest `drop` is hidden first (0: never)


CURSOR_MARK = "▌"


def _no_cells() -> Sequence[Text]:
    return ()


@dataclass(frozen=True)
class Row:
    """One row: `cells` is called only when `token` differs from the cached row's."""

    key: str
    token: Hashable
    cells: Callable[[], Sequence[Text]]
    volatile: Callable[[], Sequence[Text]] = _no_cells


class FleetTable(ScrollView, can_focus=True):
    """Cells are built lazily, for visible rows only, and cached per row until its token changes."""

    COMPONENT_CLASSES = {"fleet-table--header", "fleet-table--cursor", "fleet-table--odd"}
    DEFAULT_CSS = """
    FleetTable { background: $surface; }
    FleetTable > .fleet-table--header { background: $panel; color: $foreground; text-style: bold; }
    FleetTable > .fleet-table--cursor { background: $row-cursor-idle; }
    FleetTable:focus > .fleet-table--cursor { background: $row-cursor; }
    FleetTable > .fleet-table--odd { background: $row-zebra; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "First", show=False),
        Binding("end,G", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor = reactive(0)

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        volatile: int = 0,
        on_select: Callable[[str], None] | None = None,
        on_refit: Callable[[], None] | None = None,
        id: str | None = None,
    ) -> None:
        """The last `volatile` columns change on their own (an age that ticks): they are
        drawn fresh on every render instead of invalidating the row's cached strip.
        `on_select(key)` runs on Enter, at once rather than as a queued message, so what it
        opens exists before the next key of a burst is routed (ui/keys.py). `on_refit` runs
        after the columns took a new width (a resize), for cells drawn to fit one (a strip)."""
        super().__init__(id=id)
        self.on_select = on_select
        self.on_refit = on_refit
        self.columns = tuple(columns)
        self._stable = len(columns) - volatile
        self._volatile: list[Callable[[], Sequence[Text]]] = []
        self._keys: list[str] = []
        self._tokens: list[Hashable] = []
        self._factories: list[Callable[[], Sequence[Text]]] = []
        self._cache: dict[str, tuple[Hashable, Strip]] = {}
        self._widths: tuple[int, ...] = tuple(c.width for c in columns)
        self._header: Strip | None = None
        self._fitted_to = -1
        self._follow = False
        self._shown_tail: dict[str, tuple[Text, ...]] = {}
        self._sort_mark: tuple[str, bool] | None = None  # (column key, descending)

    # -- data -------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> tuple[str, ...]:
        """The rows' keys, in the order shown."""
        return tuple(self._keys)

    def width_of(self, index: int) -> int:
        """A column's width as last fitted to the screen (a flexible one grows)."""
        return self._widths[index]

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the rows. Once the operator has moved the cursor it stays on that host
        as the order changes; until then it stays on the top row, the worst host."""
        current = self.cursor_key if self._follow else None
        old_keys, old_tokens = self._keys, self._tokens
        self._keys = [r.key for r in rows]
        self._tokens = [r.token for r in rows]
        self._factories = [r.cells for r in rows]
        self._volatile = [r.volatile for r in rows] if self._stable < len(self.columns) else []
        live = set(self._keys)
        if len(live) != len(self._cache):
            for key in [k for k in self._cache if k not in live]:
                del self._cache[key]
        if len(self._keys) != len(old_keys):
            self.virtual_size = Size(self._total_width(), len(self._keys) + 1)
            self.refresh()
        else:
            self._refresh_changed(old_keys, old_tokens)
        if current in live:
            self.cursor = self._keys.index(current)
        else:
            self.cursor = min(self.cursor, max(0, len(self._keys) - 1))

    def _refresh_changed(self, old_keys: list[str], old_tokens: list[Hashable]) -> None:
        """Repaint only the visible lines whose host, data or volatile cells changed."""
        top = int(self.scroll_offset.y)
        end = min(len(self._keys), top + max(1, self.size.height - 1))
        for i in range(top, end):
            changed = old_keys[i] != self._keys[i] or old_tokens[i] != self._tokens[i]
            if self._volatile:
                tail = tuple(self._volatile[i]())
                if self._shown_tail.get(self._keys[i]) != tail:
                    changed = True
            if changed:
                self.refresh_line(i + 1)

    def on_show(self) -> None:
        """Shown again (a tab or a wall page): the lines it kept from before are stale."""
        self.refresh()

    def mark_sort(self, column: str | None, descending: bool = True) -> None:
        """Show which column the rows are sorted by, and which way (▼ highest or worst
        first, ▲ lowest or A first), in its header."""
        mark = (column, descending) if column else None
        if mark != self._sort_mark:
            self._sort_mark = mark
            self._header = None
            self.refresh_line(0)

    def to_top(self) -> None:
        """A new order starts at the top, cursor on the first row, until the operator moves."""
        self._follow = False
        self.cursor = 0
        self.scroll_to(y=0, animate=False)

    def _label(self, c: Column, width: int) -> Text:
        label = c.label
        if self._sort_mark is not None and self._sort_mark[0] == c.key:
            mark = "▼" if self._sort_mark[1] else "▲"
            label = (label if len(label) < width else label[: max(0, width - 1)]) + mark  # the mark stays
        return Text(label, justify="right" if c.right else "left")

    def invalidate(self) -> None:
        """Forget every cached row (new theme colours)."""
        self._cache.clear()
        self._header = None
        self.refresh()

    def cells(self, key: str) -> Sequence[Text]:
        """The cells of one row as currently shown (for tests and the palette)."""
        i = self._keys.index(key)
        return [*self._factories[i](), *(self._volatile[i]() if self._volatile else ())]

    # -- geometry ---------------------------------------------------------------------

    def _total_width(self) -> int:
        return sum(w + 1 for w in self._widths if w)

    def _fit(self, width: int) -> None:
        """Hide the droppable columns, highest `drop` first, until the rest fit; share the
        spare width among the flexible columns, in column order, each up to its max_width;
        drop every cached strip if that changed. A hidden column has width 0."""
        shown = set(range(len(self.columns)))
        for i in sorted(
            (i for i, c in enumerate(self.columns) if c.drop), key=lambda i: -self.columns[i].drop
        ):
            if sum(self.columns[j].width + 1 for j in shown) + 1 <= width:
                break
            shown.discard(i)
        spare = max(0, width - sum(self.columns[j].width + 1 for j in shown) - 1)
        grown = []
        for i, c in enumerate(self.columns):
            if i not in shown:
                grown.append(0)
                continue
            extra = min(spare, c.max_width - c.width) if c.flex else 0
            spare -= max(0, extra)
            grown.append(c.width + max(0, extra))
        widths = tuple(grown)
        if widths != self._widths:
            self._widths = widths
            self._cache.clear()
            self._header = None
            self.virtual_size = Size(self._total_width(), len(self._keys) + 1)
            if self.on_refit is not None:
                self.call_later(self.on_refit)  # not while this frame renders
        self._fitted_to = width

    # -- rendering --------------------------------------------------------------------

    def _cell(self, text: Text, width: int, base: Style, out: list[Segment]) -> None:
        """Append one cell, padded or cut to `width`, and its trailing gap (a hidden
        column, width 0, adds nothing)."""
        if not width:
            return
        if text.cell_len > width:
            text = text.copy()
            text.truncate(width, overflow="ellipsis")
        pad = width - text.cell_len
        if pad > 0 and text.justify == "right":
            out.append(Segment(" " * pad, base))
        if not text.spans:  # the common case: one run, one style, no Rich render pass
            style = text.style if isinstance(text.style, Style) else self.app.console.get_style(text.style)
            out.append(Segment(text.plain, base + style))
        else:
            out.extend(
                Segment(s.text, base + s.style if s.style else base)
                for s in text.render(self.app.console)
                if s.text != "\n"
            )
        if pad > 0 and text.justify != "right":
            out.append(Segment(" " * pad, base))
        out.append(Segment(" ", base))

    def _strip(self, cells: Sequence[Text], base: Style, widths: Sequence[int], lead: bool = True) -> Strip:
        segments: list[Segment] = [Segment(" ", base)] if lead else []
        for text, width in zip(cells, widths, strict=False):
            self._cell(text, width, base, segments)
        return Strip(segments).simplify()

    def _row_strip(self, index: int) -> Strip:
        key, token = self._keys[index], self._tokens[index]
        cached = self._cache.get(key)
        if cached is not None and cached[0] == token:
            return cached[1]
        cells, widths = self._factories[index](), self._widths[: self._stable]
        if len(cells) == 1 and len(widths) > 1:  # a heading row: one text across the columns
            shown = [w for w in widths if w]
            widths = (sum(shown) + len(shown) - 1,)
        strip = self._strip(cells, Style(), widths)
        self._cache[key] = (token, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width  # excludes a vertical scrollbar
        if width != self._fitted_to:
            self._fit(width)
        if y == 0:
            if self._header is None:
                style = self.get_component_rich_style("fleet-table--header")
                labels = [self._label(c, w) for c, w in zip(self.columns, self._widths, strict=True)]
                self._header = self._strip(labels, style, self._widths)
            header_style = self.get_component_rich_style("fleet-table--header")
            return self._header.crop_extend(scroll_x, scroll_x + width, header_style)  # styled: _strip

        index = y - 1 + scroll_y
        if index >= len(self._keys):
            return Strip.blank(width, self.rich_style)
        strip = self._row_strip(index)
        if self._volatile:
            cells = tuple(self._volatile[index]())
            self._shown_tail[self._keys[index]] = cells
            tail = self._strip(cells, Style(), self._widths[self._stable :], lead=False)
            strip = Strip.join([strip, tail])
        # The row's colours go underneath the cells' own: the table's, then the cursor's or the
        # zebra's on top of them. Every row has them, never the terminal's default colours (a
        # light theme on a dark terminal).
        row = self.rich_style
        if index == self.cursor:  # a mark as well as a colour: it survives any theme and NO_COLOR
            row += self.get_component_rich_style("fleet-table--cursor")
            strip = Strip.join([Strip([Segment(CURSOR_MARK, Style(bold=True))]), strip.crop(1)])
        elif index % 2:
            row += self.get_component_rich_style("fleet-table--odd")
        return strip.apply_style(row).crop_extend(scroll_x, scroll_x + width, row)

    # -- keys -------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False)
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)

    def _move_to(self, index: int) -> None:
        self._follow = True
        if self._keys:
            self.cursor = max(0, min(len(self._keys) - 1, index))

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        self._move_to(where if where >= 0 else len(self._keys) - 1)

    def action_select(self) -> None:
        key = self.cursor_key
        if key is not None and self.on_select is not None:
            self.on_select(key)
