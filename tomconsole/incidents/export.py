"""A post-incident timeline in Markdown, for the review document."""

from __future__ import annotations

import re

from tomconsole.incidents.model import Incident


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _when(iso: str | None) -> str:
    return "-" if not iso else iso[:19].replace("T", " ") + "Z"


def to_markdown(inc: Incident) -> str:
    lines = [
        f"# {inc.id}: {_cell(inc.title)}",
        "",
        f"- Severity: {inc.severity}",
        f"- Host: {inc.host or '-'}",
        f"- Rule: {inc.cause}",
        f"- State: {inc.state.value}",
        f"- Opened: {_when(inc.opened_at)}",
        f"- Acknowledged: {_when(inc.acknowledged_at)} by {inc.acknowledged_by or '-'}",
        f"- Resolved: {_when(inc.resolved_at)} by {inc.resolved_by or '-'}",
        f"- Assignee: {inc.assignee or '-'}",
    ]
    if inc.runbook:
        lines.append(f"- Runbook: {inc.runbook}")
    lines += ["", "## Timeline", "", "| When (UTC) | What | Who | Detail |", "|---|---|---|---|"]
    lines += [f"| {_when(e.at)} | {e.what} | {_cell(e.who)} | {_cell(e.detail)} |" for e in inc.timeline]
    if inc.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {_when(n['at'])} {n['who']}: {_cell(n['text'])}" for n in inc.notes]
    evidence = [n for n in inc.notes if "output" in n]
    if evidence:
        lines += ["", "## Diagnostics attached", ""]
        for n in evidence:
            lines += [f"### {_cell(n['text'])}", "", *_fenced(n["output"]), ""]
            if n.get("truncated") == "yes":
                lines += ["(truncated: the output above is the start of what the host sent)", ""]
    return "\n".join(lines) + "\n"


def _fenced(text: str) -> list[str]:
    """A code block whose fence no line of `text` can close: host output stays literal."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text.rstrip("\n"), fence]
