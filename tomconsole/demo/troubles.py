"""What the simulated hosts answer when the operator troubleshoots them: a process table in
the probe's wire format (probes/processes.py) and the default diagnostics' output
(probes/diagnostics.py), believable for each role and telling for the troublemakers: the
host filling its disk shows the directory that grows and the errors it causes, the loaded
host a report job burning a core, the hostile host markup and escape codes in a command line.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tomconsole.demo.sim import HZ, SimHost
from tomconsole.probes.diagnostics import DEFAULTS, command_of

_PG = "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main"
_NGINX = "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"
_BEAM = "/usr/lib/erlang/erts-13.1.5/bin/beam.smp -W w -MBas ageffcbf -- -root /usr/lib/erlang"
_OPENSEARCH = (
    "java -Xms4g -Xmx4g -Dopensearch.path.home=/usr/share/opensearch org.opensearch.bootstrap.OpenSearch"
)
_ROLE_PROCS: dict[str, list[tuple[str, str, int, int]]] = {  # user, command, RSS MiB, threads
    "web": [("www-data", "nginx: worker process", 60, 1)] * 4 + [("root", _NGINX, 12, 1)],
    "app": [
        ("orders", "java -Xmx2g -jar /opt/orders/orders-api.jar --spring.profiles.active=prod", 1900, 64)
    ],
    "db": [("postgres", "postgres: 15/main: checkpointer", 90, 1), ("postgres", _PG, 480, 1)]
    + [("postgres", "postgres: 15/main: orders orders 10.0.3.7(51234) idle", 40, 1)] * 3,
    "cache": [("redis", "/usr/bin/redis-server 0.0.0.0:6379", 2600, 5)],
    "lb": [("haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid", 80, 2)],
    "worker": [("jobs", "python3 /opt/jobs/worker.py --queue default --concurrency 4", 310, 6)],
    "queue": [("rabbitmq", _BEAM, 700, 40)],
    "search": [("opensearch", _OPENSEARCH, 4300, 90)],
}
_BASE = [
    ("root", "/sbin/init", 12, 1),
    ("root", "/lib/systemd/systemd-journald", 40, 1),
    ("root", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 9, 1),
    ("root", "/usr/sbin/cron -f", 3, 1),
    ("root", "/usr/sbin/rsyslogd -n -iNONE", 6, 4),
    ("_chrony", "/usr/sbin/chronyd -F 1", 3, 1),
    ("root", "[kworker/0:1-events]", 0, 1),
]
RUNAWAY = ("reports", "python3 /opt/reports/rebuild_index.py --full --since 2019-01-01", 820, 1)
HOSTILE = ("root", "[bold red]PWNED[/] \x1b]0;owned\x07\x1b[2J /tmp/.x \u202egnp.exe", 5, 1)


def top_reply(host: SimHost, seq: str, by: str, now: float, runaway: bool) -> str:
    """The probe's answer to a top request (`by`: c or r) for a simulated host."""
    s = host.spec
    rng = random.Random(f"{s.seed}-{int(now / 3)}")
    procs = list(_BASE) + _ROLE_PROCS.get(s.role, [])
    if runaway:
        procs.append(RUNAWAY)
    if s.hostile_text:
        procs.append(HOSTILE)
    busy = host.utilisation(now) * s.ncpu * 100  # % of one core, all cores together
    weights = [max(0.2, mib / 50) * rng.uniform(0.5, 1.5) for _, _, mib, _ in procs]
    if runaway:
        weights[len(_BASE) + len(_ROLE_PROCS.get(s.role, []))] = sum(weights) * 3
    total = sum(weights)
    uptime = now - host.boot
    rows = []
    for i, ((user, cmd, mib, threads), w) in enumerate(zip(procs, weights, strict=True)):
        pid = 1 if i == 0 else 300 + i * 97 + s.seed
        cpu = min(100.0 * threads, busy * w / total)
        if (user, cmd, mib, threads) == RUNAWAY:
            cpu, started = min(99.0, 80 + busy * 0.1), uptime - 2400
        else:
            started = min(uptime - 5, 3 + i * 11.0)
        rss_kb = int(mib * 1024 * rng.uniform(0.97, 1.03))
        state = "R" if cpu > 50 else "S"
        rows.append(
            (cpu, rss_kb, f"T {pid} {state} {cpu:.1f} {rss_kb} {threads} {int(started * HZ)} {user} {cmd}")
        )
    rows.sort(key=lambda r: r[0] if by == "c" else r[1], reverse=True)
    lines = [
        f"@ {seq}",
        f"Q {by} {180 + (s.seed * 7) % 150} {uptime:.2f}",
        *(r[2] for r in rows[:25]),
        f"$ {seq}",
    ]
    return "\n".join(lines) + "\n"


_BY_COMMAND = {d.command: d.name for d in DEFAULTS}


def diagnostic_reply(host: SimHost, remote: str, now: float, runaway: bool) -> tuple[str, int] | None:
    """A default diagnostic's output and exit status on a simulated host; None when the
    command is not one of the defaults (the host then says it cannot run it)."""
    name = _BY_COMMAND.get(command_of(remote) or "")
    if name is None:
        return None
    s = host.spec
    at = datetime.fromtimestamp(now, UTC)

    def ts(ago_s: float) -> str:
        return (at - timedelta(seconds=ago_s)).strftime("%Y-%m-%dT%H:%M:%S+0000")

    if name == "journal-errors":
        if s.fills_disk and host.disk_fraction(now) < 0.9:
            size = 40 + 160 * (host.disk_fraction(now) - 0.7)
            return (
                f"{ts(900)} {s.name} orders-export[2210]: debug logging is on (ORDERS_DEBUG=1, deploy 4711)\n"
                f"{ts(60)} {s.name} orders-export[2210]: /var/log/orders/export-debug.log is {size:.0f} GB"
                " and not rotated (logrotate skips files opened with O_APPEND by a running writer)\n",
                0,
            )
        if s.fills_disk:
            pct = host.disk_fraction(now) * 100
            lines = [
                f"{ts(600 - 60 * k)} {s.name} postgres[1187]: ERROR:  could not extend file "
                f'"base/16384/24611": wrote only 4096 of 8192 bytes at block {90211 + k}'
                for k in range(3)
            ]
            lines += [
                f"{ts(240)} {s.name} orders-export[2210]: write /var/log/orders/export-debug.log: "
                "no space left on device",
                f"{ts(120)} {s.name} systemd[1]: logrotate.service: Failed with result 'exit-code'.",
                f"{ts(30)} {s.name} rsyslogd[611]: file '/var/log/syslog': write error: "
                f"No space left on device (/var at {pct:.0f} %)",
            ]
            return "\n".join(lines) + "\n", 0
        if runaway:
            return (
                f"{ts(1800)} {s.name} rebuild_index.py[4242]: WARNING slow query on reports.events "
                "(full scan, 41,803,112 rows)\n",
                0,
            )
        return "-- No entries --\n", 0
    if name == "kernel-messages":
        boot = datetime.fromtimestamp(host.boot, UTC)

        def k(after_s: float, text: str) -> str:
            return f"[{boot + timedelta(seconds=after_s):%a %b %e %H:%M:%S %Y}] {text}"

        lines = [
            k(0, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)"),
            k(1, "virtio_net virtio1 eth0: renamed from eth1"),
            k(3, "EXT4-fs (vdb1): mounted filesystem with ordered data mode."),
        ]
        if s.fills_disk:
            lines.append(
                f"[{at - timedelta(seconds=95):%a %b %e %H:%M:%S %Y}] EXT4-fs (vdb1): "
                "Delayed block allocation failed for inode 1311 with error 28"
            )
        return "\n".join(lines) + "\n", 0
    if name == "var-usage":
        grow = int(200 * 1024 * 1024 * (host.disk_fraction(now) - 0.55)) if s.fills_disk else 3_100_000
        rows = [
            (grow + 4_200_000 + 1_900_000, "/var"),
            (grow + 420_000, "/var/log"),
            (grow, "/var/log/orders") if s.fills_disk else (180_000, "/var/log/journal"),
            (4_200_000, "/var/lib"),
            (3_100_000, "/var/lib/postgresql" if s.role == "db" else "/var/lib/apt"),
            (1_900_000, "/var/cache"),
            (120_000, "/var/log/journal"),
        ]
        return "".join(f"{kb}\t{path}\n" for kb, path in sorted(rows, reverse=True)), 0
    if name == "listening":
        port = {
            "web": 443,
            "app": 8080,
            "db": 5432,
            "cache": 6379,
            "lb": 443,
            "queue": 5672,
            "search": 9200,
        }.get(s.role)
        lines = ["Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process"]
        lines.append(
            'tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*     users:(("sshd",pid=512,fd=3))'
        )
        if port:
            lines.append(f"tcp   LISTEN 0      511          0.0.0.0:{port:<5}      0.0.0.0:*")
        return "\n".join(lines) + "\n", 0
    failed = s.fills_disk
    text = (
        "  UNIT               LOAD   ACTIVE SUB    DESCRIPTION\n"
        "● logrotate.service  loaded failed failed Rotate log files\n\n1 loaded units listed.\n"
        if failed
        else "  UNIT LOAD ACTIVE SUB DESCRIPTION\n0 loaded units listed.\n"
    )
    return text, 0
