"""The servers bench.network checks, in a process of their own so their CPU is never counted
as the console's: a TCP listener, an HTTP server and an HTTPS server (a CA and certificate made
at start, the CA written beside them), all on 127.0.0.1. Prints one JSON line with the ports
and the CA file once listening, then serves until killed.

    .venv/bin/python -m bench.netpeers DIRECTORY
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from tomconsole.demo.peers import answer_http, make_ca, make_leaf, write_pair

ADDRESS = "127.0.0.1"


async def _closing(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def serve(directory: Path) -> None:
    ca = make_ca()
    ca_file = directory / "bench-ca.pem"
    ca_file.write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(write_pair(*make_leaf(ca, ADDRESS, 90), directory, "bench-leaf"))
    servers = {
        "tcp": await asyncio.start_server(_closing, ADDRESS, 0, backlog=1024),
        "http": await asyncio.start_server(answer_http, ADDRESS, 0, backlog=1024),
        "https": await asyncio.start_server(answer_http, ADDRESS, 0, ssl=ctx, backlog=1024),
    }
    ports = {k: s.sockets[0].getsockname()[1] for k, s in servers.items()}
    print(json.dumps({"ports": ports, "ca_file": str(ca_file)}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
