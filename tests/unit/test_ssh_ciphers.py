"""cipher_preference: AES-GCM offered first, nothing added to or dropped from what is allowed."""

from __future__ import annotations

from tomconsole.collectors.ssh import cipher_preference


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
