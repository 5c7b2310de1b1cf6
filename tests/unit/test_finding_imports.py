"""Scanner reports into findings: Lynis report lines and Trivy JSON (schema version 2, as
documented at https://trivy.dev/latest/docs/configuration/reporting/#json: Results[] with
Target, Class, Type and Vulnerabilities[] of VulnerabilityID, PkgName, InstalledVersion,
FixedVersion, Severity, Title). A malformed report is one ReportError; garbage never raises
anything else."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tomconsole.demo.security import trivy_sample
from tomconsole.findings.imports import ReportError, detect, parse_lynis, parse_trivy, read_report

LYNIS = """# Lynis Report
report_version_major=1
report_version_minor=0
hostname=web-01
warning[]=SSH-7408|Root can directly login via SSH|-|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|AllowTcpForwarding (set YES to NO)|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|MaxAuthTries (set 6 to 3)|-|
suggestion[]=SSH-7408|Consider hardening SSH configuration|MaxAuthTries (set 6 to 3)|-|
suggestion[]=DEB-0880|Install fail2ban to ban hosts that commit authentication errors.|-|-|
suggestion[]=AUTH-9230|Configure password hashing rounds in /etc/login.defs|-|Set SHA_CRYPT_MIN_ROUNDS|
finish=true
"""


def test_lynis_lines_become_findings() -> None:
    found = parse_lynis(LYNIS)
    assert len(found) == 5  # the duplicate MaxAuthTries line is one finding
    warning = found[0]
    assert (warning.check, warning.severity) == ("lynis:SSH-7408", "medium")
    assert warning.title == "Root can directly login via SSH"
    sugg = [f for f in found if f.severity == "low"]
    assert len(sugg) == 4
    assert len({(f.check, f.obj) for f in found}) == 5  # distinct keys per line text
    assert next(f for f in found if f.check == "lynis:AUTH-9230").fix == "Set SHA_CRYPT_MIN_ROUNDS"


def test_lynis_without_finish_is_refused() -> None:
    with pytest.raises(ReportError, match="finish=true"):
        parse_lynis(LYNIS.replace("finish=true\n", ""))
    with pytest.raises(ReportError, match="line 5"):
        parse_lynis(LYNIS.replace("warning[]=SSH-7408|Root", "warning[]=|Root"))


def test_trivy_sample_follows_the_schema() -> None:
    found = parse_trivy(trivy_sample())
    assert [f.severity for f in found] == ["critical", "high", "medium", "low", "info"]  # UNKNOWN -> info
    crit = found[0]
    assert crit.check == "trivy" and crit.obj == "CVE-2024-5535 openssl"
    assert "3.0.13-1~deb12u1" in crit.evidence and "fixed in 3.0.14-1~deb12u1" in crit.evidence
    assert "no release yet" in found[2].evidence


def test_trivy_filesystem_results_and_duplicates() -> None:
    doc = {
        "SchemaVersion": 2,
        "ArtifactName": "/srv/app",
        "ArtifactType": "filesystem",
        "Results": [
            {
                "Target": "requirements.txt",
                "Class": "lang-pkgs",
                "Type": "pip",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2023-32681",
                        "PkgName": "requests",
                        "InstalledVersion": "2.25.0",
                        "FixedVersion": "2.31.0",
                        "Severity": "MEDIUM",
                    },
                ],
            },
            {
                "Target": "poetry.lock",
                "Class": "lang-pkgs",
                "Type": "poetry",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2023-32681",
                        "PkgName": "requests",
                        "InstalledVersion": "2.25.0",
                        "FixedVersion": "2.31.0",
                        "Severity": "MEDIUM",
                    },
                ],
            },
            {"Target": "Dockerfile", "Class": "config"},
        ],
    }
    found = parse_trivy(json.dumps(doc))
    assert len(found) == 1 and "requirements.txt" in found[0].evidence
    assert parse_trivy(json.dumps({"SchemaVersion": 2, "ArtifactName": "x", "Results": []})) == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a Trivy JSON report"),
        ('{"SchemaVersion": 2, "Results": {}}', "Results is not a list"),
        ('{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"PkgName": "x"}]}]}', "no VulnerabilityID"),
    ],
)
def test_malformed_trivy(text: str, why: str) -> None:
    with pytest.raises(ReportError, match=why):
        parse_trivy(text)


def test_detect() -> None:
    assert detect(LYNIS) == "lynis"
    assert detect(trivy_sample()) == "trivy"
    with pytest.raises(ReportError, match="neither a Lynis report"):
        detect("hello")
    assert read_report(LYNIS)[0] == "lynis"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_garbage_is_a_report_error_or_nothing(text: str) -> None:
    for fmt in (None, "lynis", "trivy"):
        with contextlib.suppress(ReportError):
            read_report(text, fmt)
    with contextlib.suppress(ReportError):
        read_report("finish=true\n" + text.replace("\n", "\nwarning[]="), "lynis")
