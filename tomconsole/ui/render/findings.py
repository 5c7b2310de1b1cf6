"""How the findings pane's rows look: severity coloured, every text from a host or a scanner
(titles, evidence, host names) through the sanitizer, times in local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.style import Style
from rich.text import Text

from tomconsole.ui.palette import Palette
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column

# At 80 columns the evidence, first-seen and last-seen columns give way, so severity, host,
# check, title and state stay.
FINDING_COLUMNS = (
    Column("sev", "Sev", 4),
    Column("host", "Host", 8, flex=True, max_width=14),
    Column("check", "Check", 10, flex=True, max_width=22),
    Column("title", "Title", 24, flex=True, max_width=64),  # at 80 columns First seen gives way
    Column("evidence", "Evidence", 16, flex=True, max_width=100, drop=3),
    Column("first", "First seen", 11, drop=2),
    Column("last", "Last seen", 11, drop=1),
    Column("state", "State", 8),
)
SHORT = {"critical": "CRIT", "high": "HIGH", "medium": "MED", "low": "LOW", "info": "info"}
STATE_WORD = {"open": "open", "accepted": "accepted", "resolved": "resolved", "not_assessed": "n/a root"}


def severity_style(p: Palette, severity: str) -> Style:
    if severity in ("critical", "high"):
        return Style.parse(f"bold {p.crit}")
    return Style.parse(p.warn) if severity == "medium" else Style.parse(p.muted)


def local(iso: str | None, fmt: str = "%m-%d %H:%M") -> str:
    """A stored UTC time as the operator's local time."""
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime(fmt)
    except ValueError:
        return "?"


def finding_cells(d: dict[str, Any], p: Palette, mark: str | None = None) -> tuple[Text, ...]:
    """A finding's row; `mark` (new, fixed) replaces the state in the changes view."""
    quiet = d["state"] in ("accepted", "resolved", "not_assessed")
    base = p.faint if quiet else Style()
    state = mark or STATE_WORD.get(d["state"], d["state"])
    state_style = (
        f"bold {p.crit}" if mark == "new" else p.ok if mark == "fixed" or state == "resolved" else ""
    )
    return (
        Text(SHORT.get(d["severity"], d["severity"]), style=severity_style(p, d["severity"]) + base),
        safe_text(d["host"], style=base),
        safe_text(d["check"], style=base),
        safe_text(d["title"], style=base),
        safe_text(d["evidence"], style=p.faint),
        Text(local(d["first_seen"]), style=base),
        Text(local(d["last_seen"]), style=base),
        Text(state, style=state_style or base),
    )


def group_cells(name: str, counts: dict[str, int], p: Palette) -> tuple[Text, ...]:
    """A group's header row: its name and its open findings per severity."""
    summary = Text()
    for sev, n in counts.items():
        if n:
            summary.append(f"{n} {SHORT[sev].lower()}  ", style=severity_style(p, sev))
    if not summary:
        summary.append("nothing open", style=p.ok)
    title = Text("▸ ", style="bold")
    title.append_text(safe_text(name, style="bold"))
    return (Text(""), title, Text(""), summary, Text(""), Text(""), Text(""), Text(""))


def counts_fields(counts: dict[str, int], accepted: int, unassessed: int, p: Palette) -> list[Text]:
    """The summary's fields (laid out by render.facts.fields_text, never broken inside one)."""
    out = [Text("open")]
    for sev, n in counts.items():
        out.append(Text(f"{SHORT[sev].lower()} {n}", style=severity_style(p, sev) if n else p.faint))
    out += [Text(f"accepted {accepted}", style=p.faint), Text(f"not assessed {unassessed}", style=p.faint)]
    return out
