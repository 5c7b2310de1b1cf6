"""Network checks as pure logic, part two: what curl prints from a host (status, time, the
certificate it saw), certificates judged the same from the console and from a host, DNS
answer changes, the config's limits, and the rules seeing rounds in which a check failed."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from tomconsole.config import ConfigError, parse_config
from tomconsole.models import CheckResult, HostInfo, HostState, Observation
from tomconsole.monitor.rules import Rule, RuleEngine, Severity
from tomconsole.monitor.state import FleetState
from tomconsole.probes.network import (
    CHECK,
    AnswerMemory,
    dns_memory_answer,
    judge_certificate,
    name_matches,
)
from tomconsole.probes.remote_checks import curl_command, parse_curl

# curl 7.88.1 (Debian 12) running curl_command against an HTTPS server whose certificate is
# from a demo CA, trimmed of the signature and the PEM
CURL_HTTPS = """{"status": "ok"} [red]x[/]
@@tomconsole 200 0.004851 https://127.0.0.1:18443/
Subject:CN = svc.test
Issuer:CN = tomconsole demo CA
Version:2
Serial Number:6d63b93f49e50df805edc7f7492e9e4a58bc738e
Signature Algorithm:ecdsa-with-SHA256
Public Key Algorithm:id-ecPublicKey
X509v3 Subject Alternative Name:IP Address:127.0.0.1, DNS:svc.test
Start date:Dec  2 17:11:50 2026 GMT
Expire date:Dec 12 17:11:50 2026 GMT
-----BEGIN CERTIFICATE-----
MIIBTTCB9aADAgECAhRtY7k/SeUN+AXtx/dJLp5KWLxzjjAKBggqhkjOPQQDAjAd
-----END CERTIFICATE-----
Subject:CN = tomconsole demo CA
Issuer:CN = tomconsole demo CA
Expire date:Jan  1 00:00:00 2036 GMT
"""
NOW = datetime(2026, 12, 3, 17, 11, 50, tzinfo=UTC)


def test_curl_from_a_host_gives_status_time_body_and_the_servers_own_certificate() -> None:
    ans = parse_curl(CURL_HTTPS, NOW)
    assert (ans.status, ans.seconds) == (200, 0.004851)
    assert ans.body == '{"status": "ok"} [red]x[/]'
    assert ans.url == "https://127.0.0.1:18443/"
    assert ans.cert["cert_days"] == pytest.approx(9.0)  # the leaf's, not the CA's after it
    assert (ans.cert["cert_subject"], ans.cert["cert_issuer"]) == ("CN=svc.test", "CN=tomconsole demo CA")
    assert ans.cert["_names"] == ["127.0.0.1", "svc.test"]


def test_curl_without_an_answer_or_a_certificate() -> None:
    ans = parse_curl("\n@@tomconsole 000 0.000132 http://127.0.0.1:1/\n", NOW)
    assert (ans.status, ans.seconds, ans.cert) == (None, 0.000132, {})
    assert parse_curl("garbage", NOW).status is None


def test_curl_asks_head_as_head_and_keeps_its_own_exit_status() -> None:
    head = curl_command("http://h/", "HEAD", 2, 0, True, None)
    assert " -I " in head and "-X HEAD" not in head  # -X HEAD waits for a body that never comes
    assert "PIPESTATUS[0]" in head  # the exit status is curl's, not tail's


def test_certificates_are_judged_alike_names_and_addresses() -> None:
    cert = {"cert_days": 9.0, "_names": ["127.0.0.1", "svc.test"]}
    assert judge_certificate("127.0.0.1", cert, True, None) == (False, None)
    assert judge_certificate("svc.test", cert, True, None) == (False, None)
    assert judge_certificate("other.test", cert, True, None) == (
        True,
        "certificate is for another name than other.test",
    )
    assert judge_certificate("other.test", cert, False, None) == (
        False,
        "certificate is for another name (verify: false)",
    )
    untrusted = judge_certificate("svc.test", cert, True, "unable to get local issuer certificate")
    assert untrusted == (True, "certificate not trusted: unable to get local issuer certificate")
    assert judge_certificate("svc.test", cert, False, "self-signed certificate") == (False, None)
    assert name_matches("[::1]", ["::1"]) and not name_matches("127.0.0.2", ["127.0.0.1"])


def test_a_failed_query_is_no_answer_so_a_passing_servfail_is_no_change() -> None:
    mem = AnswerMemory()
    rounds = [
        ("NOERROR", ("a",)),
        ("SERVFAIL", ()),
        ("NOERROR", ("a",)),
        ("NXDOMAIN", ()),
        ("NOERROR", ("a",)),
    ]
    changes = [mem.see(dns_memory_answer(rcode, ans), NOW) for rcode, ans in rounds]
    assert changes == [False, False, False, True, True]  # the name going away and coming back


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            "{name: a, kind: http, url: 'https://bob:s3cret@h/'}",
            "the url carries a user name or password: no secrets in the config",
        ),
        (
            "{name: a, kind: icmp, target: h, spacing: 0.05, from: [web-01]}",
            "from a host, spacing is at least 0.2s (ping's limit for non-root users)",
        ),
        ("{name: a, kind: http, url: 'https://h/', ca_file: /nonexistent/ca.pem}", "ca_file /nonexistent"),
    ],
)
def test_check_limits_are_errors_on_the_checks_line(check: str, message: str) -> None:
    text = f"hosts:\n  - {{name: web-01, address: 127.0.0.1}}\nnetwork:\n  checks:\n    - {check}\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert any(str(i).startswith("<config>:5:") and message in str(i) for i in err.value.issues), (
        err.value.issues
    )


def test_echoes_that_cannot_fit_in_the_timeout_are_an_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(
            "network:\n  timeout: 2s\n  checks:\n    - {name: a, kind: icmp, target: h, count: 30}\n"
        )
    assert "check a: 30 echoes 0.2s apart take longer than its timeout of 2s" in str(err.value)


# -- the rules see a check's failed rounds -------------------------------------------------------


def _fleet() -> FleetState:
    info = HostInfo("api", "https://api/", kind="check", source="network", interval_s=10.0)
    return FleetState([info], kinds={"check": CHECK}, clock=iter(range(0, 10_000, 10)).__next__)


def _apply(fleet: FleetState, state: HostState, sample: CheckResult | None) -> list[bool]:
    fleet.apply(Observation("api", state, None if state is HostState.UP else "why", sample, kind="check"))
    row = fleet.row("check:api")
    assert row is not None
    return [t.firing for t in ENGINE.evaluate(row, 0.0)]


ENGINE = RuleEngine([])


def test_whole_lost_rounds_count_as_loss_and_a_failed_answer_keeps_its_certificate() -> None:
    global ENGINE
    ENGINE = RuleEngine(
        [
            Rule("check-loss", Severity.MAJOR, "loss_pct", ">", 5.0, rounds=(3, 10), target="check:*"),
            Rule("cert-expiring", Severity.MINOR, "cert_days", "<", 14.0, target="check:*"),
        ]
    )
    fleet = _fleet()
    fired: list[bool] = []
    for n in range(6):  # every other round loses everything: unreachable, 100 % loss
        if n % 2:
            fired += _apply(fleet, HostState.UNREACHABLE, CheckResult(NOW, 1, ()))
        else:
            fired += _apply(fleet, HostState.UP, CheckResult(NOW, 1, (3.0,)))
    assert fired == [True]  # the third lost round of ten
    untrusted = CheckResult(NOW, 1, (), cert_days=3.0)
    assert _apply(fleet, HostState.FAILED, untrusted) == [True]  # not trusted, and expiring
    stale = _apply(fleet, HostState.STALE, None)  # the vantage is down: no data, nothing moves
    row = fleet.row("check:api")
    assert stale == [] and row is not None and row.points() == []
    loss = fleet.history("check:api", "loss_pct")
    assert loss[-3:-1] == [100.0, 100.0] and math.isnan(loss[-1])  # a blank round, not a lost one


def test_counters_are_wrap_safe_and_reset_safe() -> None:
    from tomconsole.probes.kinds import rates

    key = ("eth0", "rx_bps")
    assert rates(CHECK, {key: 2**32 - 1000}, {key: 500}, 10.0) == {key: 150.0}  # 32-bit wrap
    assert rates(CHECK, {key: 10_000}, {key: 500}, 10.0) == {key: 0.0}  # reset: a reboot
    assert rates(CHECK, {key: 2**40}, {key: 500}, 10.0) == {key: 0.0}  # a 64-bit one reset


def test_a_timeout_past_the_interval_is_an_error_not_silently_cut() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(
            "network:\n  checks:\n    - {name: a, kind: tcp, target: 'h:1', interval: 10s, timeout: 60s}\n"
        )
    assert "check a: timeout 60s is over its interval 10s" in str(err.value)
