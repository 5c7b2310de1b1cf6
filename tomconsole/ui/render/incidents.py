"""How an incident row looks: severity badge, state, flags, age."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text

from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.ui import format as fmt
from tomconsole.ui.palette import Palette
from tomconsole.ui.text import safe_text
from tomconsole.ui.widgets.fleet_table import Column

COLUMNS = (
    Column("sev", "Sev", 8),
    Column("state", "State", 5),
    Column("id", "Id", 10, drop=3),
    Column("host", "Host", 10, flex=True, max_width=24),
    Column("title", "Title", 14, flex=True, max_width=110),
    Column("flags", "!", 4, drop=2),
    Column("assignee", "Owner", 7, flex=True, max_width=16),
    Column("age", "Age", 4, right=True),
)
SEVERITY_SHORT = {"critical": "CRIT", "major": "MAJ", "minor": "MIN", "info": "INFO"}
STATE_SHORT = {
    IncidentState.TRIGGERED: "TRIG",
    IncidentState.ACKNOWLEDGED: "ack",
    IncidentState.RESOLVED: "done",
}


def severity_style(severity: str, p: Palette) -> Style:
    return {
        "critical": Style(color=p.crit, bold=True, reverse=True),
        "major": Style(color=p.crit, bold=True),
        "minor": Style(color=p.warn),
    }.get(severity, Style(color=p.muted))


def incident_cells(
    inc: Incident, p: Palette, maint: bool = False, during: list[str] | None = None
) -> tuple[Text, ...]:
    """Every cell of an incident's row but the age; `maint`: a window covers its host now;
    `during`: the changes it opened during."""
    flags = "".join(
        f if on else " "
        for f, on in (("E", inc.escalated), ("F", inc.flapping), ("S", inc.suppressed), ("M", maint))
    )
    dim = Style(color=p.muted) if inc.suppressed else Style()
    return (
        Text(
            f" {SEVERITY_SHORT.get(inc.severity, inc.severity[:4])} ", style=severity_style(inc.severity, p)
        ),
        Text(STATE_SHORT[inc.state], style=Style(bold=inc.state is IncidentState.TRIGGERED)),
        Text(inc.id, style=Style(color=p.muted)),
        safe_text(inc.host or "-", style=dim),
        _title(inc, dim, during, p),
        Text(flags, style=Style(color=p.warn, bold=True)),
        safe_text(inc.assignee or "-", style=dim),
    )


def _title(inc: Incident, dim: Style, during: list[str] | None, p: Palette) -> Text:
    title = safe_text(inc.title, style=dim)
    if during:
        title = Text.assemble((f"during {', '.join(during)} ", Style(color=p.warn, bold=True)), title)
        title.no_wrap, title.overflow = True, "ellipsis"
    if inc.kind == "task":  # a contract's notice: for whoever picks it up, it pages nobody
        title = Text.assemble(("task: ", Style(color=p.accent, bold=True)), title)
        title.no_wrap, title.overflow = True, "ellipsis"
    return title


def incident_age(inc: Incident, now: datetime, p: Palette) -> tuple[Text]:
    age = (now - datetime.fromisoformat(inc.opened_at)).total_seconds()
    return (Text(fmt.duration(age), justify="right", style=Style(color=p.muted)),)
