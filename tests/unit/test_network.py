"""Network checks as pure logic: the remote commands and their parsers (on outputs recorded
from real tools), the judging of answers, the `network:` config, the N-of-M rule form, the
interface view and the check view's window with loss kept as loss."""

from __future__ import annotations

import math
import shlex
from datetime import UTC, datetime, timedelta

import pytest

from tomconsole.config import ConfigError, parse_config
from tomconsole.models import CheckResult, HostInfo, HostSample, HostState, Interface, Observation
from tomconsole.monitor.network import CheckViews, interfaces
from tomconsole.monitor.rules import Rule, RuleEngine, Severity
from tomconsole.monitor.state import FleetState
from tomconsole.probes.network import (
    CHECK,
    AnswerMemory,
    check_name,
    judge_dns,
    judge_http,
    name_matches,
    percentile,
    split_check_name,
)
from tomconsole.probes.remote_checks import (
    curl_command,
    dig_command,
    parse_dig,
    parse_elapsed_ms,
    parse_ping,
    ping_command,
    tcp_command,
)

# iputils-ping 20221126 (Debian 12), 5 echoes to a host that lost two, one answered twice
IPUTILS = """PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.
64 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time=0.412 ms
64 bytes from 10.0.0.1: icmp_seq=3 ttl=64 time=1.07 ms
64 bytes from 10.0.0.1: icmp_seq=3 ttl=64 time=1.09 ms (DUP!)
64 bytes from 10.0.0.1: icmp_seq=5 ttl=64 time=0.388 ms

--- 10.0.0.1 ping statistics ---
5 packets transmitted, 3 received, +1 duplicates, 40% packet loss, time 812ms
rtt min/avg/max/mdev = 0.388/0.739/1.090/0.332 ms
"""

# BusyBox v1.36 ping (Alpine)
BUSYBOX = """PING 127.0.0.1 (127.0.0.1): 56 data bytes
64 bytes from 127.0.0.1: seq=0 ttl=64 time=0.061 ms
64 bytes from 127.0.0.1: seq=1 ttl=64 time=0.090 ms

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 2 packets received, 0% packet loss
"""

# dig 9.18 (Debian 12): +noall +answer +comments +stats
DIG = """; <<>> DiG 9.18.28-1~deb12u2-Debian <<>> +noall +answer +comments +stats www.example.com A
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 41562
;; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1

;; ANSWER SECTION:
www.example.com.\t300\tIN\tA\t192.0.2.11
www.example.com.\t300\tIN\tA\t192.0.2.10

;; Query time: 12 msec
;; SERVER: 10.0.0.53#53(10.0.0.53) (UDP)
"""


def test_ping_output_gives_sent_and_answers_with_a_duplicate_counted_once() -> None:
    sent, lat = parse_ping(IPUTILS, 5)
    assert sent == 5 and lat == (0.412, 1.07, 0.388)
    res = CheckResult(datetime.now(UTC), sent, lat)
    assert res.loss_pct == 40.0


def test_busybox_ping_has_no_answer_times_it_can_read() -> None:
    # busybox says seq= rather than icmp_seq=: its answers are not mistaken for iputils'
    assert parse_ping(BUSYBOX, 2) == (2, ())


def test_dig_answer_status_and_time() -> None:
    assert parse_dig(DIG, "A") == ("NOERROR", 12.0, ("192.0.2.10", "192.0.2.11"))
    assert parse_dig(DIG.replace("NOERROR", "NXDOMAIN"), "A")[0] == "NXDOMAIN"
    assert parse_dig(";; connection timed out; no servers could be reached\n", "A") == (None, None, ())


def test_tcp_timing_from_the_hosts_own_clock() -> None:
    assert parse_elapsed_ms("@@tomconsole 1764000000.100000 1764000000.103500\n") == pytest.approx(
        3.5, abs=0.001
    )
    assert parse_elapsed_ms("@@tomconsole 1764000000,100000 1764000000,101000\n") == pytest.approx(
        1.0, abs=0.001
    )
    assert parse_elapsed_ms("") is None


@pytest.mark.parametrize("hostile", ["a;rm -rf /", "$(reboot)", "`id`", "x y", "-oProxyCommand=x", "'\"\\"])
def test_config_values_reach_a_remote_shell_as_one_quoted_word(hostile: str) -> None:
    for command in (
        ping_command(hostile, 3, 0.2, 2),
        curl_command(f"https://h/{hostile}", "GET", 2, 0, True, hostile),
        dig_command(hostile, "A", hostile, 53, 2),
    ):
        words = shlex.split(command)
        assert hostile in words or f"https://h/{hostile}" in words or f"@{hostile}" in words
    # the tcp script gets host and port as arguments, never inside the script text
    words = shlex.split(tcp_command(hostile, 443, 2))
    assert words[-2:] == [hostile, "443"] and hostile not in words[-4]


def test_ping_from_a_host_never_asks_for_less_than_ping_allows() -> None:
    assert " -i 0.2 " in ping_command("h", 5, 0.01, 2)


def test_answers_are_judged_against_what_the_check_expects() -> None:
    assert judge_http(200, None, None, None) == (HostState.UP, None)
    assert judge_http(301, None, None, None)[0] is HostState.UP
    assert judge_http(500, None, None, None) == (HostState.FAILED, "HTTP 500, expected 200-399")
    assert judge_http(204, None, [200], None)[1] == "HTTP 204, expected 200"
    assert judge_http(200, "all good", None, "ok")[0] is HostState.FAILED
    assert judge_dns("NXDOMAIN", (), None) == (HostState.FAILED, "NXDOMAIN: no such name")
    assert judge_dns("NOERROR", ("192.0.2.10.",), ["192.0.2.10"])[0] is HostState.UP
    assert (
        judge_dns("NOERROR", ("192.0.2.99",), ["192.0.2.10"])[1] == "answer 192.0.2.99, expected 192.0.2.10"
    )


def test_a_dns_answer_change_is_an_event_remembered_until_the_next() -> None:
    mem = AnswerMemory()
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    assert mem.see(("a",), t0) is False  # the first answer is not a change
    assert mem.see(("a",), t0 + timedelta(seconds=10)) is False
    assert mem.see(("b",), t0 + timedelta(seconds=20)) is True
    assert mem.see(("b",), t0 + timedelta(seconds=30)) is False
    assert mem.changed_at == t0 + timedelta(seconds=20)


def test_certificate_names_and_wildcards() -> None:
    assert name_matches("api.example.com", ["api.example.com"])
    assert name_matches("API.example.com.", ["*.example.com"])
    assert not name_matches("a.b.example.com", ["*.example.com"])
    assert not name_matches("example.com", ["*.example.com"])
    assert not name_matches("evil.com", ["api.example.com"])


def test_percentiles_skip_rounds_with_no_answer() -> None:
    assert percentile([1.0, float("nan"), 3.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([float("nan")], 50) is None


def test_check_names_carry_the_vantage_point() -> None:
    assert check_name("vpn", "console") == "vpn"
    assert check_name("vpn", "web-01") == "vpn@web-01"
    assert split_check_name("vpn@web-01") == ("vpn", "web-01")
    assert split_check_name("vpn") == ("vpn", "console")


# -- config ---------------------------------------------------------------------------------

CONTRACT = """hosts:
  - {name: web-01, address: 127.0.0.1}
network:
  checks:
    - {name: api-tls, kind: http, url: "https://api.example.com/health", expect_status: 200,
       interval: 30s, timeout: 5s, from: [console, web-01]}
    - {name: vpn-branch, kind: icmp, target: 10.20.0.1, count: 5}
    - {name: db-port, kind: tcp, target: "db-01.example.com:5432"}
    - {name: www-dns, kind: dns, query: www.example.com, type: A, resolver: 10.0.0.53,
       expect: [192.0.2.10]}
"""


def test_the_documented_config_contract_parses() -> None:
    config = parse_config(CONTRACT.replace("expect_status: 200", "expect_status: [200]"))
    checks = {c.name: c for c in config.network.checks}
    assert checks["api-tls"].from_ == ["console", "web-01"]
    assert checks["vpn-branch"].from_ == ["console"] and checks["vpn-branch"].count == 5
    assert config.network.timeout_of(checks["db-port"]) == 5.0
    assert checks["www-dns"].expect == ["192.0.2.10"]


def test_expect_status_may_be_one_number_as_the_contract_writes_it() -> None:
    config = parse_config(CONTRACT)
    assert config.network.checks[0].expect_status == [200]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "network:\n  checks:\n    - {name: a, kind: tcp, target: db-01}\n",
            "<config>:3: network.checks[0]: a tcp check's target needs a port: db-01:PORT",
        ),
        (
            "network:\n  checks:\n    - {name: a, kind: icmp, target: 'x;reboot'}\n",
            "<config>:3: network.checks[0]: x;reboot is not a host name or IP address",
        ),
        (
            "network:\n  checks:\n    - {name: a, kind: tcp, target: 'h:1', from: [web-09]}\n",
            "<config>:3: network.checks[0].from[0]: web-09 is not a host of `hosts:`"
            " (a check runs from: console)",
        ),
        (
            "network:\n  checks:\n    - {name: a, kind: tcp, target: 'h:1'}\n"
            "    - {name: a, kind: tcp, target: 'h:2'}\n",
            "<config>:4: network.checks[1].name: name is used twice",
        ),
        (
            "network:\n  checks:\n    - {name: a, kind: http, url: ftp://x}\n",
            "<config>:3: network.checks[0]: an http check needs `url: http(s)://host/...`",
        ),
    ],
)
def test_bad_checks_are_errors_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert message in [str(i) for i in err.value.issues]


def test_a_rule_on_a_check_metric_validates_and_a_misspelt_one_does_not() -> None:
    ok = "rules:\n  - {name: vpn-slow, target: 'check:vpn*', metric: latency_ms, threshold: 80}\n"
    parse_config(ok)
    with pytest.raises(ConfigError) as err:
        parse_config(ok.replace("latency_ms", "latncy_ms"))
    assert "no source provides the metric latncy_ms" in str(err.value)


# -- N of M, loss and the window ----------------------------------------------------------------


def _check_fleet() -> FleetState:
    info = HostInfo("vpn@web-01", "10.20.0.1", kind="check", source="network", interval_s=10.0,
                    facts=(("check", "icmp"), ("from", "web-01"), ("name", "vpn")))  # fmt: skip
    return FleetState([info], kinds={"check": CHECK}, clock=iter(range(0, 10_000, 10)).__next__)


def _round(fleet: FleetState, lost: int, of: int = 10, ms: float = 5.0) -> None:
    r = CheckResult(datetime.now(UTC), of, tuple([ms] * (of - lost)))
    state = HostState.UP if lost < of else HostState.UNREACHABLE
    fleet.apply(
        Observation("vpn@web-01", state, None if state is HostState.UP else "no reply", r, kind="check")
    )


def test_loss_in_3_of_10_rounds_fires_and_clears_as_rounds_get_clean() -> None:
    rule = Rule("check-loss", Severity.MAJOR, "loss_pct", ">", 5.0, rounds=(3, 10), target="check:*")
    engine = RuleEngine([rule])
    fleet = _check_fleet()
    fired: list[bool] = []
    for lost in (2, 0, 0, 3, 0, 1):  # 20 %, 0, 0, 30 %, 0, 10 %: the third lossy round fires
        _round(fleet, lost)
        row = fleet.row("check:vpn@web-01")
        assert row is not None
        fired += [t.firing for t in engine.evaluate(row, 0.0)]
        engine.evaluate(row, 0.0)  # looking at the same round again counts nothing twice
    assert fired == [True]
    for _ in range(8):  # clean rounds push the lossy ones out of the window of 10
        _round(fleet, 0)
        row = fleet.row("check:vpn@web-01")
        assert row is not None
        fired += [t.firing for t in engine.evaluate(row, 0.0)]
    assert fired == [True, False]


def test_a_lost_round_is_loss_in_the_window_never_a_gap() -> None:
    fleet = _check_fleet()
    views = CheckViews(fleet)
    for lost in (0, 10, 5):
        _round(fleet, lost, ms=4.0)
    (view,) = views([r for r in fleet.rows() if r.info.kind == "check"])
    assert view.loss == (0.0, 100.0, 50.0)
    assert math.isnan(view.latency[1]) and view.latency[2] == 4.0
    assert view.window_loss_pct == 50.0 and view.p50_ms == 4.0
    assert (view.name, view.vantage, view.probe) == ("vpn", "web-01", "icmp")


def test_interfaces_physical_first_worst_on_top_and_utilisation_from_link_speed() -> None:
    info = HostInfo("web-01", "10.0.0.1")
    fleet = FleetState([info], clock=iter(range(0, 100, 10)).__next__)
    for step in range(2):
        nics = (
            Interface("eth0", step * 125_000_000, 0, speed_mbps=1000, operstate="up", physical=True),
            Interface("eth1", 0, 0, step * 500, 0, speed_mbps=1000, operstate="up", physical=True),
            Interface("docker0", 0, 0, step * 900, speed_mbps=None, operstate="up", physical=False),
            Interface("eth2", 0, 0, operstate="down", physical=True),
        )
        sample = HostSample(datetime.now(UTC), interfaces=nics)
        fleet.apply(Observation("web-01", HostState.UP, None, sample))
    views = interfaces(fleet.rows())
    assert [v.name for v in views] == ["eth2", "eth1", "eth0", "docker0"]
    by = {v.name: v for v in views}
    assert by["eth0"].util_pct == pytest.approx(10.0)  # 12.5 MB/s of a 1 Gb/s link
    assert by["eth1"].errors_ps == pytest.approx(50.0)
    row = fleet.row("web-01")
    assert row is not None
    # a per-interface counter is not also summed into the host (one alert, for the interface)
    assert ("", "errors_ps") not in {(o, m) for o, m, _ in row.points()}
