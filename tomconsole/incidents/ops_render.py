"""The operations report (incidents/ops_report.py) as Markdown, or as CSV rows
(section, item, figure, value) for a spreadsheet. JSON is the report's data as is."""

from __future__ import annotations

import csv
import io
from typing import Any

from tomconsole.incidents.handoff import md


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:g} %"


def markdown(r: dict[str, Any]) -> str:
    out = [f"# Operations report: {r['month']}", "", f"From {r['from'][:10]} to {r['to'][:10]} (UTC).", ""]
    a = r["availability"]
    out += ["## Availability", "", f"_{a['how']}._", "", "| Group | Availability | Down |", "|---|---|---|"]
    out += [
        f"| {md(g['group'])} | {_pct(g['availability_pct'])} | {_dur(g['down_s'])} |" for g in a["groups"]
    ] or ["| (no host judged in the month) | - | - |"]
    out += ["", "| Host | Availability | Down | Unknown |", "|---|---|---|---|"]
    out += [
        f"| {md(h['host'])} | {_pct(h['availability_pct'])} | {_dur(h['down_s'])} | {_dur(h['unknown_s'])} |"
        for h in a["hosts"]
    ]
    i = r["incidents"]
    sev = ", ".join(f"{n} {s}" for s, n in i["by_severity"].items())
    out += ["", "## Incidents", "", f"_{i['how']}._", "", f"- Opened: {i['opened']} ({sev})"]
    for name in ("mtta", "mttr"):
        x = i[name]
        out.append(f"- {name.upper()}: median {_dur(x['median_s'])}, p90 {_dur(x['p90_s'])} (over {x['n']})")
    out.append(
        "- Noisiest rules: "
        + (", ".join(f"{md(n['rule'])} ({n['incidents']})" for n in i["noisiest_rules"]) or "none")
    )
    c = r["changes"]
    out += ["", "## Changes", "", f"_{c['how']}._", ""]
    outcomes = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in c["outcomes"].items()) or "none"
    out.append(f"- Run: {c['run']}; ended: {c['ended']} ({outcomes})")
    failed = ", ".join(c["failed_or_critical"]) or "none"
    out.append(f"- Change failure rate: {_pct(c['failure_rate_pct'])} ({failed})")
    if c["emergency"]:
        out.append(f"- Emergency changes: {', '.join(c['emergency'])}")
    f = r["findings"]
    out += [
        "",
        "## Findings",
        "",
        f"_{f['how']}._",
        "",
        f"- Opened {f['opened']}, accepted {f['accepted']}, fixed {f['fixed']}",
    ]
    b = r["budget"]
    out += [
        "",
        "## Budget",
        "",
        f"_{b['how']}._",
        "",
        "| Line | Planned | Actual | Variance |",
        "|---|---|---|---|",
    ]
    out += [
        f"| {md(x['line'])} | {x['planned_to_date']:,.2f} | {x['actual_to_date']:,.2f}"
        f" | {x['variance']:+,.2f} {x['currency']}{' (over plan)' if x['over'] else ''} |"
        for x in b["lines"]
    ]
    k = r["contracts"]
    out += ["", "## Contracts due for notice", "", f"_{k['how']}._", ""]
    out += [
        f"- {md(x['contract'])} ({md(x['vendor'])}): notice by {x['notice_by']}, ends {x['ends']}"
        for x in k["due"]
    ] or ["None."]
    return "\n".join(out) + "\n"


def csv_rows(r: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "item", "figure", "value"])
    for g in r["availability"]["groups"]:
        w.writerow(["availability", f"group:{g['group']}", "availability_pct", g["availability_pct"]])
    for h in r["availability"]["hosts"]:
        w.writerow(["availability", h["host"], "availability_pct", h["availability_pct"]])
        for key in ("up_s", "down_s", "unknown_s"):
            w.writerow(["availability", h["host"], key, h[key]])
    i = r["incidents"]
    w.writerow(["incidents", "", "opened", i["opened"]])
    for s, n in i["by_severity"].items():
        w.writerow(["incidents", s, "opened", n])
    for name in ("mtta", "mttr"):
        for key in ("n", "median_s", "p90_s"):
            w.writerow(["incidents", name, key, i[name][key]])
    for n in i["noisiest_rules"]:
        w.writerow(["incidents", n["rule"], "incidents", n["incidents"]])
    c = r["changes"]
    for key in ("run", "ended", "failure_rate_pct"):
        w.writerow(["changes", "", key, c[key]])
    for key in ("opened", "accepted", "fixed"):
        w.writerow(["findings", "", key, r["findings"][key]])
    for x in r["budget"]["lines"]:
        w.writerow(["budget", x["line"], "variance", x["variance"]])
    for x in r["contracts"]["due"]:
        w.writerow(["contracts", x["contract"], "notice_by", x["notice_by"]])
    return buf.getvalue()
