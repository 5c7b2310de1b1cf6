"""Alerts from a real Alertmanager (Debian's, on loopback) in the incident queue: opened after a
housekeeping pass, acknowledged into a silence there, resolved when Alertmanager resolves
them, left alone while it is down, never duplicated by a restart; and `poll` reporting it.

The Engine gets a clock the test moves, so "the sync is due" is a fact, not a wait; the
Alertmanager is driven through its own API as Prometheus drives it, and each step waits
until Alertmanager shows the state the test posted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_unavailable
from tests.harness.alertmanager import AlertmanagerServer, Unavailable, alert, has, lacks
from tomconsole.config import Config, parse_config
from tomconsole.engine import Engine
from tomconsole.incidents.book import AUDIT
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.models import Acknowledge, SourceState, SourceStatus

LABELS = {"alertname": "DiskFull", "instance": "db-01:9100", "job": "node", "severity": "critical"}
NOTES = {"summary": "disk / is 95% full", "runbook_url": "https://runbooks.example.org/disk-full"}
RESOLVED = "2020-01-01T00:00:00Z"  # an endsAt in the past: Prometheus's "resolved"


@pytest.fixture
def am(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    server = AlertmanagerServer(tmp_path / "alertmanager")
    try:
        server.start()
    except Unavailable as exc:
        server.stop()
        service_unavailable(str(exc))
    yield server
    server.stop()


class Clock:
    """The Engine's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _config(url: str, **section: Any) -> Config:
    doc = {"local": False, "alertmanager": {"url": url, "timeout": "5s", "silence_for": "2h", **section}}
    return parse_config(json.dumps(doc))  # JSON is YAML


def _engine(url: str, data: Path, clock: Clock, **section: Any) -> Engine:
    return Engine(_config(url, **section), data_dir=data, sources=[], clock=clock)


async def _housekeeping(engine: Engine, clock: Clock) -> None:
    """One housekeeping pass with the Alertmanager sync due."""
    clock.t += 31
    await engine.housekeeping(wait=True)  # the sync itself, not its background task


def _source(engine: Engine) -> SourceStatus:
    (status,) = [s for s in engine.source_statuses() if s.name == "alertmanager"]
    return status


def _incident(engine: Engine, iid: str) -> Incident:
    assert engine.incidents is not None
    return engine.incidents.book.incidents[iid]


async def test_alert_opens_ack_silences_and_alertmanager_resolves(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    am.post_alerts([alert(LABELS, NOTES)])
    am.wait_for("the alert", has(LABELS))
    clock = Clock()
    engine = _engine(am.url, tmp_path / "data", clock)
    try:
        await _housekeeping(engine, clock)
        assert _source(engine) == SourceStatus("alertmanager", "alerts", SourceState.UP)
        (inc,) = engine.snapshot().incidents
        assert inc.title == "DiskFull on db-01:9100: disk / is 95% full"
        assert (inc.severity, inc.host, inc.runbook) == ("critical", "db-01", NOTES["runbook_url"])
        assert inc.labels == LABELS and inc.key == f"alertmanager|{am.alerts()[0]['fingerprint']}"
        assert inc.state is IncidentState.TRIGGERED

        before = datetime.now(UTC)
        reply = await engine.act(Acknowledge(inc.id, "ana"))
        after = datetime.now(UTC)
        assert reply["ok"] and "warning" not in reply, reply
        (silence,) = am.silences()
        assert silence["id"] == reply["silence"]["id"]
        assert silence["createdBy"] == "ana" and inc.id in silence["comment"]
        assert sorted(
            (m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in silence["matchers"]
        ) == sorted((k, v, True, False) for k, v in LABELS.items())
        ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))
        slack = timedelta(milliseconds=1)  # Alertmanager keeps milliseconds
        assert before + timedelta(hours=2) - slack <= ends <= after + timedelta(hours=2) + slack
        acked = _incident(engine, inc.id)
        assert acked.state is IncidentState.ACKNOWLEDGED and acked.acknowledged_by == "ana"
        assert acked.origin["silence_id"] == silence["id"]
        assert any(e.what == "silenced in Alertmanager" and silence["id"] in e.detail for e in acked.timeline)
        assert engine.store is not None
        audit = [
            a for a in engine.store.all(AUDIT) if a.get("incident") == inc.id and a["action"] == "silence"
        ]
        assert [(a["who"], a["silence_id"]) for a in audit] == [("ana", silence["id"])]

        # Our silence suppresses the alert; a suppressed alert still fires: the incident stays.
        am.wait_for("the alert silenced", has(LABELS, "suppressed"))
        await _housekeeping(engine, clock)
        assert _incident(engine, inc.id).state is IncidentState.ACKNOWLEDGED

        am.post_alerts([alert(LABELS, NOTES, ends_at=RESOLVED)])
        am.wait_for("the alert resolved", lacks(LABELS))
        await _housekeeping(engine, clock)
        done = _incident(engine, inc.id)
        assert done.state is IncidentState.RESOLVED and done.resolved_by == "alertmanager"
        assert (done.timeline[-1].what, done.timeline[-1].detail) == ("resolved", "resolved in Alertmanager")
        assert engine.snapshot().incidents == []
    finally:
        await engine.stop()


async def test_a_down_alertmanager_changes_nothing_and_the_ack_stands(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    am.post_alerts([alert(LABELS, NOTES)])
    am.wait_for("the alert", has(LABELS))
    clock = Clock()
    engine = _engine(am.url, tmp_path / "data", clock)
    try:
        await _housekeeping(engine, clock)
        (inc,) = engine.snapshot().incidents

        am.stop()
        await _housekeeping(engine, clock)
        status = _source(engine)
        assert status.state is SourceState.DOWN
        assert status.reason == f"cannot reach 127.0.0.1:{am.port}: connection refused"
        assert [i.id for i in engine.snapshot().incidents] == [inc.id]  # nothing resolved
        assert _incident(engine, inc.id).state is IncidentState.TRIGGERED

        reply = await engine.act(Acknowledge(inc.id, "ben"))
        assert reply["ok"]
        assert reply["warning"] == (
            f"acknowledged, but no silence in Alertmanager: cannot reach 127.0.0.1:{am.port}: "
            "connection refused; tried again when Alertmanager answers"
        )
        acked = _incident(engine, inc.id)
        assert acked.state is IncidentState.ACKNOWLEDGED
        assert acked.timeline[-1].what == "no Alertmanager silence"

        # Back, empty (it keeps silences, not alerts); Prometheus sends the alert again.
        am.start()
        am.post_alerts([alert(LABELS, NOTES)])
        am.wait_for("the alert again", has(LABELS))
        await _housekeeping(engine, clock)
        assert _source(engine).state is SourceState.UP
        (silence,) = am.silences()  # the acknowledgement's silence, made on this sync
        assert silence["createdBy"] == "ben"
        assert _incident(engine, inc.id).origin["silence_id"] == silence["id"]
        assert _incident(engine, inc.id).state is IncidentState.ACKNOWLEDGED
    finally:
        await engine.stop()


async def test_restart_on_the_same_data_dir_opens_no_duplicate(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    am.post_alerts([alert(LABELS, NOTES)])
    am.wait_for("the alert", has(LABELS))
    data = tmp_path / "data"
    ids = []
    for _ in range(3):  # three processes in turn, the alert firing throughout
        clock = Clock()
        engine = _engine(am.url, data, clock)
        try:
            await _housekeeping(engine, clock)
            ids.append([i.id for i in engine.snapshot().incidents])
            assert engine.incidents is not None and engine.store is not None
            assert len(engine.incidents.book.incidents) == 1
            triggers = [a for a in engine.store.all(AUDIT) if a["action"] == "trigger"]
        finally:
            await engine.stop()
    assert ids[0] == ids[1] == ids[2] and len(ids[0]) == 1
    assert len(triggers) == 1


async def test_filter_severity_and_host_labels(am: AlertmanagerServer, tmp_path: Path) -> None:
    page = {"alertname": "NodeDown", "host": "web-02", "severity": "critical"}
    warn = {"alertname": "CertExpiry", "instance": "https://[2001:db8::1]:8443/health", "severity": "warning"}
    info = {"alertname": "Chatty", "instance": "db-01:9100", "severity": "info"}
    am.post_alerts([alert(page), alert(warn), alert(info)])
    am.wait_for("three alerts", lambda alerts: len(alerts) == 3)
    clock = Clock()
    engine = _engine(am.url, tmp_path / "data", clock, filter=['severity=~"critical|warning"'])
    try:
        await _housekeeping(engine, clock)
        got = sorted((i.title, i.severity, i.host) for i in engine.snapshot().incidents)
        assert got == [
            ("CertExpiry on https://[2001:db8::1]:8443/health", "major", "2001:db8::1"),
            ("NodeDown on web-02", "critical", "web-02"),
        ]
    finally:
        await engine.stop()


async def _poll(config: Path, data: Path) -> tuple[int, dict[str, Any], str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tomconsole",
        "--config",
        str(config),
        "--data-dir",
        str(data),
        "poll",
        "--once",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None, err
    return proc.returncode, json.loads(out), err.decode()


async def test_poll_shows_the_source_and_exits_1_while_it_is_down(
    am: AlertmanagerServer, tmp_path: Path
) -> None:
    am.post_alerts([alert(LABELS, NOTES)])
    am.wait_for("the alert", has(LABELS))
    config = tmp_path / "tomconsole.yaml"
    config.write_text(f"local: false\nalertmanager:\n  url: {am.url}\n  timeout: 5s\n")
    data = tmp_path / "data"

    code, doc, err = await _poll(config, data)
    assert code == 0, err
    assert doc["sources"] == [{"name": "alertmanager", "kind": "alerts", "state": "up", "reason": None}]
    assert [(i["title"], i["severity"], i["host"]) for i in doc["incidents"]] == [
        ("DiskFull on db-01:9100: disk / is 95% full", "critical", "db-01")
    ]

    am.stop()
    code, doc, err = await _poll(config, data)
    assert code == 1, err
    (source,) = doc["sources"]
    assert (source["state"], source["reason"]) == (
        "down",
        f"cannot reach 127.0.0.1:{am.port}: connection refused",
    )
    assert len(doc["incidents"]) == 1  # still open: a source that is down resolves nothing
