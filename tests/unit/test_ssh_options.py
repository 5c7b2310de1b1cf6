"""The SSH engine's speed options: AES-GCM offered first (nothing added to or dropped from
what is allowed), and uvloop installed on request for the whole process."""

from __future__ import annotations

import subprocess
import sys

from tomconsole.collectors.ssh import cipher_preference

_LOOP_IN_A_FRESH_PROCESS = """
import asyncio
from tomconsole.collectors.ssh import install_uvloop
installed = install_uvloop()
async def kind():
    return type(asyncio.get_running_loop()).__module__
print(installed, asyncio.run(kind()))
"""


def test_gcm_moves_to_the_front_and_the_rest_keep_their_order() -> None:
    allowed = [
        b"chacha20-poly1305@openssh.com",
        b"aes256-gcm@openssh.com",
        b"aes128-gcm@openssh.com",
        b"aes128-ctr",
    ]
    assert cipher_preference(allowed) == [
        "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com",
        "aes128-ctr",
    ]


def test_a_set_without_gcm_is_unchanged() -> None:
    allowed = [b"chacha20-poly1305@openssh.com", b"aes256-ctr"]
    assert cipher_preference(allowed) == ["chacha20-poly1305@openssh.com", "aes256-ctr"]


def test_install_uvloop_makes_asyncio_run_use_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _LOOP_IN_A_FRESH_PROCESS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out[0] == "True"
    assert out[1].startswith("uvloop")
