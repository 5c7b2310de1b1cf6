"""Reports of scanners the organisation already runs, read into findings: Lynis's
`lynis-report.dat` and Trivy's JSON. Reading is all or nothing: a report that is not what it
claims raises ReportError with one line saying what is wrong, and nothing is imported.

Lynis: one finding per distinct `warning[]` / `suggestion[]` line, keyed by its test id and
text; warnings are medium, suggestions low; a report without `finish=true` was cut short and
is refused. Trivy (JSON schema version 2, as `trivy fs|rootfs|image --format json` writes
it): one finding per vulnerability id and package, its severity as Trivy says it (UNKNOWN is
info), the installed and fixed versions as evidence.
"""

from __future__ import annotations

import json
from typing import Any

from tomconsole.models import Finding

FORMATS = ("lynis", "trivy")
TRIVY_SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNKNOWN": "info"}


class ReportError(ValueError):
    """A report that cannot be imported; the message is one line."""


def detect(text: str) -> str:
    """lynis or trivy, from the text itself."""
    head = text.lstrip()[:4096]
    if head.startswith("{"):
        return "trivy"
    if "report_version_major=" in head or "# Lynis Report" in head or "warning[]=" in text:
        return "lynis"
    raise ReportError("neither a Lynis report (lynis-report.dat) nor Trivy JSON")


def read_report(text: str, fmt: str | None = None) -> tuple[str, list[Finding]]:
    """(the format, its findings); ReportError when it cannot be read."""
    fmt = fmt or detect(text)
    if fmt == "lynis":
        return fmt, parse_lynis(text)
    if fmt == "trivy":
        return fmt, parse_trivy(text)
    raise ReportError(f"unknown report format {fmt} (known: {', '.join(FORMATS)})")


def parse_lynis(text: str) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    finished = False
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip() == "finish=true":
            finished = True
        for kind, severity in (("warning[]=", "medium"), ("suggestion[]=", "low")):
            if not line.startswith(kind):
                continue
            parts = line[len(kind) :].split("|")
            test = parts[0].strip()
            if len(parts) < 2 or not test:
                raise ReportError(f"line {n}: a {kind[:-3]} without a test id and text")
            message = parts[1].strip()
            details = parts[2].strip() if len(parts) > 2 and parts[2].strip() not in ("", "-") else ""
            solution = parts[3].strip() if len(parts) > 3 and parts[3].strip() not in ("", "-") else ""
            obj = f"{kind[:-3]}: {message}" + (f" ({details})" if details else "")
            if f"{test}|{obj}" in seen:
                continue
            seen.add(f"{test}|{obj}")
            out.append(
                Finding(
                    f"lynis:{test}",
                    severity,
                    message + (f": {details}" if details else ""),
                    f"Lynis {kind[:-3]} {test}: {message}" + (f" ({details})" if details else ""),
                    obj=obj,
                    why=f"Lynis test {test} flagged this as a {kind[:-3]}.",
                    fix=solution or f"See `lynis show details {test}`.",
                )
            )
    if not finished:
        raise ReportError("the Lynis report has no `finish=true`: the audit did not complete")
    return out


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ReportError(f"not valid JSON: {exc}") from None


def parse_trivy(text: str) -> list[Finding]:
    doc = _load_json(text)
    if not isinstance(doc, dict) or ("Results" not in doc and "SchemaVersion" not in doc):
        raise ReportError("not a Trivy JSON report (no SchemaVersion or Results)")
    results = doc.get("Results")
    results = [] if results is None else results  # a clean scan may leave Results out
    if not isinstance(results, list):
        raise ReportError("Trivy report: Results is not a list")
    artifact = str(doc.get("ArtifactName") or "")
    out: list[Finding] = []
    seen: set[str] = set()
    for i, res in enumerate(results):
        if not isinstance(res, dict):
            raise ReportError(f"Trivy report: Results[{i}] is not an object")
        target = str(res.get("Target") or artifact)
        vulns = res.get("Vulnerabilities")
        vulns = [] if vulns is None else vulns
        if not isinstance(vulns, list):
            raise ReportError(f"Trivy report: Results[{i}].Vulnerabilities is not a list")
        for j, v in enumerate(vulns):
            if not isinstance(v, dict) or not v.get("VulnerabilityID") or not v.get("PkgName"):
                raise ReportError(
                    f"Trivy report: Results[{i}].Vulnerabilities[{j}] has no VulnerabilityID or PkgName"
                )
            vid, pkg = str(v["VulnerabilityID"]), str(v["PkgName"])
            obj = f"{vid} {pkg}"
            if obj in seen:
                continue
            seen.add(obj)
            installed = str(v.get("InstalledVersion") or "?")
            fixed = str(v.get("FixedVersion") or "")
            severity = TRIVY_SEVERITY.get(str(v.get("Severity") or "UNKNOWN").upper(), "info")
            title = str(v.get("Title") or "").strip()
            out.append(
                Finding(
                    "trivy",
                    severity,
                    f"{vid} in {pkg}" + (f": {title}" if title else ""),
                    f"{pkg} {installed} in {target}; fixed in {fixed or 'no release yet'}",
                    obj=obj,
                    why=(
                        str(v.get("Description") or "").strip()[:600]
                        or f"{vid} is a published vulnerability."
                    )
                    + (f" {v['PrimaryURL']}" if v.get("PrimaryURL") else ""),
                    fix=f"Upgrade {pkg} to {fixed} or later."
                    if fixed
                    else "No fix released yet: mitigate, or accept.",
                )
            )
    return out
