"""Believable, moving numbers for one simulated Linux host, in the probe's wire format.

The replies are the exact line shapes the real awk probe prints (see probes/linux.py),
so the client cannot tell a simulated host from a real one except by its numbers:
a daily curve plus bursts on CPU and network, memory that breathes, one disk that
fills until "logrotate" runs, and hosts whose names carry markup and escape codes.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field

HZ = 100


@dataclass
class SimSpec:
    name: str
    seed: int
    ncpu: int = 4
    mem_gib: int = 16
    base_cpu: float = 0.25
    role: str = "app"
    fills_disk: bool = False
    hostile_text: bool = False
    fill_period_s: float = 720.0  # the filling disk's cycle: climb for 5/6 of it, then logrotate
    drops_ps: float = 0.0  # packets its link drops per second (the lossy vantage point)
    ping_loss: float = 0.0  # the share of echoes it loses when a check pings from it
    disk_hold: float | None = None  # the filling disk held at this fraction (a test's pause)
    runaway: bool = False  # a report job burns a core (its process tops the host's table)


@dataclass
class SimHost:
    spec: SimSpec
    clock: float = field(default_factory=time.time)
    boot: float = 0.0
    _rng: random.Random = field(init=False)
    _busy: float = 0.0
    _total: float = 0.0
    _rx: float = 0.0
    _tx: float = 0.0
    _load: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    _last: float | None = None
    _burst_until: float = 0.0
    _drops: float = 0.0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.spec.seed)
        self.boot = self.clock - self._rng.uniform(3600, 90 * 86400)
        self._rx = self._rng.uniform(1e9, 1e12)
        self._tx = self._rng.uniform(1e9, 1e12)

    # -- the dynamics -------------------------------------------------------------------

    def utilisation(self, now: float) -> float:
        s = self.spec
        day = (now % 86400) / 86400
        daily = 0.5 - 0.5 * math.cos(2 * math.pi * (day - 0.1))  # low at night, peak mid-afternoon
        wobble = 0.08 * math.sin(now / 37.0 + s.seed) + self._rng.uniform(-0.05, 0.05)
        burst = 0.45 if now < self._burst_until else 0.0
        if now >= self._burst_until and self._rng.random() < 0.02:
            self._burst_until = now + self._rng.uniform(10, 40)
        return min(0.99, max(0.01, s.base_cpu * (0.6 + 0.8 * daily) + wobble + burst))

    def advance(self, now: float) -> None:
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        u = self.utilisation(now)
        ticks = dt * HZ * self.spec.ncpu
        self._busy += ticks * u
        self._total += ticks
        rate = (2e6 if self.spec.role == "db" else 5e5) * (0.3 + u) * self._rng.uniform(0.7, 1.3)
        self._rx += rate * dt
        self._drops += self.spec.drops_ps * dt * self._rng.uniform(0.5, 1.5)
        self._tx += rate * dt * (3.0 if self.spec.role == "web" else 0.6)
        run_queue = u * self.spec.ncpu * self._rng.uniform(0.8, 1.2)
        for i, tau in enumerate((60.0, 300.0, 900.0)):
            a = 1 - math.exp(-dt / tau) if dt else 1.0
            self._load[i] += a * (run_queue - self._load[i])

    def mem_used_fraction(self, now: float) -> float:
        return 0.45 + 0.15 * math.sin(now / 300.0 + self.spec.seed) + 0.02 * self._rng.random()

    def disk_fraction(self, now: float) -> float:
        """The filling disk climbs from 70 % to 98 % (ten minutes by default), then logrotate frees it."""
        if self.spec.disk_hold is not None:
            return self.spec.disk_hold
        period = self.spec.fill_period_s
        phase = (now + self.spec.seed * 17) % period
        return 0.70 + 0.28 * min(1.0, phase / (period * 5 / 6))

    # -- the wire format ----------------------------------------------------------------

    def _names(self) -> tuple[str, str, str]:
        if self.spec.hostile_text:
            return (
                "eth0[bold red]PWNED[/]",
                "/srv/[link=http://x]\x1b[31mdata\u202e",
                "Evil [b]OS[/b] \x1b]0;owned\x07\x1b[2J",
            )
        return "eth0", "/var", "Debian GNU/Linux 12 (bookworm)"

    def reply(self, seq: str, flags: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        self.advance(now)
        s = self.spec
        iface, data_mount, os_name = self._names()
        mem_total = s.mem_gib * 1024 * 1024
        used = int(mem_total * self.mem_used_fraction(now))
        swap_total = 2 * 1024 * 1024
        idle = self._total - self._busy
        lines = [
            f"@ {seq}",
            f"U {now - self.boot:.2f} {(now - self.boot) * s.ncpu * 0.7:.2f}",
            f"L {self._load[0]:.2f} {self._load[1]:.2f} {self._load[2]:.2f} 2/{200 + s.seed} 4242",
            f"C cpu  {int(self._busy * 0.7)} 0 {int(self._busy * 0.3)} {int(idle * 0.98)} "
            f"{int(idle * 0.02)} 0 0 0 0 0",
            f"N {s.ncpu}",
            f"M MemTotal:       {mem_total} kB",
            f"M MemFree:        {mem_total - used - 400000} kB",
            f"M MemAvailable:   {mem_total - used} kB",
            "M Buffers:        100000 kB",
            "M Cached:         300000 kB",
            f"M SwapTotal:      {swap_total} kB",
            f"M SwapFree:       {swap_total - int(swap_total * 0.05)} kB",
            "I     lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0",
            "W - unknown 0 lo",
            f"I {iface:>6}: {int(self._rx)} 99 0 {int(self._drops)} 0 0 0 0 {int(self._tx)} 88 0 0 0 0 0 0",
            f"W {10000 if s.role == 'db' else 1000} up 1 {iface}",
        ]
        if s.role in ("app", "worker"):  # container hosts: a bridge and a veth, folded in the pane
            lines += [
                f"I docker0: {int(self._rx / 9)} 9 0 0 0 0 0 0 {int(self._tx / 9)} 9 0 0 0 0 0 0",
                "W - up 0 docker0",
                f"I veth1a2b: {int(self._rx / 9)} 9 0 0 0 0 0 0 {int(self._tx / 9)} 9 0 0 0 0 0 0",
                "W 10000 up 0 veth1a2b",
            ]
        if "d" in flags:
            root_size = 50 * 1024 * 1024
            root_used = int(root_size * (0.35 + 0.3 * (s.seed % 5) / 5))
            data_size = 200 * 1024 * 1024
            frac = self.disk_fraction(now) if s.fills_disk else 0.4 + 0.05 * (s.seed % 4)
            data_used = int(data_size * frac)
            lines += [
                "F Filesystem         1024-blocks      Used Available Capacity Mounted on",
                "F tmpfs                  1638400      1024   1637376       1% /run",
                f"F /dev/vda1          {root_size} {root_used} {root_size - root_used} 50% /",
                f"F /dev/vdb1          {data_size} {data_used} {data_size - data_used} 40% {data_mount}",
                f"P {180 + (s.seed * 7) % 150}",
            ]
        if "f" in flags:
            lines += [f'O PRETTY_NAME="{os_name}"', "K 6.1.0-27-amd64", f"H {s.name}"]
        lines.append(f"$ {seq}")
        return "\n".join(lines) + "\n"
