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

MASKS = {"127.0.0.1": "255.255.255.255", "::1": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}


def hba(
    line: int, kind: str, address: str | None, method: str, user: str = "all", mask: str = ""
) -> dict[str, Any]:
    """A pg_hba_file_rules row as PostgreSQL 15 returns it (arrays for database and user)."""
    netmask = mask or MASKS.get(address or "") or None
    return {"line_number": line, "type": kind, "database": ["all"], "user_name": [user],
            "address": address, "netmask": netmask, "auth_method": method}  # fmt: skip


INITDB = [  # pg_hba_file_rules on a fresh initdb --auth-local=trust --auth-host=scram-sha-256
    hba(89, "local", None, "trust"),
    hba(91, "host", "127.0.0.1", "scram-sha-256"),
    hba(93, "host", "::1", "scram-sha-256"),
]


def settings(listen: str) -> dict[str, Any]:
    return {"ssl": "off", "listen": listen, "password_encryption": "scram-sha-256", "superusers": "postgres"}


def test_a_trust_rule_for_other_hosts_is_critical_once_the_server_listens_beyond_loopback() -> None:
    rules = [*INITDB, hba(101, "host", "10.0.0.0", "trust", mask="255.0.0.0")]
    (loopback,) = pg.hba_findings(rules, settings("127.0.0.1"))
    assert loopback.check == "pg-trust-remote" and loopback.severity == "minor"
    assert (
        loopback.evidence
        == "pg_hba.conf line 101: host all all 10.0.0.0/8 trust; listen_addresses = 127.0.0.1"
    )
    (everywhere,) = pg.hba_findings(rules, settings("*"))
    assert everywhere.severity == "critical"
    (lists,) = pg.hba_findings(rules, settings("localhost,10.1.2.3"))
    assert lists.severity == "critical"


def test_an_address_is_a_network_not_a_prefix_of_text() -> None:
    """127.0.0.1/0 is every IPv4 address; 127.0.0.2/32 and samehost are this machine."""
    everyone = [*INITDB, hba(101, "host", "127.0.0.1", "trust", mask="0.0.0.0")]
    assert [f.check for f in pg.hba_findings(everyone, settings("*"))] == ["pg-trust-remote"]
    local = [
        *INITDB,
        hba(96, "host", "samehost", "trust"),
        hba(97, "host", "127.0.0.2", "trust", mask="255.255.255.255"),
    ]
    assert pg.hba_findings(local, settings("*")) == ()


def test_the_first_matching_line_decides() -> None:
    """A line wholly covered by an earlier one is never met; hostssl before host leaves the
    plain connections to the later line."""
    shadowed = [*INITDB, hba(100, "host", "0.0.0.0", "scram-sha-256", mask="0.0.0.0"),
                hba(101, "host", "10.0.0.0", "trust", mask="255.0.0.0")]  # fmt: skip
    assert [f.check for f in pg.hba_findings(shadowed, settings("*"))] == ["pg-superuser-remote"]
    partly = [*INITDB, hba(100, "hostssl", "0.0.0.0", "scram-sha-256", mask="0.0.0.0"),
              hba(101, "host", "10.0.0.0", "trust", mask="255.0.0.0")]  # fmt: skip
    assert "pg-trust-remote" in [f.check for f in pg.hba_findings(partly, settings("*"))]


def test_a_superuser_reachable_from_other_hosts_is_named_with_its_rule() -> None:
    rules = [
        *INITDB,
        hba(120, "hostssl", "192.168.0.0", "scram-sha-256", user="postgres", mask="255.255.0.0"),
    ]
    (found,) = pg.hba_findings(rules, settings("*"))
    assert found.check == "pg-superuser-remote" and found.severity == "major"
    assert found.evidence.startswith("postgres by pg_hba.conf line 120: hostssl all postgres 192.168.0.0/16 ")
    app_only = [*INITDB, hba(122, "host", "10.0.0.0", "md5", user="app", mask="255.0.0.0")]
    assert pg.hba_findings(app_only, settings("*")) == ()


def test_a_reject_for_the_superuser_first_keeps_it_out() -> None:
    """The usual hardening: reject postgres from anywhere, then let everyone else in."""
    hardened = [*INITDB, hba(100, "host", "0.0.0.0", "reject", user="postgres", mask="0.0.0.0"),
                hba(101, "host", "::", "reject", user="postgres", mask="::"),
                hba(102, "host", "0.0.0.0", "scram-sha-256", mask="0.0.0.0")]  # fmt: skip
    assert pg.hba_findings(hardened, settings("*")) == ()
    half = [*INITDB, hba(100, "host", "10.0.0.0", "reject", user="postgres", mask="255.0.0.0"),
            hba(102, "host", "0.0.0.0", "scram-sha-256", mask="0.0.0.0")]  # fmt: skip
    (found,) = pg.hba_findings(half, settings("*"))
    assert "line 102" in found.evidence


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


def test_roles_socket_accounts_and_loopback_binds_are_not_open_doors() -> None:
    """A role (host '') logs no one in; a comma-separated bind of loopback addresses is
    loopback; MySQL 8's caching_sha2_password with no password is an open door."""
    role = dict(zip(COLUMNS, ("dba", "", "", 1, "Y"), strict=True)) | {"is_role": "Y"}
    assert my.account_findings([*MARIA_USERS[:3], role], {"bind_address": "0.0.0.0"}) == ()
    mysql8 = dict(zip(COLUMNS, ("svc", "10.%", "caching_sha2_password", 1, "N"), strict=True))
    (found,) = my.account_findings([mysql8], {"bind_address": "127.0.0.1,::1"})
    assert found.check == "mysql-no-password-remote" and found.severity == "minor"
    assert my.findings({"have_ssl": "DISABLED", "bind_address": "127.0.0.1,::1"}) == ()


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
