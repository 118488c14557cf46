"""``serve --workers N`` shares one listening socket among its workers; the connections accepted
from it must have TCP_NODELAY, or every answer on a kept-alive connection waits for the client's
delayed ACK (~40 ms a request, measured with uvicorn's own socket on 3 December 2026)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from scripts.cli_serve import tcp_socket


def _nodelay_of_accepted(listening: socket.socket) -> int:
    """TCP_NODELAY on the server side of one connection accepted through asyncio."""
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def accept_one() -> None:
        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        port = listening.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(accept_one())
    return seen[0]


def uvicorn_socket() -> socket.socket:
    """The socket uvicorn binds for several workers (``Config.bind_socket``)."""
    return uvicorn.Config("api.app:create_app", factory=True, port=0, workers=2).bind_socket()


def test_uvicorns_shared_socket_alone_leaves_nagle_on() -> None:
    """Why the fix exists: were this ever 1, uvicorn would have fixed it and tcp_socket could go."""
    assert _nodelay_of_accepted(uvicorn_socket()) == 0


def test_the_workers_socket_accepts_connections_with_nodelay() -> None:
    sock = tcp_socket(uvicorn_socket())

    assert sock.proto == socket.IPPROTO_TCP
    assert _nodelay_of_accepted(sock) != 0
