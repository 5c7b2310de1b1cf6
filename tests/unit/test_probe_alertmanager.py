"""Reading Alertmanager's /api/v2/alerts answer, and what an alert becomes as an incident.

RECORDED is the answer Debian's Alertmanager 0.25 gave for an alert posted the way
Prometheus posts one, then silenced; the rest is garbage an Alertmanager (or whatever
answers at its URL) may send, which must never raise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tomconsole.probes.alertmanager import (
    AlertState,
    AmAlert,
    host_of,
    incident_fields,
    parse_alerts,
    parse_time,
    read_alert,
    severity_of,
)

RECORDED = (
    '[{"annotations":{"runbook_url":"https://x/rb","summary":"disk / is 95% full"},'
    '"endsAt":"2026-11-25T13:38:59.290Z","fingerprint":"924fccfb75d175ad","receivers":[{"name":"null"}],'
    '"startsAt":"2026-11-25T13:33:59.290Z","status":{"inhibitedBy":[],'
    '"silencedBy":["56f53c2b-1c1c-4bc7-83bc-ab39e7b32048"],"state":"suppressed"},'
    '"updatedAt":"2026-11-25T13:33:59.290Z",'
    '"labels":{"alertname":"DiskFull","instance":"db-01:9100","severity":"critical"}}]'
)


def test_recorded_answer() -> None:
    reading = parse_alerts(RECORDED.encode())
    assert reading.error is None and reading.skipped == 0
    (a,) = reading.alerts
    assert a.fingerprint == "924fccfb75d175ad"
    assert a.labels == {"alertname": "DiskFull", "instance": "db-01:9100", "severity": "critical"}
    assert a.annotations["summary"] == "disk / is 95% full"
    assert a.starts_at == datetime(2026, 11, 25, 13, 33, 59, 290000, tzinfo=UTC)
    assert a.state is AlertState.SUPPRESSED
    assert a.silenced_by == ("56f53c2b-1c1c-4bc7-83bc-ab39e7b32048",)


def test_incident_fields_of_the_recorded_alert() -> None:
    f = incident_fields(parse_alerts(RECORDED).alerts[0])
    assert f.key == "alertmanager|924fccfb75d175ad"
    assert f.title == "DiskFull on db-01:9100: disk / is 95% full"
    assert (f.severity, f.host, f.runbook) == ("critical", "db-01", "https://x/rb")
    assert f.labels["instance"] == "db-01:9100"  # kept whole: the silence matches on it
    assert f.starts_at == "2026-11-25T13:33:59.290000+00:00"


def test_the_key_depends_on_the_fingerprint_alone() -> None:
    one = AmAlert("abc123", {"alertname": "X"}, {"summary": "first"})
    two = AmAlert("abc123", {"alertname": "X"}, {"summary": "changed since"}, state=AlertState.SUPPRESSED)
    assert incident_fields(one).key == incident_fields(two).key == "alertmanager|abc123"


def test_severity_mapping() -> None:
    cases = {
        "critical": "critical",
        "CRITICAL": "critical",
        "warning": "major",
        "major": "major",
        "minor": "minor",
        "info": "info",
        "none": "info",
        "page": "major",
        "": "major",
    }
    for label, expected in cases.items():
        assert severity_of({"severity": label}) == expected, label
    assert severity_of({}) == "major"


def test_host_from_instance_host_or_nodename() -> None:
    cases = {
        "db-01:9100": "db-01",
        "db-01": "db-01",
        "10.0.0.7:9100": "10.0.0.7",
        "[2001:db8::1]:9100": "2001:db8::1",
        "2001:db8::1": "2001:db8::1",  # a bare IPv6 address: no port to strip
        "https://shop.example.org:8443/health": "shop.example.org",
        "db-01:metrics": "db-01:metrics",  # not a port
    }
    for instance, expected in cases.items():
        assert host_of({"instance": instance}) == expected, instance
    assert host_of({"host": "web-02", "nodename": "n"}) == "web-02"
    assert host_of({"nodename": "node-3"}) == "node-3"
    assert host_of({"alertname": "Watchdog"}) is None
    assert host_of({"instance": "x" * 300, "host": "short"}) == "short"


def test_title_without_instance_or_summary_and_long_text() -> None:
    assert incident_fields(AmAlert("f1", {"alertname": "Watchdog"})).title == "Watchdog"
    assert incident_fields(AmAlert("f2", {"job": "x"})).title == "alert f2"
    long = incident_fields(AmAlert("f3", {"alertname": "A"}, {"summary": "y" * 500})).title
    assert len(long) == 200 and long.endswith("…")


def test_untrusted_text_is_kept_as_text() -> None:
    summary = "[bold red]boom[/] \x1b[2J\u202e"
    f = incident_fields(AmAlert("f4", {"alertname": "X", "instance": "h:1"}, {"summary": summary}))
    assert f.title == f"X on h:1: {summary}"  # the UI's and the CLI's sanitizers show it safely


def test_runbook_annotation_either_name() -> None:
    assert incident_fields(AmAlert("f5", {"alertname": "X"}, {"runbook": "see wiki"})).runbook == "see wiki"
    assert incident_fields(AmAlert("f6", {"alertname": "X"})).runbook is None


def test_entries_that_cannot_make_an_incident_are_skipped_and_counted() -> None:
    good = {"fingerprint": "aa", "labels": {"alertname": "A"}}
    answer = [
        good,
        {"labels": {"alertname": "no fingerprint"}},
        {"fingerprint": "bb"},  # no labels
        {"fingerprint": "cc", "labels": {"alertname": "A", "n": 1}},  # a label that is not text
        {"fingerprint": "a|b", "labels": {"alertname": "A"}},  # not a fingerprint
        {"fingerprint": "dd", "labels": {}},
        "text",
        None,
    ]
    reading = parse_alerts(json.dumps(answer))
    assert [a.fingerprint for a in reading.alerts] == ["aa"] and reading.skipped == 7


def test_unknown_or_missing_state_is_firing() -> None:
    base = {"fingerprint": "aa", "labels": {"alertname": "A"}}
    assert (alert := read_alert({**base, "status": {"state": "weird"}})) and alert.state is AlertState.ACTIVE
    assert (alert := read_alert({**base, "status": "x"})) and alert.state is AlertState.ACTIVE
    assert (alert := read_alert({**base, "status": {"state": "unprocessed"}}))
    assert alert.state is AlertState.UNPROCESSED


def test_answers_that_are_not_a_list_of_alerts() -> None:
    assert parse_alerts(b"").error is not None
    assert parse_alerts(b"<html>502 Bad Gateway</html>").error is not None
    assert parse_alerts(b"\xff\xfe").error is not None
    assert parse_alerts(b'{"status":"success"}').error == "not a list of alerts (a JSON dict)"
    assert parse_alerts(b"[" * 100_000 + b"]" * 100_000).error is not None  # deeper than any parser
    assert parse_alerts(b"[]") == parse_alerts("[]")
    assert parse_alerts(b"[]").alerts == ()


def test_times_as_go_writes_them() -> None:
    assert parse_time("2026-11-25T13:38:59.290123456Z") == datetime(
        2026, 11, 25, 13, 38, 59, 290123, tzinfo=UTC
    )
    assert parse_time("2026-11-25T15:38:59+02:00") == datetime(2026, 11, 25, 13, 38, 59, tzinfo=UTC)
    assert parse_time("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)
    for bad in ("", "yesterday", "2026-13-45T99:99:99Z", 17, None, "2026-11-25 13:38:59"):
        assert parse_time(bad) is None, bad


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
_keys = st.sampled_from(["fingerprint", "labels", "annotations", "startsAt", "status", "state", "alertname"])
_entry = st.dictionaries(_keys, _json | st.dictionaries(st.text(max_size=8), st.text(max_size=8)), max_size=6)


@given(st.lists(_entry | _json, max_size=5))
def test_any_json_is_read_without_raising(answer: list[object]) -> None:
    reading = parse_alerts(json.dumps(answer))
    assert reading.error is None and len(reading.alerts) + reading.skipped == len(answer)
    for a in reading.alerts:
        f = incident_fields(a)
        assert f.key.startswith("alertmanager|") and 0 < len(f.title) <= 200
        assert f.severity in ("critical", "major", "minor", "info")


@given(st.binary(max_size=200))
def test_any_bytes_are_read_without_raising(body: bytes) -> None:
    parse_alerts(body)
