"""The databases' security findings as pure logic, on rows shaped as the real servers return
them (pg_hba_file_rules from PostgreSQL 15, mysql.user from MariaDB 10.11): who may log in
from other hosts without a password, superusers reachable from other hosts, TLS off, and a
Redis that answers a client giving no password. Severity follows whether the server listens
beyond loopback."""

from __future__ import annotations

from typing import Any

from tomconsole.probes import mysql as my
from tomconsole.probes import postgres as pg
from tomconsole.probes import redis as rd


def hba(line: int, kind: str, address: str | None, method: str, user: str = "all") -> dict[str, Any]:
    netmask = None if address in (None, "samehost", "samenet", "all") else "255.0.0.0"
    return {"line_number": line, "type": kind, "database": ["all"], "user_name": [user],
            "address": address, "netmask": netmask, "auth_method": method}  # fmt: skip


INITDB = [  # what initdb --auth-local=trust --auth-host=scram-sha-256 writes
    hba(90, "local", None, "trust"),
    hba(92, "host", "127.0.0.1", "scram-sha-256"),
    hba(94, "host", "::1", "scram-sha-256"),
]


def settings(listen: str) -> dict[str, Any]:
    return {"ssl": "off", "listen": listen, "password_encryption": "scram-sha-256", "superusers": "postgres"}


def test_a_trust_rule_for_other_hosts_is_critical_once_the_server_listens_beyond_loopback() -> None:
    rules = [*INITDB, hba(101, "host", "10.0.0.0", "trust")]
    (loopback,) = pg.hba_findings(rules, settings("127.0.0.1"))
    assert loopback.check == "pg-trust-remote" and loopback.severity == "minor"
    assert "pg_hba.conf line 101: host all all 10.0.0.0/8 trust" in loopback.evidence
    assert "listen_addresses = 127.0.0.1" in loopback.evidence
    (everywhere,) = pg.hba_findings(rules, settings("*"))
    assert everywhere.severity == "critical"


def test_loopback_and_local_rules_are_no_finding() -> None:
    rules = [*INITDB, hba(96, "host", "samehost", "trust"), hba(97, "host", "127.0.0.2", "trust")]
    assert pg.hba_findings(rules, settings("*")) == ()


def test_a_superuser_reachable_from_other_hosts_is_named_with_its_rule() -> None:
    rules = [*INITDB, hba(120, "hostssl", "192.168.0.0", "scram-sha-256", user="postgres")]
    (found,) = pg.hba_findings(rules, settings("*"))
    assert found.check == "pg-superuser-remote" and found.severity == "major"
    assert found.evidence.startswith("postgres by pg_hba.conf line 120: hostssl all postgres 192.168.0.0/8 ")
    assert pg.hba_findings([*INITDB, hba(121, "host", "10.0.0.0", "reject")], settings("*")) == ()
    assert pg.hba_findings([*INITDB, hba(122, "host", "10.0.0.0", "md5", user="app")], settings("*")) == ()


def test_tls_off_matters_only_beyond_loopback() -> None:
    assert [f.check for f in pg.findings(settings("*"))] == ["pg-tls-off"]
    assert pg.findings(settings("localhost, 127.0.0.1")) == ()
    assert [f.check for f in my.findings({"have_ssl": "DISABLED", "bind_address": "0.0.0.0"})] == [
        "mysql-tls-off"
    ]
    assert my.findings({"have_ssl": "DISABLED", "bind_address": "127.0.0.1"}) == ()


NATIVE = "mysql_native_password"
COLUMNS = ("user", "host", "plugin", "no_password", "super_priv")
MARIA_USERS = [  # SELECT ... FROM mysql.user on a fresh MariaDB 10.11, plus three accounts
    dict(zip(COLUMNS, row, strict=True))
    for row in (
        ("mariadb.sys", "localhost", NATIVE, 1, "N"),
        ("root", "localhost", NATIVE, 0, "Y"),
        ("monitor", "127.0.0.1", NATIVE, 0, "N"),
        ("nopw", "%", NATIVE, 1, "N"),
        ("boss", "%", NATIVE, 0, "Y"),
        ("sock", "%", "unix_socket", 1, "N"),
    )
]


def test_mariadb_accounts_from_other_hosts_without_a_password_and_superusers() -> None:
    nopw, boss = my.account_findings(MARIA_USERS, {"bind_address": "0.0.0.0", "skip_networking": 0})
    assert (nopw.check, nopw.severity) == ("mysql-no-password-remote", "critical")
    assert nopw.evidence == "'nopw'@'%'; bind_address = 0.0.0.0"  # not the socket-auth account
    assert (boss.check, boss.severity) == ("mysql-superuser-remote", "major")
    assert boss.evidence.startswith("'boss'@'%'")
    local = my.account_findings(MARIA_USERS, {"bind_address": "127.0.0.1"})
    assert [f.severity for f in local] == ["minor", "minor"]
    assert my.account_findings(MARIA_USERS[:3], {"bind_address": "0.0.0.0"}) == ()


def test_redis_answering_without_a_password() -> None:
    (far,) = rd.findings(True, "10.0.0.31")
    assert far.severity == "critical" and "10.0.0.31" in far.evidence
    (near,) = rd.findings(True, "127.0.0.1")
    assert near.severity == "info" and "bind" in near.evidence
    assert rd.findings(False, "10.0.0.31") == ()


def test_garbage_rows_are_no_finding_and_never_raise() -> None:
    junk: list[dict[str, Any]] = [
        {},
        {"type": None, "address": 5},
        {"user_name": "x", "auth_method": "trust"},
    ]
    assert pg.hba_findings(junk, None) == ()
    assert my.account_findings([{}, {"host": None, "no_password": "x"}], None) == ()
