"""The Prometheus probe against answers recorded from a real Prometheus (Debian 12's 2.42 scraping
node_exporter 1.5; tests/data/prometheus/record.py) and against garbage: it must read the first
exactly and never raise on the second."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tomconsole.models import HostState
from tomconsole.probes.prometheus import host_part, read_round
from tomconsole.probes.promql import match_problem, queries, selector

DATA = Path(__file__).parent.parent / "data" / "prometheus"
KEYS = ("hosts", "fs", "net", "ncpu", "cpu")


def recorded() -> tuple[dict[str, Any], Any]:
    return {k: json.loads((DATA / f"{k}.json").read_text()) for k in KEYS}, json.loads(
        (DATA / "targets.json").read_text()
    )


def values(answer: Any, **labels: str) -> list[tuple[dict[str, str], str]]:
    """(labels, value) of the series of a recorded answer whose labels include `labels`."""
    out = []
    for e in answer["data"]["result"]:
        if all(e["metric"].get(k) == v for k, v in labels.items()):
            out.append((e["metric"], e["value"][1]))
    return out


def one(answer: Any, **labels: str) -> str:
    (found,) = values(answer, **labels)
    return found[1]


def read(answers: dict[str, Any], targets: Any, **kw: Any) -> Any:
    return read_round(answers, targets, source="prom", interval_s=15.0, **kw)


def test_recorded_round_reads_every_field() -> None:
    answers, targets = recorded()
    hosts = answers["hosts"]
    (node,) = (m["instance"] for m, v in values(hosts, __name__="up") if v == "1")
    reading = read(answers, targets)
    assert reading.error is None
    up = next(o for o in reading.observations if o.state is HostState.UP)
    assert up.host == node.rsplit(":", 1)[0] == "127.0.0.1" and up.extra["instance"] == node
    s = up.sample
    assert s is not None
    assert s.mem_total_bytes == int(one(hosts, __name__="node_memory_MemTotal_bytes"))
    assert s.mem_available_bytes == int(one(hosts, __name__="node_memory_MemAvailable_bytes"))
    assert s.swap_total_bytes == int(one(hosts, __name__="node_memory_SwapTotal_bytes"))
    assert s.swap_free_bytes == int(one(hosts, __name__="node_memory_SwapFree_bytes"))
    assert s.load == tuple(float(one(hosts, __name__=f"node_load{n}")) for n in (1, 5, 15))
    boot, now = (float(one(hosts, __name__=n)) for n in ("node_boot_time_seconds", "node_time_seconds"))
    assert s.uptime_s == now - boot
    assert s.ncpu == int(one(answers["ncpu"])) == 2
    assert s.cpu_pct == pytest.approx(float(one(answers["cpu"])))
    assert s.processes == int(one(hosts, __name__="node_processes_pids"))
    (uname,) = values(hosts, __name__="node_uname_info")
    (osinfo,) = values(hosts, __name__="node_os_info")
    assert s.kernel == uname[0]["release"] and s.os == osinfo[0]["pretty_name"]
    fs = {f.mount: f for f in s.filesystems or ()}
    assert set(fs) == {m["mountpoint"] for m, _ in values(answers["fs"])} and "/" in fs
    size = int(one(answers["fs"], __name__="node_filesystem_size_bytes", mountpoint="/"))
    free = int(one(answers["fs"], __name__="node_filesystem_free_bytes", mountpoint="/"))
    avail = int(one(answers["fs"], __name__="node_filesystem_avail_bytes", mountpoint="/"))
    assert (fs["/"].size_bytes, fs["/"].used_bytes, fs["/"].avail_bytes) == (size, size - free, avail)
    eth0 = next(i for i in s.interfaces if i.name == "eth0")
    assert eth0.rx_bytes == int(
        one(answers["net"], __name__="node_network_receive_bytes_total", device="eth0")
    )
    assert eth0.tx_bytes == int(
        one(answers["net"], __name__="node_network_transmit_bytes_total", device="eth0")
    )
    assert "lo" not in {i.name for i in s.interfaces}
    assert s.sampled_at == datetime.fromtimestamp(hosts["data"]["result"][0]["value"][0], UTC)


def test_recorded_down_target_is_unreachable_with_prometheus_error() -> None:
    answers, targets = recorded()
    (dead,) = (t for t in targets["data"]["activeTargets"] if t["health"] == "down")
    reading = read(answers, targets)
    down = next(o for o in reading.observations if o.state is not HostState.UP)
    assert down.state is HostState.UNREACHABLE and down.sample is None
    assert down.reason == dead["lastError"] and "connection refused" in down.reason
    assert down.extra == {"instance": dead["labels"]["instance"], "last_scrape": dead["lastScrape"]}
    assert down.host == "127.0.0.3"


def test_targets_are_host_infos_of_the_source() -> None:
    reading = read(*recorded())
    assert [
        (t.name, t.address, t.tags, t.kind, t.source, t.interval_s, t.group) for t in reading.targets
    ] == [
        ("127.0.0.1", "127.0.0.1", ("node",), "host", "prom", 15.0, None),
        ("127.0.0.3", "127.0.0.3", ("node",), "host", "prom", 15.0, None),
    ]
    assert [o.host for o in reading.observations] == [t.name for t in reading.targets]


def test_name_label_names_hosts() -> None:
    reading = read(*recorded(), name_label="host")
    assert [t.name for t in reading.targets] == ["lab-dead", "lab-node"]
    assert {t.address for t in reading.targets} == {"127.0.0.1", "127.0.0.3"}


@pytest.mark.parametrize(
    ("instance", "host"),
    [
        ("web-01:9100", "web-01"),
        ("[::1]:9100", "::1"),
        ("[fe80::1%eth0]:9100", "fe80::1%eth0"),
        ("web-01", "web-01"),
        ("::1", "::1"),
        ("2001:db8::7", "2001:db8::7"),
        ("10.0.0.1:9100", "10.0.0.1"),
        ("", ""),
    ],
)
def test_instance_host_part(instance: str, host: str) -> None:
    assert host_part(instance) == host


def _with_instances(*instances: str) -> tuple[dict[str, Any], Any]:
    """The recorded round with its up host copied under other instance labels."""
    answers, targets = recorded()
    result = answers["hosts"]["data"]["result"]
    up = next(e for e in result if e["metric"]["__name__"] == "up" and e["value"][1] == "1")
    answers["hosts"]["data"]["result"] = []
    for inst in instances:
        e = copy.deepcopy(up)
        e["metric"]["instance"] = inst
        answers["hosts"]["data"]["result"].append(e)
    return answers, targets


def test_two_ports_on_one_host_keep_their_instances() -> None:
    reading = read(*_with_instances("db:9100", "db:9101", "[::1]:9100"))
    assert [t.name for t in reading.targets] == ["::1", "db:9100", "db:9101"]
    assert [t.address for t in reading.targets] == ["::1", "db", "db"]


def test_pseudo_filesystems_and_loopback_are_skipped_even_if_asked_for() -> None:
    answers, targets = recorded()
    root = [e for e in answers["fs"]["data"]["result"] if e["metric"]["mountpoint"] == "/"]
    for fstype, mount in (
        ("tmpfs", "/srv/scratch"),
        ("ext4", "/run/x"),
        ("overlay", "/"),
        ("ext4", "/snap/a"),
    ):
        for e in copy.deepcopy(root):
            e["metric"].update(fstype=fstype, mountpoint=mount, device=f"d-{fstype}-{mount}")
            answers["fs"]["data"]["result"].append(e)
    net = copy.deepcopy(answers["net"]["data"]["result"])
    for e in net:
        e["metric"]["device"] = "lo"
    answers["net"]["data"]["result"] += net
    s = read(answers, targets).observations[0].sample
    assert s is not None
    assert [(f.mount, f.device) for f in s.filesystems or ()] == [("/", "/dev/vda")]
    assert "lo" not in {i.name for i in s.interfaces}


def test_unusable_numbers_leave_fields_unknown() -> None:
    answers, targets = recorded()
    for e in answers["hosts"]["data"]["result"]:
        if e["metric"]["__name__"] in ("node_memory_MemTotal_bytes", "node_load5"):
            e["value"][1] = "NaN"
        if e["metric"]["__name__"] == "node_memory_SwapTotal_bytes":
            e["value"][1] = "+Inf"
    answers["cpu"]["data"]["result"][0]["value"][1] = "garbage"
    s = read(answers, targets).observations[0].sample
    assert s is not None
    assert (s.mem_total_bytes, s.load, s.swap_total_bytes, s.cpu_pct) == (None, None, None, None)
    assert s.mem_available_bytes is not None


def test_a_host_without_node_metrics_is_up_with_an_empty_sample() -> None:
    answers, targets = _with_instances("bare:9100")
    for key in ("fs", "net", "ncpu", "cpu"):
        answers[key]["data"]["result"] = []
    (obs,) = read(answers, targets).observations
    assert obs.state is HostState.UP and obs.sample is not None
    assert obs.sample.filesystems is None and obs.sample.interfaces == () and obs.sample.load is None


@pytest.mark.parametrize("key", [*KEYS, "targets"])
def test_an_unreadable_answer_is_an_error_naming_it(key: str) -> None:
    answers, targets = recorded()
    if key == "targets":
        targets = {"status": "success", "data": {"activeTargets": "nope"}}
    else:
        answers[key] = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    reading = read(answers, targets)
    assert reading.error is not None and key in reading.error
    assert reading.targets == () and reading.observations == ()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(
    st.dictionaries(st.sampled_from(KEYS), json_values),
    json_values,
    st.lists(st.tuples(st.sampled_from(KEYS), st.integers(0, 40), json_values), max_size=6),
)
def test_garbage_never_raises(
    answers: dict[str, Any], targets: Any, spoil: list[tuple[str, int, Any]]
) -> None:
    read(answers, targets)
    real, real_targets = recorded()
    for key, index, junk in spoil:  # well-formed answers with garbage entries
        result = real[key]["data"]["result"]
        if result:
            result[index % len(result)] = junk
    read(real, real_targets, name_label="host")


def test_every_query_carries_the_match() -> None:
    qs = queries('{job=~"node|edge", env!="dev"}', 15.0)
    assert set(qs) == set(KEYS)
    for promql in qs.values():
        assert 'job=~"node|edge", env!="dev"}' in promql
    assert "[60s]" in qs["cpu"] and "[240s]" in queries("{}", 60.0)["cpu"]


def test_selector_joins_matchers() -> None:
    assert selector('{job="node"}', 'mode="idle"') == '{mode="idle",job="node"}'
    assert selector('{ job="node", }', 'a="b"') == '{a="b",job="node"}'
    assert selector("{}", 'a="b"') == '{a="b"}'
    assert selector("{}") == "{}"


@pytest.mark.parametrize(
    "match",
    [
        '{job="node"}',
        '{job=~"node|x"}',
        '{a="b",c!="d"}',
        "{ a !~ 'x.*' , b=`raw\\` }",
        "{}",
        '{a="\\"q\\""}',
    ],
)
def test_common_selectors_are_accepted(match: str) -> None:
    assert match_problem(match) is None


@pytest.mark.parametrize(
    "match", ['job="node"', "up{job='node'}", '{job="node" or up}', "{job=node}", '{job="x"', '{1a="b"}', ""]
)
def test_other_selectors_are_refused(match: str) -> None:
    assert match_problem(match) is not None


def test_error_counters_sent_only_when_not_zero_are_read() -> None:
    answers, targets = recorded()
    (rx,) = (
        e
        for e in answers["net"]["data"]["result"]
        if e["metric"]["__name__"].startswith("node_network_receive_b") and e["metric"]["device"] == "eth0"
    )
    for name, value in (("receive_errs", "3"), ("transmit_drop", "7")):
        e = copy.deepcopy(rx)
        e["metric"]["__name__"], e["value"][1] = f"node_network_{name}_total", value
        answers["net"]["data"]["result"].append(e)
    s = read(answers, targets).observations[0].sample
    assert s is not None
    eth0 = next(i for i in s.interfaces if i.name == "eth0")
    assert (eth0.rx_errors, eth0.tx_errors, eth0.rx_drops, eth0.tx_drops) == (3, 0, 0, 7)
