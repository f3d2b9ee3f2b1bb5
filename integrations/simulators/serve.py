"""Run an ASGI app on a loopback port inside the current event loop (tests, demo, bench)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (a free port when 0), for `serve_in_background`."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose listening
    # socket says so, and without it every small response waits ~40 ms for Nagle.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def serve_in_background(
    app: Any, port: int = 0, *, sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 (free port when 0) and yield its base URL until the block exits.

    A `sock` from `bind_loopback` lets a caller hand out the URL before the app exists, without
    the race of picking a free port number and binding it later.
    """
    sock = bind_loopback(port) if sock is None else sock
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{bound_port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        sock.close()
