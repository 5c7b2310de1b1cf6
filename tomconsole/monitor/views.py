"""Per-row views (a check's rounds, a database's measures) that are costly to build and are
asked for on every snapshot (twice a second): each is rebuilt only when its row has a new
observation or state, and otherwise only given the newest row (whose age moves on)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar, cast

from tomconsole.monitor.state import HostRow


class RowView(Protocol):
    @property
    def row(self) -> HostRow: ...


V = TypeVar("V", bound=RowView)


class RowViews(Generic[V]):
    """`build(row)` for every row, memoised per target on the row's version and state."""

    def __init__(self, build: Callable[[HostRow], V]) -> None:
        self.build = build
        self._memo: dict[str, tuple[int, Any, V]] = {}

    def __call__(self, rows: list[HostRow]) -> list[V]:
        """The views of these rows; targets no longer among them are forgotten."""
        out, memo = [], {}
        for r in rows:
            key = r.info.key
            got = self._memo.get(key)
            # the info too: a target's state rebuilt (a config reload) counts versions anew
            if got is None or got[0] != r.version or got[1] is not r.state or got[2].row.info is not r.info:
                got = (r.version, r.state, self.build(r))
            memo[key] = got
            view = got[2]
            out.append(view if view.row is r else cast(V, dataclasses.replace(cast(Any, view), row=r)))
        self._memo = memo
        return out
