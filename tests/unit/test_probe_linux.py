"""The probe parser against replies recorded on a real Debian 12 machine (mawk, gawk,
busybox awk) and against garbage: it must read the first and never raise on the second."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tomconsole.models import CpuTimes
from tomconsole.probes.linux import AWK_PROGRAM, PROBE_COMMAND, cpu_percent, parse_df_line, parse_reply

DATA = Path(__file__).parent.parent / "data"
NOW = datetime(2026, 11, 23, tzinfo=UTC)
AWKS = ("mawk", "gawk", "busybox")


_MEM_FIELDS = ("MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SwapTotal", "SwapFree")


def _meminfo_kb(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith("M "):
            return int(line.split(" ")[1 + _MEM_FIELDS.index(key)])
    raise AssertionError(key)


@pytest.mark.parametrize("awk", AWKS)
def test_full_reply_recorded_on_debian(awk: str) -> None:
    text = (DATA / f"debian12-{awk}.1.txt").read_text()
    result = parse_reply(text, NOW)
    assert result.ok and result.warnings == ()
    s = result.sample
    assert s is not None
    assert s.mem_total_bytes == _meminfo_kb(text, "MemTotal") * 1024
    assert s.mem_available_bytes == _meminfo_kb(text, "MemAvailable") * 1024
    assert s.ncpu == int(next(ln for ln in text.splitlines() if ln.startswith("N "))[2:])
    assert s.load is not None and len(s.load) == 3
    assert s.os == "Debian GNU/Linux 12 (bookworm)"
    assert s.kernel and s.kernel[0].isdigit()
    mounts = [fs.mount for fs in s.filesystems or ()]
    assert "/" in mounts
    assert not any(m.startswith(("/dev", "/sys", "/run")) for m in mounts)  # pseudo filesystems skipped
    assert "lo" not in [i.name for i in s.interfaces]
    assert "eth0" in [i.name for i in s.interfaces]
    assert s.processes is not None and s.processes > 10


@pytest.mark.parametrize("awk", AWKS)
def test_light_reply_has_no_disks_or_facts(awk: str) -> None:
    result = parse_reply((DATA / f"debian12-{awk}.2.txt").read_text(), NOW)
    assert result.sample is not None
    assert result.sample.filesystems is None  # "not sampled this round", not "no filesystems"
    assert result.sample.os is None


@pytest.mark.parametrize("awk", AWKS)
def test_cpu_rate_between_two_recorded_replies(awk: str) -> None:
    a = parse_reply((DATA / f"debian12-{awk}.1.txt").read_text(), NOW).sample
    b = parse_reply((DATA / f"debian12-{awk}.2.txt").read_text(), NOW).sample
    assert a is not None and b is not None
    pct = cpu_percent(a.cpu_times, b.cpu_times)
    assert pct is None or 0.0 <= pct <= 100.0


def test_first_wire_format_is_still_read() -> None:
    """Whole /proc lines, as the probe printed them before the compact format (recorded with
    mawk on Debian 12) and as the demo fleet's simulator still answers."""
    first = parse_reply((DATA / "first-format-debian12-mawk.1.txt").read_text(), NOW)
    light = parse_reply((DATA / "first-format-debian12-mawk.2.txt").read_text(), NOW)
    assert first.warnings == () and light.warnings == ()
    a, b = first.sample, light.sample
    assert a is not None and b is not None
    assert a.mem_total_bytes == 24683656 * 1024 and a.mem_available_bytes == 24355936 * 1024
    assert a.swap_total_bytes == 0 and a.ncpu == 2 and a.load == (1.70, 4.37, 2.45)
    assert a.cpu_times == CpuTimes(
        busy=45909 + 27105 + 724 + 943, total=45909 + 27105 + 322540 + 589 + 724 + 943
    )
    assert [(i.name, i.rx_bytes, i.tx_bytes) for i in a.interfaces] == [
        ("ifb0", 0, 0),
        ("ifb1", 0, 0),
        ("eth0", 75722175, 157496),
    ]
    assert [fs.mount for fs in a.filesystems or ()] == ["/", "/mnt/sandboxing/model_tools_env/v1/python"]
    assert b.filesystems is None and b.uptime_s is not None


def test_cpu_percent_arithmetic() -> None:
    assert cpu_percent(CpuTimes(10, 100), CpuTimes(60, 200)) == pytest.approx(50.0)
    assert cpu_percent(CpuTimes(10, 100), CpuTimes(10, 100)) is None  # no time passed
    assert cpu_percent(None, CpuTimes(1, 2)) is None
    assert cpu_percent(CpuTimes(50, 100), CpuTimes(0, 200)) == 0.0  # counters reset: clamped


def test_df_line_with_spaces_in_mount_point() -> None:
    fs = parse_df_line("/dev/sdb1 1000 250 750 25% /mnt/my disk")
    assert fs is not None and fs.mount == "/mnt/my disk" and fs.used_pct == pytest.approx(25.0)
    assert parse_df_line("Filesystem 1024-blocks Used Available Capacity Mounted on") is None
    assert parse_df_line("tmpfs 100 0 100 0% /run") is None


def test_empty_and_garbage_replies_are_errors_not_exceptions() -> None:
    assert parse_reply("", NOW).error
    assert parse_reply("hello\nworld\n", NOW).error
    bad = parse_reply("U not-a-number\nL 1 2\nM MemTotal: x kB\n", NOW)
    assert not bad.ok and len(bad.warnings) == 3


def test_meminfo_without_memavailable_falls_back_to_free_buffers_cached() -> None:
    result = parse_reply(_reply("M 1000 - 100 20 30 0 0"), NOW)
    assert result.sample is not None and result.warnings == ()
    assert result.sample.mem_total_bytes == 1000 * 1024
    assert result.sample.mem_available_bytes == 150 * 1024
    assert result.sample.swap_total_bytes == 0


def test_loopback_is_dropped_and_short_cpu_lines_are_read() -> None:
    result = parse_reply(_reply("I 1 2 3 4 5 6 lo", "I 1 2 3 4 5 6 eth0", "C 10 0 20 70"), NOW)
    assert result.sample is not None and result.warnings == ()
    assert [i.name for i in result.sample.interfaces] == ["eth0"]
    assert result.sample.cpu_times == CpuTimes(busy=30.0, total=100.0)


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    parse_reply(text, NOW)


@given(st.lists(st.sampled_from(list("UCLNMIFPOK@$ ")), max_size=4), st.text(max_size=60))
def test_tagged_garbage_never_raises(tags: list[str], body: str) -> None:
    parse_reply("\n".join(f"{t} {body}" for t in tags), NOW)


@pytest.mark.parametrize("awk", AWKS)
def test_every_truncation_of_a_real_reply_never_raises(awk: str) -> None:
    text = (DATA / f"debian12-{awk}.1.txt").read_text()
    for cut in range(len(text)):
        parse_reply(text[:cut], NOW)


def test_probe_command_is_one_fixed_string_with_no_single_quote_in_the_program() -> None:
    assert "'" not in AWK_PROGRAM
    assert PROBE_COMMAND.startswith("sh -c ")


# Characters str.splitlines() or str.split() treat as line or field breaks, which a host may
# legitimately put in an interface name, a mount point or os-release (issue 6, point 16).
SEPARATORS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029", "\r"]
_name_chars = st.sampled_from([*SEPARATORS, "e", "t", "h", "0", "-", "."])
_IFACE_COUNTERS = "1 3 4 9 11 12"  # rx bytes, errs, drop; tx bytes, errs, drop


def _reply(*lines: str) -> str:
    return "\n".join(["@ 1", "U 100.0", *lines, "$ 1", ""])


@given(st.text(_name_chars, min_size=1, max_size=12).filter(lambda s: s != "lo"))
def test_interface_names_with_separator_characters_are_carried_exactly(name: str) -> None:
    result = parse_reply(_reply(f"I {_IFACE_COUNTERS} {name}", f"I {_IFACE_COUNTERS} eth9"), NOW)
    assert result.sample is not None
    assert [i.name for i in result.sample.interfaces] == [name, "eth9"]
    assert result.sample.interfaces[0].rx_bytes == 1 and result.sample.interfaces[0].tx_drops == 12


@given(st.text(st.sampled_from([*SEPARATORS, "D", "e", "b", " ", "(", ")", "1", "2"]), max_size=30))
def test_pretty_name_with_separator_characters_is_carried_exactly(text: str) -> None:
    result = parse_reply(_reply(f'O PRETTY_NAME="{text}"', "K 6.1.0-28-amd64"), NOW)
    assert result.sample is not None
    assert result.sample.os == text
    assert result.sample.kernel == "6.1.0-28-amd64"  # the next line is still read


@pytest.mark.parametrize("sep", SEPARATORS)
def test_separator_in_a_mount_point_keeps_the_filesystem_whole(sep: str) -> None:
    mount = f"/mnt/a{sep}b  c"
    lines = ("P 12", f"F /dev/sdb1 1000 250 750 25% {mount}", "F /dev/sda1 10 5 5 50% /")
    result = parse_reply(_reply(*lines), NOW)
    assert result.sample is not None
    assert [fs.mount for fs in result.sample.filesystems or ()] == [mount, "/"]
    assert result.sample.processes == 12


@pytest.mark.parametrize("sep", SEPARATORS)
def test_separator_in_a_pretty_name_does_not_cut_the_reply(sep: str) -> None:
    result = parse_reply(_reply(f'O PRETTY_NAME="Debian{sep}GNU/Linux 12"', "L 0.5 0.25 0.1"), NOW)
    assert result.sample is not None
    assert result.sample.os == f"Debian{sep}GNU/Linux 12"
    assert result.sample.load == (0.5, 0.25, 0.1)
