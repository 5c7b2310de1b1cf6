"""The console's own machine, read with psutil into the same sample shape as a remote host.

psutil calls can block (a stuck network mount in disk_usage), so they run in a thread
under a deadline, and a mount that does not answer is left out rather than waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import time
from datetime import UTC, datetime

import psutil

from tomconsole.models import CpuTimes, Filesystem, HostSample, HostState, Interface, Observation
from tomconsole.probes.linux import cpu_percent, parse_df_line


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in open("/etc/os-release", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')
    return f"{platform.system()} {platform.release()}"


def _filesystems() -> tuple[Filesystem, ...]:
    out = []
    for part in psutil.disk_partitions(all=False):
        try:
            du = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        # Reuse the remote probe's filter so both views agree on what a "real" filesystem is.
        line = f"{part.device} {du.total // 1024} {du.used // 1024} {du.free // 1024} 0% {part.mountpoint}"
        fs = parse_df_line(line)
        if fs is not None:
            out.append(fs)
    return tuple(out)


def read_local_sample(prev: CpuTimes | None) -> HostSample:
    """A blocking read of everything; call it from a thread."""
    t = psutil.cpu_times()
    busy = t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
    busy += getattr(t, "steal", 0.0)
    total = busy + t.idle + getattr(t, "iowait", 0.0)
    times = CpuTimes(busy=busy, total=total)
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    nics = psutil.net_io_counters(pernic=True)
    links = psutil.net_if_stats()
    return HostSample(
        sampled_at=datetime.now(UTC),
        uptime_s=time.time() - psutil.boot_time(),
        load=os.getloadavg(),
        ncpu=psutil.cpu_count() or None,
        cpu_times=times,
        cpu_pct=cpu_percent(prev, times),
        mem_total_bytes=vm.total,
        mem_available_bytes=vm.available,
        swap_total_bytes=sw.total,
        swap_free_bytes=sw.free,
        filesystems=_filesystems(),
        interfaces=tuple(
            Interface(
                n,
                c.bytes_recv,
                c.bytes_sent,
                c.errin,
                c.errout,
                c.dropin,
                c.dropout,
                (links[n].speed or None) if n in links else None,
                ("up" if links[n].isup else "down") if n in links else None,
                os.path.exists(f"/sys/class/net/{n}/device"),  # backed by a NIC, as the probe says
            )
            for n, c in nics.items()
            if n != "lo"
        ),
        processes=len(psutil.pids()),
        os=_os_name(),
        kernel=platform.release(),
    )


class LocalCollector:
    """The machine tomconsole runs on, shown as host `localhost`."""

    def __init__(self, name: str = "localhost", interval: float = 5.0, timeout: float = 10.0) -> None:
        self.name = name
        self.interval = interval
        self._timeout = timeout
        self._prev: CpuTimes | None = None

    async def collect(self) -> Observation:
        try:
            async with asyncio.timeout(self._timeout):
                if self._prev is None:
                    first = await asyncio.to_thread(read_local_sample, None)
                    self._prev = first.cpu_times
                    await asyncio.sleep(0.5)
                sample = await asyncio.to_thread(read_local_sample, self._prev)
        except TimeoutError:
            return Observation(self.name, HostState.TIMEOUT, f"local read took over {self._timeout:g} s")
        except OSError as exc:
            return Observation(self.name, HostState.STALE, f"local read failed: {exc}")
        self._prev = sample.cpu_times
        return Observation(self.name, HostState.UP, None, sample)

    async def close(self) -> None:
        return None
