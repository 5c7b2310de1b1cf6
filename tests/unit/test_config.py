"""Config errors name file:line and the key path; good configs become typed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tomconsole.config import ConfigError, load_config, parse_config

GOOD = """\
ssh:
  user: ops
  interval: 2
hosts:
  - name: web1
    address: 10.0.0.1
    tags: [web]
    group: prod
  - name: db1
    address: 10.0.0.2
    port: 2222
"""


def _issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml")
    return [str(i) for i in info.value.issues]


def test_good_config() -> None:
    c = parse_config(GOOD)
    assert [h.name for h in c.hosts] == ["web1", "db1"]
    assert c.hosts[1].port == 2222 and c.hosts[0].port is None
    assert c.host_info(c.hosts[0]).interval_s == 2
    assert not c.show_local  # hosts given: the console's own machine only when asked for


def test_empty_config_shows_local_host() -> None:
    assert parse_config("").show_local
    assert parse_config("# nothing\n").hosts == []


def test_unknown_key_names_line_and_path() -> None:
    text = GOOD.replace("    group: prod\n", "    grup: prod\n")
    assert _issues(text) == ["cfg.yaml:8: hosts[0].grup: unknown key"]


def test_duplicate_key() -> None:
    text = GOOD.replace("  interval: 2\n", "  interval: 2\n  user: again\n")
    assert _issues(text) == ["cfg.yaml:4: ssh.user: duplicate key"]


def test_wrong_type() -> None:
    text = GOOD.replace("port: 2222", "port: twenty")
    (issue,) = _issues(text)
    assert issue.startswith("cfg.yaml:11: hosts[1].port: ")


def test_out_of_range() -> None:
    (issue,) = _issues(GOOD.replace("port: 2222", "port: 70000"))
    assert issue.startswith("cfg.yaml:11: hosts[1].port:")


def test_plaintext_password_is_refused() -> None:
    text = GOOD.replace("    group: prod\n", "    group: prod\n    password: hunter2\n")
    issues = _issues(text)
    assert issues[0].startswith("cfg.yaml:9: hosts[0].password: plaintext secrets are not allowed")


def test_missing_required_key() -> None:
    (issue,) = _issues("hosts:\n  - name: x\n")
    assert issue == "cfg.yaml:2: hosts[0].address: Field required"


def test_duplicate_host_names() -> None:
    (issue,) = _issues("hosts:\n  - {name: a, address: x}\n  - {name: a, address: y}\n")
    assert issue == "cfg.yaml:3: hosts[1].name: name is used twice"


def test_invalid_yaml_has_a_line() -> None:
    (issue,) = _issues("ssh:\n  user: [unclosed\n")
    assert issue.startswith("cfg.yaml:") and "not valid YAML" in issue


def test_top_level_must_be_mapping() -> None:
    assert _issues("- a\n- b\n") == ["cfg.yaml:1: the top level must be a mapping"]


def test_several_errors_reported_together() -> None:
    text = "bogus: 1\nhosts:\n  - name: a\n    address: b\n    port: x\n"
    assert len(_issues(text)) == 2


def test_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "config.example.yaml"
    c = load_config(example)
    assert c.hosts


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_known_hosts_accepts_one_or_many() -> None:
    c = parse_config("ssh:\n  known_hosts: /a\nhosts:\n  - {name: x, address: y, known_hosts: [/b, /c]}\n")
    assert c.ssh.known_hosts == ["/a"] and c.hosts[0].known_hosts == ["/b", "/c"]


def test_incident_sections() -> None:
    c = parse_config(
        "rules:\n  - {name: disk, metric: fs_pct, threshold: 80, for: 5m}\n"
        "team:\n  members: [{name: ana}]\n  escalation: [ana]\n"
        "incidents:\n  ack_within: 1h30m\n"
        "maintenance:\n  - name: w\n    scope: {groups: [prod]}\n"
        "    weekly: {days: [sun], start: '02:00', duration: 2h, timezone: Europe/Berlin}\n"
    )
    assert c.effective_rules[0].for_ == 300 and c.incidents.ack_within == 5400
    assert [r.name for r in parse_config("").effective_rules][:2] == ["host-down", "host-key-changed"]


def test_incident_section_errors() -> None:
    assert _issues("rules:\n  - {name: a, metric: fs_pct}\n") == [
        "cfg.yaml:2: rules[0]: a metric rule needs a `threshold`"
    ]
    assert _issues(
        "rules:\n  - {name: a, metric: fs_pct, threshold: 1}\n  - {name: a, state: [stale]}\n"
    ) == ["cfg.yaml:3: rules[1].name: name is used twice"]
    (issue,) = _issues("rules:\n  - {name: a, state: [stale], for: soon}\n")
    assert issue.startswith("cfg.yaml:2: rules[0].for:") and "not a duration" in issue
    (issue,) = _issues("team:\n  members: [{name: ana}]\n  escalation: [bob]\n")
    assert issue == "cfg.yaml:3: team.escalation: names people not in members: bob"
    (issue,) = _issues(
        "maintenance:\n  - name: w\n    scope: {hosts: [a]}\n"
        "    weekly: {days: [sun], start: '02:00', duration: 1h, timezone: Mars/Olympus}\n"
    )
    assert "unknown IANA time zone" in issue and issue.startswith("cfg.yaml:4:")
    (issue,) = _issues("notifications:\n  webhooks:\n    - {url: 'https://x', url_env: X}\n")
    assert issue.startswith("cfg.yaml:3: notifications.webhooks[0]:") and "exactly one" in issue


def test_unknown_yaml_tag_and_secrets_said_once() -> None:
    assert _issues("hosts:\n  - name: !foo a\n") == [
        "cfg.yaml:2: not valid YAML: could not determine a constructor for the tag '!foo'"
    ]
    assert _issues("ssh:\n  password: hunter2\n") == [
        "cfg.yaml:2: ssh.password: plaintext secrets are not allowed in the config; use ssh-agent or an "
        "identity_file (keys with a passphrase belong in the agent)"
    ]
