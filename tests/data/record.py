"""Re-record the probe's replies on this machine: `python tests/data/record.py`.

Runs the real probe program under each awk present (mawk through the launcher exactly as
a host would; gawk and busybox awk directly) and saves a full reply (disks and facts)
and a light one, as debian12-<awk>.<n>.txt. The recordings are the parser's test input.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tomconsole.probes.linux import AWK_PROGRAM, PROBE_COMMAND, request_line

HERE = Path(__file__).parent


def record(argv: list[str], name: str) -> None:
    p = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )
    assert p.stdin is not None and p.stdout is not None
    for i, (disks, facts) in enumerate([(True, True), (False, False)], 1):
        p.stdin.write(request_line(i, disks=disks, facts=facts))
        p.stdin.flush()
        lines = []
        while True:
            line = p.stdout.readline()
            lines.append(line)
            if not line or line.startswith("$"):
                break
        (HERE / f"{name}.{i}.txt").write_text("".join(lines))
    p.stdin.close()
    p.wait()


if __name__ == "__main__":
    record(["sh", "-c", PROBE_COMMAND], "debian12-mawk")
    if shutil.which("gawk"):
        record(["gawk", AWK_PROGRAM], "debian12-gawk")
    if shutil.which("busybox"):
        record(["busybox", "awk", AWK_PROGRAM], "debian12-busybox")
