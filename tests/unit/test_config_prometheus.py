"""The `prometheus:` section: its errors word for word with file:line, and the token read each time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tomconsole.config import ConfigError, PrometheusConfig, parse_config


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "cfg.yaml")
    return [str(i) for i in exc.value.issues]


def test_defaults() -> None:
    config = parse_config("prometheus:\n  url: https://prom.example:9090/prefix\n", "cfg.yaml")
    p = config.prometheus
    assert p is not None
    assert (p.match, p.interval, p.timeout, p.name, p.name_label) == (
        '{job="node"}',
        15.0,
        5.0,
        "prometheus",
        None,
    )
    assert p.resolve_token() is None
    assert parse_config("theme: tomconsole-dark\n").prometheus is None


def test_durations_as_people_write_them() -> None:
    p = parse_config("prometheus:\n  url: http://127.0.0.1:9090\n  interval: 1m\n  timeout: 2s\n").prometheus
    assert p is not None and (p.interval, p.timeout) == (60.0, 2.0)


def test_plaintext_bearer_token_is_refused() -> None:
    assert issues("prometheus:\n  url: http://127.0.0.1:9090\n  bearer_token: abc\n") == [
        "cfg.yaml:3: prometheus.bearer_token: plaintext secrets are not allowed in the config; "
        "use bearer_token_env or token_file"
    ]


def test_each_mistake_is_named_with_its_line() -> None:
    text = (
        "prometheus:\n"
        "  url: http://ops:pw@127.0.0.1:9090\n"
        "  match: job=node\n"
        "  interval: 0.5s\n"
        "  timeout: 2h\n"
        "  name_label: not a label\n"
    )
    assert issues(text) == [
        "cfg.yaml:2: prometheus.url: credentials do not belong in the url; "
        "use bearer_token_env or token_file",
        'cfg.yaml:3: prometheus.match: not a label selector like {job="node"}, {job=~"node|edge"} or '
        '{job="node",env!="dev"}',
        "cfg.yaml:4: prometheus.interval: Input should be greater than or equal to 1",
        "cfg.yaml:5: prometheus.timeout: Input should be less than or equal to 300",
        "cfg.yaml:6: prometheus.name_label: 'not a label' is not a label name",
    ]


def test_url_is_required_and_http() -> None:
    assert issues("prometheus:\n  match: '{}'\n") == ["cfg.yaml:1: prometheus.url: Field required"]
    assert issues("prometheus:\n  url: ftp://x\n")[0].startswith(
        "cfg.yaml:2: prometheus.url: String should match"
    )


def test_one_token_source_at_most() -> None:
    text = "prometheus:\n  url: http://127.0.0.1:9090\n  bearer_token_env: T\n  token_file: /t\n"
    assert issues(text) == ["cfg.yaml:1: prometheus: give at most one of bearer_token_env, token_file"]


def test_token_is_read_each_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = PrometheusConfig(url="http://127.0.0.1:9090", bearer_token_env="PROM_T")
    monkeypatch.delenv("PROM_T", raising=False)
    with pytest.raises(ValueError, match=r"^no bearer token: \$PROM_T is not set$"):
        env.resolve_token()
    monkeypatch.setenv("PROM_T", "one")
    assert env.resolve_token() == "one"
    monkeypatch.setenv("PROM_T", "two")
    assert env.resolve_token() == "two"
    path = tmp_path / "token"
    file = PrometheusConfig(url="http://127.0.0.1:9090", token_file=str(path))
    with pytest.raises(ValueError, match="No such file or directory"):
        file.resolve_token()
    path.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        file.resolve_token()
    path.write_text("abc\n")
    assert file.resolve_token() == "abc"
    path.write_text("rotated\n")
    assert file.resolve_token() == "rotated"


def test_a_token_a_header_cannot_carry_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("abc def\x00secret\n")
    file = PrometheusConfig(url="http://127.0.0.1:9090", token_file=str(path))
    with pytest.raises(ValueError) as exc:
        file.resolve_token()
    assert str(exc.value) == f"no bearer token: {path} holds characters a bearer token cannot have"
