"""sshd's effective settings, read as sshd reads them, from what the security scan brought back:
`sshd -T` where the host allowed it, else the text of /etc/ssh/sshd_config and every file its
`Include`s name.

sshd keeps the FIRST value it obtains for a keyword (an Include is read in place, its files in
lexical order); a `Match` block's settings apply only to the connections it matches, so they
are kept apart (a block that loosens a setting is a finding of its own); keywords are
case-insensitive; a `Match all` block applies to every connection, over the global values.
Pure: never raises on garbage.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

MAX_DEPTH = 5  # Include nesting sshd itself would follow; past it, a loop of includes ends

# What sshd assumes for a keyword that no file sets (OpenSSH 7.0 and later).
DEFAULTS = {"permitrootlogin": "prohibit-password", "passwordauthentication": "yes"}


@dataclass
class SshdSettings:
    """`values`: the global settings (keyword lowercased -> first value); `matches`: each Match
    block's condition and the settings it sets; `source`: `sshd -T` or the files read."""

    values: dict[str, str] = field(default_factory=dict)
    matches: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    source: str = ""
    # the file each global value (and each Match block, by its condition) came from
    where: dict[str, str] = field(default_factory=dict)

    def origin(self, keyword: str) -> str:
        """Where a setting's value comes from, as the evidence says it."""
        if self.source == "sshd -T":
            return "sshd -T"
        if keyword not in self.values:
            return f"sshd's default; {self.source}"
        return f"set in {self.where.get(keyword, self.source)}"

    unreadable: list[str] = field(default_factory=list)

    def get(self, keyword: str) -> str:
        return self.values.get(keyword, DEFAULTS.get(keyword, ""))


def parse_sshd_t(text: str) -> SshdSettings | None:
    """`sshd -T` output (one `keyword value` per line, already effective); None when it is not
    that (an error message, empty)."""
    values: dict[str, str] = {}
    for line in text.split("\n"):
        words = line.strip().split(None, 1)
        if len(words) == 2 and words[0].isalnum():
            values.setdefault(words[0].lower(), words[1].strip())
    if "permitrootlogin" not in values or "passwordauthentication" not in values:
        return None
    return SshdSettings(values, [], "sshd -T")


def split_files(text: str) -> tuple[dict[str, str], list[str]]:
    """The `@@file PATH` sections of the scan (the first copy of each path) and the files
    that exist but could not be read (`@@unreadable PATH`)."""
    files: dict[str, list[str]] = {}
    unreadable: list[str] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("@@file "):
            path = line[len("@@file ") :].strip()
            current = None if path in files else files.setdefault(path, [])
        elif line.startswith("@@unreadable "):
            unreadable.append(line[len("@@unreadable ") :].strip())
            current = None
        elif current is not None:
            current.append(line)
    return {p: "\n".join(lines) for p, lines in files.items()}, unreadable


def _glob(pattern: str, paths: list[str]) -> list[str]:
    """The received files a glob names, in lexical order (glob(3)); `*` never crosses `/`."""
    if not pattern.startswith("/"):
        pattern = "/etc/ssh/" + pattern
    depth = pattern.count("/")
    return sorted(p for p in paths if p.count("/") == depth and fnmatch.fnmatchcase(p, pattern))


def _words(line: str) -> tuple[str, str] | None:
    """A config line's keyword and value (`Keyword value`, `Keyword=value`, quotes kept)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    for i, ch in enumerate(text):
        if ch in " \t=":
            key, rest = text[:i], text[i:].lstrip(" \t")
            rest = rest[1:].lstrip(" \t") if rest.startswith("=") and ch != "=" else rest.lstrip("=")
            return key.lower(), rest.strip()
    return text.lower(), ""


def parse_config_files(files: dict[str, str], main: str = "/etc/ssh/sshd_config") -> SshdSettings | None:
    """The effective settings from the config text (None: the main file was not received)."""
    if main not in files:
        return None
    out = SshdSettings(source=main)
    paths = list(files)
    block: dict[str, str] | None = None  # the Match block being read, None: global
    every: dict[str, str] = {}  # the settings of `Match all` blocks

    def read(path: str, depth: int) -> None:
        nonlocal block
        for line in files.get(path, "").split("\n"):
            kv = _words(line)
            if kv is None:
                continue
            key, value = kv
            if key == "include":
                if depth < MAX_DEPTH:
                    outer = block  # a Match block begun in an included file ends with that file
                    for pattern in value.split():
                        for inc in _glob(pattern.strip('"'), paths):
                            read(inc, depth + 1)
                            block = outer
                continue
            if key == "match":
                # `Match all` matches every connection: what follows overrides the global
                # settings for everyone (sshd_config(5)), so it is read as global, winning.
                block = every if value.lower() == "all" else {}
                if block is not every:
                    out.matches.append((value, block))
                    out.where.setdefault(f"Match {value}", path)
                continue
            target = out.values if block is None else block
            if key not in target:
                target[key] = value
                if block is None or block is every:
                    out.where[key] = path

    read(main, 0)
    out.values.update(every)
    return out


def effective(sshd_t: str, config_text: str) -> SshdSettings | None:
    """`sshd -T` when it answered, else the config files; None when neither could be read."""
    settings = parse_sshd_t(sshd_t)
    files, unreadable = split_files(config_text)
    if settings is None:
        settings = parse_config_files(files)
    if settings is not None:
        settings.unreadable = unreadable
    return settings


# Algorithms no longer safe to offer (CBC modes, RC4, 64-bit MACs, MD5 and SHA-1 MACs,
# SHA-1 key exchange). Listed only when the effective lists offer them.
WEAK = {
    "ciphers": (
        "3des-cbc",
        "aes128-cbc",
        "aes192-cbc",
        "aes256-cbc",
        "blowfish-cbc",
        "cast128-cbc",
        "arcfour",
    ),
    "macs": ("hmac-md5", "hmac-sha1", "umac-64", "hmac-ripemd160"),
    "kexalgorithms": (
        "diffie-hellman-group1-sha1",
        "diffie-hellman-group14-sha1",
        "diffie-hellman-group-exchange-sha1",
        "gss-gex-sha1-",
        "gss-group1-sha1-",
        "gss-group14-sha1-",
    ),
}


def weak_algorithms(settings: SshdSettings) -> list[tuple[str, str]]:
    """(keyword, algorithm) the effective lists offer that are weak. A list that starts with
    `+`, `-` or `^` changes OpenSSH's defaults; only the named algorithms are judged."""
    out = []
    for keyword, weak in WEAK.items():
        value = settings.values.get(keyword, "")
        if value.startswith("-"):
            continue  # removing algorithms never adds a weak one
        for algo in value.lstrip("+^").split(","):
            a = algo.strip().lower()
            if a and any(a.startswith(w) for w in weak):
                out.append((keyword, a))
    return out
