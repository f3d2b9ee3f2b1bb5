"""A redis-server of a test's own, which the test stops and starts (a Redis outage, for real).

Registered as a plugin by tests/conftest.py: a test asks for `private_redis`.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.core.embedded import redis_binary


def free_port() -> int:
    """A loopback port nobody listens on right now, for a process the test spawns."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """A redis-server of our own on a unix socket, which the test stops and starts.

    A socket file rather than a port: no other test process can take it while it is down.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.workdir / 'redis.sock'}"

    async def start(self) -> None:
        args = [str(redis_binary()), "--port", "0", "--unixsocket", str(self.workdir / "redis.sock"),
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir)]  # fmt: skip
        self.process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
        # redis-server logs "…ready to accept connections at <socket>" once it does: wait for
        # that line rather than poll on a clock (bounded, should the binary never say it).
        await asyncio.wait_for(self._ready(self.process), timeout=30)

    @staticmethod
    async def _ready(process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for log_line in process.stdout:
            if b"ready to accept connections" in log_line.lower():
                return
        raise RuntimeError(f"redis-server exited with {await process.wait()}")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await self.process.wait()
            self.process = None


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    """A running private Redis, stopped and its files removed after the test."""
    # A short directory of its own: a unix socket path must stay under 108 bytes.
    workdir = Path(tempfile.mkdtemp(prefix="phien-redis-"))
    server = PrivateRedis(workdir)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
