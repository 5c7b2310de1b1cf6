"""Incidents raised in an Alertmanager: the `alertmanager:` config section, the book's
`open_external` (idempotent on the key, across restarts), and the rules of the sync for
silences it cannot make (said once, retried while Alertmanager was out of reach, not asked
again once refused).

The sync's rules run here against a stand-in client (pure bookkeeping); talking to a real
Alertmanager is tests/integration/test_alertmanager.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tomconsole.collectors.alertmanager import AlertmanagerClient, SilenceError
from tomconsole.config import ConfigError, parse_config
from tomconsole.config.alertmanager import AlertmanagerConfig
from tomconsole.incidents.book import AUDIT, IncidentBook, Policy
from tomconsole.incidents.external import AlertmanagerSync
from tomconsole.incidents.model import Incident, IncidentState
from tomconsole.models import SourceState, SourceStatus
from tomconsole.probes.alertmanager import AmAlert, parse_time
from tomconsole.store import Store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LABELS = {"alertname": "DiskFull", "instance": "db-01:9100"}


def _issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml")
    return [str(i) for i in info.value.issues]


# -- config ----------------------------------------------------------------------------------


def test_config_defaults_and_durations() -> None:
    c = parse_config("alertmanager:\n  url: https://am.example.org/\n  silence_for: 4h\n").alertmanager
    assert c is not None
    assert (c.interval, c.timeout, c.silence_for, c.filter) == (30.0, 5.0, 4 * 3600.0, [])
    assert c.resolve_token() is None and c.where == "am.example.org"
    assert parse_config("").alertmanager is None


def test_config_refuses_secrets_credentials_and_bad_matchers() -> None:
    assert _issues("alertmanager:\n  url: http://am:9093\n  bearer_token: abc\n") == [
        "cfg.yaml:3: alertmanager.bearer_token: plaintext secrets are not allowed in the config; "
        "use bearer_token_env or token_file"
    ]
    (issue,) = _issues("alertmanager:\n  url: http://ops:pw@am:9093\n")
    assert issue == (
        "cfg.yaml:2: alertmanager.url: credentials do not belong in the url; "
        "use bearer_token_env or token_file"
    )
    (issue,) = _issues("alertmanager:\n  url: http://am\n  bearer_token_env: T\n  token_file: /t\n")
    assert issue.startswith("cfg.yaml:1: alertmanager: ") and "at most one of bearer_token_env" in issue
    (issue,) = _issues("alertmanager:\n  url: ftp://am\n")
    assert issue.startswith("cfg.yaml:2: alertmanager.url: ")
    (issue,) = _issues("alertmanager:\n  url: http://am\n  filter: ['severity critical']\n")
    assert issue.startswith("cfg.yaml:3: alertmanager.filter: ") and 'like severity="critical"' in issue


def test_config_accepts_matchers_alertmanager_takes() -> None:
    text = 'alertmanager:\n  url: http://am\n  filter: [severity="critical", "team=~ops|db", env!=dev]\n'
    c = parse_config(text).alertmanager
    assert c is not None and len(c.filter) == 3


def test_token_read_on_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "token"
    c = AlertmanagerConfig(url="http://am", token_file=str(file))
    with pytest.raises(ValueError, match=f"cannot read {file}"):
        c.resolve_token()
    file.write_text("s3cr3t.token\n")
    assert c.resolve_token() == "s3cr3t.token"
    file.write_text("two words")
    with pytest.raises(ValueError) as info:
        c.resolve_token()
    assert "two words" not in str(info.value)  # never echoed
    env = AlertmanagerConfig(url="http://am", bearer_token_env="AM_TOKEN")
    monkeypatch.delenv("AM_TOKEN", raising=False)
    with pytest.raises(ValueError, match=r"\$AM_TOKEN is not set"):
        env.resolve_token()
    monkeypatch.setenv("AM_TOKEN", "abc")
    assert env.resolve_token() == "abc"


# -- the book ----------------------------------------------------------------------------------


class Book:
    def __init__(self, tmp: Path) -> None:
        self.t = 0.0
        self.store = Store(tmp)
        self.book = IncidentBook(self.store, Policy(), now=self.wall)

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def fire(self, starts_at: str = "2026-03-01T11:00:00+00:00") -> Incident | None:
        origin = {"source": "alertmanager", "fingerprint": "f1", "starts_at": starts_at}
        return self.book.open_external(
            "alertmanager|f1", "DiskFull on db-01:9100", "critical", "db-01", None, LABELS, origin
        )


def test_open_external_is_idempotent_across_restarts(tmp_path: Path) -> None:
    b = Book(tmp_path)
    first = b.fire()
    assert first is not None and b.fire() is None
    b.store.close()
    b = Book(tmp_path)
    assert b.fire() is None
    (inc,) = b.book.open()
    assert inc.labels == LABELS and inc.origin["fingerprint"] == "f1" and inc.rule is None
    assert [a["action"] for a in b.store.all(AUDIT)] == ["trigger"]


def test_resolved_by_alertmanager_then_firing_again_reopens(tmp_path: Path) -> None:
    """An Alertmanager restarted empty makes its alerts vanish until Prometheus sends them
    again (same startsAt): the incident comes back, the same one."""
    b = Book(tmp_path)
    b.fire()
    (inc,) = b.book.open()
    b.book.resolve(inc.id, "alertmanager", "resolved in Alertmanager")
    b.t = 60
    assert b.fire() is inc and inc.state is IncidentState.TRIGGERED
    assert [e.what for e in inc.timeline] == ["triggered", "resolved", "reopened"]


def test_resolved_by_an_operator_stays_resolved_for_that_firing(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.fire()
    (inc,) = b.book.open()
    b.book.resolve(inc.id, "ana")
    b.t = 60
    assert b.fire() is None and b.book.open() == []
    b.t = 3600  # later, a new firing (a new startsAt), past reopen_within: a new incident
    new = b.fire("2026-03-01T12:59:00+00:00")
    assert new is not None and new is not inc and [i.id for i in b.book.open()] == [new.id]


# -- the sync's rules for silences ---------------------------------------------------------------


class StandIn(AlertmanagerClient):
    """Answers from a script instead of the network."""

    def __init__(self, alerts: list[AmAlert], failures: list[SilenceError | None]) -> None:
        super().__init__(AlertmanagerConfig(url="http://am"))
        self.listed, self.failures, self.asked = alerts, failures, 0

    async def alerts(self) -> tuple[SourceStatus, list[AmAlert]]:
        return SourceStatus("alertmanager", "alerts", SourceState.UP), self.listed

    async def silence(
        self, labels: Mapping[str, str], created_by: str, ends_at: datetime, comment: str
    ) -> str:
        self.asked += 1
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        return f"sil-{self.asked}"


def _sync(b: Book, client: StandIn) -> AlertmanagerSync:
    return AlertmanagerSync(client, client.config, b.book, mono=lambda: 0.0, wall=b.wall)


async def test_unreachable_is_retried_and_said_once(tmp_path: Path) -> None:
    b = Book(tmp_path)
    down = SilenceError("cannot reach am: connection refused")
    client = StandIn(
        [AmAlert("f1", LABELS, starts_at=parse_time("2026-03-01T11:00:00Z"))], [down, down, None]
    )
    sync = _sync(b, client)
    await sync.sync()
    (inc,) = b.book.open()
    b.book.acknowledge(inc.id, "ana")
    reply = await sync.after_ack(inc.id)
    assert reply["warning"].endswith("connection refused; tried again when Alertmanager answers")
    await sync.sync()  # fails the same way: not said again
    await sync.sync()  # made
    assert client.asked == 3
    assert [e.what for e in inc.timeline if "silence" in e.what.lower()] == [
        "no Alertmanager silence",
        "silenced in Alertmanager",
    ]
    assert inc.origin["silence_id"] == "sil-3" and "silence_error" not in inc.origin
    await sync.sync()
    assert client.asked == 3  # one silence per acknowledgement


async def test_a_refused_silence_is_not_asked_for_again(tmp_path: Path) -> None:
    b = Book(tmp_path)
    refused = SilenceError("HTTP 400 Bad Request: bad matcher", permanent=True)
    client = StandIn([AmAlert("f1", LABELS)], [refused])
    sync = _sync(b, client)
    await sync.sync()
    (inc,) = b.book.open()
    b.book.acknowledge(inc.id, "ana")
    reply = await sync.after_ack(inc.id)
    assert reply == {
        "warning": "acknowledged, but no silence in Alertmanager: HTTP 400 Bad Request: bad matcher"
    }
    await sync.sync()
    assert client.asked == 1 and inc.state is IncidentState.ACKNOWLEDGED


async def test_an_incident_of_ours_gets_no_silence(tmp_path: Path) -> None:
    b = Book(tmp_path)
    client = StandIn([], [])
    inc = b.book.open_manual("printer on fire", "ana")
    b.book.acknowledge(inc.id, "ana")
    assert await _sync(b, client).after_ack(inc.id) == {}
    assert client.asked == 0
