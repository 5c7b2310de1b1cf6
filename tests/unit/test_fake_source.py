"""A source written here, in the test, plugs into the Engine with no change outside this file,
and its points drive a rule to an incident end to end (store, book, audit)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tomconsole.collectors import Collector
from tomconsole.config import ConfigError, parse_config
from tomconsole.engine import Engine
from tomconsole.models import HostInfo, HostState, MetricDef, Observation
from tomconsole.probes import BUILTIN_KINDS
from tomconsole.probes.kinds import Kind, Value


@dataclass(frozen=True)
class QueueSample:
    depth: int
    consumers: int


def queue_values(sample: QueueSample) -> Iterator[Value]:
    yield "", "depth", float(sample.depth)
    yield "", "consumers", float(sample.consumers)


QUEUE = Kind(
    name="queue",
    metrics=(
        MetricDef("depth", "msgs", "messages waiting"),
        MetricDef("consumers", "", "consumers attached"),
    ),
    states=(HostState.UP, HostState.UNREACHABLE),
    values=queue_values,
    charted=("depth",),
)


class QueueCollector:
    """Reads a number the test sets: the 'broker' is a list."""

    def __init__(self, name: str, depths: list[int]) -> None:
        self.name, self.interval, self.depths = name, 1.0, depths

    async def collect(self) -> Observation:
        return Observation(self.name, HostState.UP, None, QueueSample(self.depths[-1], 2), kind="queue")

    async def close(self) -> None:
        return None


class QueueSource:
    name = "queues"
    kind = QUEUE

    def __init__(self, depths: list[int]) -> None:
        self.collector = QueueCollector("orders", depths)

    def targets(self) -> Sequence[HostInfo]:
        return [HostInfo("orders", "broker.example", ("mq",), "prod", 1.0, kind="queue", source=self.name)]

    def collectors(self) -> Sequence[Collector]:
        return [self.collector]


RULE = """
local: false
default_rules: false
rules:
  - name: queue-backlog
    target: "queue:*"
    metric: depth
    threshold: 1000
    clear: 100
    severity: critical
"""


def test_a_rule_on_a_metric_no_source_has_is_an_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(RULE, "cfg.yaml")  # only the built-in kinds: there are no queues
    (issue,) = err.value.issues
    assert (issue.line, issue.path) == (7, "rules[0].metric")
    assert "no source provides targets of kind queue" in issue.message
    with pytest.raises(ConfigError) as err:
        parse_config(RULE.replace('"queue:*"', '"host:*"'), "cfg.yaml")
    assert "no source provides the metric depth" in str(err.value)


async def test_a_source_written_in_a_test_drives_a_rule_to_an_incident(tmp_path: Path) -> None:
    config = parse_config(RULE, "cfg.yaml", kinds=[*BUILTIN_KINDS.values(), QUEUE])
    depths = [10]
    engine = Engine(config, data_dir=tmp_path, sources=[QueueSource(depths)], background=False)
    try:
        await engine.round()
        assert engine.snapshot().incidents == []
        (row,) = engine.snapshot().targets
        assert row.target == "queue:orders" and ("", "depth", 10.0) in row.points()
        depths.append(5000)
        await engine.round()
        (inc,) = engine.snapshot().incidents
        assert inc.key == "queue-backlog|queue:orders|" and inc.severity == "critical"
        assert engine.fleet.history("queue:orders", "depth") == [10.0, 5000.0]
        depths.append(50)  # below `clear`: the condition clears
        await engine.round()
        assert engine.incidents is not None
        assert engine.incidents.book.incidents[inc.id].clear_since is not None
    finally:
        await engine.stop()
    audit = [a["action"] for a in engine.store.all("audit")] if engine.store else []
    assert audit[0] == "trigger"
