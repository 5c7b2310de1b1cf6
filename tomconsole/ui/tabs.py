"""The tab bar's labels: each pane's title and number key, as long as the width allows. Six
panes do not fit 80 columns with their full titles, and a tab scrolled out of sight is a
pane the operator does not know is there."""

from __future__ import annotations

from collections.abc import Sequence

from tomconsole.ui.panes.base import FilteredTablePane

GAP = 2  # a tab's padding, around its label


def tab_labels(panes: Sequence[FilteredTablePane], width: int) -> list[str]:
    """Full titles (`Databases [4]`); short ones from the last tab as far as needed (`DBs [4]`);
    below that, number first and short (`4 DBs`: a 60-column split pane)."""
    room = width - 2

    def used(labels: list[str]) -> int:
        return sum(len(label) + GAP for label in labels)

    numbered = list(enumerate(panes, start=1))
    labels = [f"{p.TAB_TITLE} [{i}]" for i, p in numbered]
    for i, p in reversed(numbered):
        if used(labels) <= room:
            break
        labels[i - 1] = f"{p.SHORT_TITLE or p.TAB_TITLE} [{i}]"
    if used(labels) > room:
        labels = [f"{i} {p.SHORT_TITLE or p.TAB_TITLE}" for i, p in numbered]
    return labels
