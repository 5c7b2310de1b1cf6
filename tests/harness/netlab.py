"""Network test servers from Debian and the kernel: dnsmasq on a loopback port with a hosts
file the test rewrites, and two network namespaces joined by a veth pair with an nftables rule
that drops a share of the ICMP echoes at random (this kernel has no `tc netem`).

Everything listens on 127.0.0.1 or inside the namespaces made here; nothing leaves the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.harness.apt import Unavailable, ensure_packages

DNSMASQ = "/usr/sbin/dnsmasq"
NFT = "/usr/sbin/nft"


def _free_udp_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


class Dnsmasq:
    """dnsmasq answering only from `hosts` (no upstream, no /etc/hosts) on 127.0.0.1:port."""

    def __init__(self, workdir: Path) -> None:
        self.hosts = workdir / "dns-hosts"
        self.log = workdir / "dnsmasq.log"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, records: dict[str, str]) -> Dnsmasq:
        ensure_packages("dnsmasq", ["dnsmasq-base"], [DNSMASQ])
        self.write(records)
        self.port = _free_udp_port()
        argv = [
            DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            f"--addn-hosts={self.hosts}", "--listen-address=127.0.0.1", "--bind-interfaces",
            f"--port={self.port}", "--pid-file=", "--user=root", "--local-ttl=0", "--cache-size=0",
            "--log-facility=-", "--local=/lab.test/",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise Unavailable(f"dnsmasq exited: {self.log.read_text()[-300:]}")
            if "started" in self.log.read_text():
                return self
            time.sleep(0.05)
        raise Unavailable("dnsmasq did not start within 20 s")

    def write(self, records: dict[str, str]) -> None:
        self.hosts.write_text("".join(f"{ip} {name}\n" for name, ip in records.items()))

    def change(self, records: dict[str, str]) -> None:
        """New records, read by dnsmasq on SIGHUP (as an operator's edit would be)."""
        self.write(records)
        assert self._proc is not None
        self._proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)


def _ip(*args: str, ns: str | None = None) -> None:
    argv = ["ip", "netns", "exec", ns, *args] if ns else list(args)
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise Unavailable(f"{' '.join(argv)}: {res.stderr.strip()}")


class LossyLink:
    """Namespaces `near` and `far` joined by a veth pair (NEAR_IP, FAR_IP); `far` drops
    `loss_pct` of incoming ICMP echo requests at random (nftables `numgen random`)."""

    NEAR_IP, FAR_IP = "10.231.77.1", "10.231.77.2"

    def __init__(self, loss_pct: int) -> None:
        tag = f"{os.getpid() % 100000}"
        self.near, self.far = f"tcnear{tag}", f"tcfar{tag}"
        self.loss_pct = loss_pct

    def start(self) -> LossyLink:
        if os.geteuid() != 0:
            raise Unavailable("network namespaces need root")
        ensure_packages("nftables", ["nftables"], [NFT])
        self.stop()
        veth_near, veth_far = f"vn{self.near[-6:]}", f"vf{self.near[-6:]}"
        _ip("ip", "netns", "add", self.near)
        _ip("ip", "netns", "add", self.far)
        _ip(
            "ip",
            "link",
            "add",
            veth_near,
            "netns",
            self.near,
            "type",
            "veth",
            "peer",
            veth_far,
            "netns",
            self.far,
        )
        for ns, dev, addr in ((self.near, veth_near, self.NEAR_IP), (self.far, veth_far, self.FAR_IP)):
            _ip("ip", "link", "set", "lo", "up", ns=ns)
            _ip("ip", "addr", "add", f"{addr}/30", "dev", dev, ns=ns)
            _ip("ip", "link", "set", dev, "up", ns=ns)
        rules = (
            "table inet tomconsole_loss {\n"
            " chain input {\n  type filter hook input priority 0; policy accept;\n"
            f"  icmp type echo-request numgen random mod 100 < {self.loss_pct} drop\n }}\n}}\n"
        )
        res = subprocess.run(
            ["ip", "netns", "exec", self.far, NFT, "-f", "-"], input=rules, capture_output=True, text=True
        )
        if res.returncode != 0:
            raise Unavailable(f"nft refused the random-drop rule: {res.stderr.strip()}")
        return self

    def run(self, argv: list[str], timeout: float, **kw: object) -> subprocess.CompletedProcess[str]:
        """Run a command inside `near` (the vantage point behind the lossy link)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.near, *argv], capture_output=True, text=True, timeout=timeout, **kw
        )  # type: ignore[call-overload, no-any-return]

    def stop(self) -> None:
        for ns in (self.near, self.far):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
