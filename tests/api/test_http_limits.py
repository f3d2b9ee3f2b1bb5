"""The server's own limits: big heads refused, slow senders cut off, a cap on connections."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn

from api.core.config import Settings
from api.core.http_server import server_config
from api.main import create_app

# Generous bounds for "the server gave up on us": the limits under test are far shorter.
GIVE_UP_WITHIN_S = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _server(settings: Settings, **limits: object) -> AsyncIterator[int]:
    port = _free_port()
    tight = settings.model_copy(
        update={
            "port": port,
            "http_head_timeout_s": 0.5,
            "http_body_idle_timeout_s": 0.5,
            "http_max_head_bytes": 8 * 1024,
            **limits,
        }
    )
    server = uvicorn.Server(server_config(create_app(tight), tight))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout=GIVE_UP_WITHIN_S)


async def test_a_normal_request_and_keep_alive_still_work(settings: Settings) -> None:
    async with _server(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):
            writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GIVE_UP_WITHIN_S)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
        writer.close()


async def test_an_oversized_head_is_refused_with_431(settings: Settings) -> None:
    async with _server(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 64 * 1024 + b"\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        answer = await _read_all(reader)
        assert answer.startswith(b"HTTP/1.1 431")
        writer.close()


async def test_a_head_that_never_ends_is_cut_off_with_408(settings: Settings) -> None:
    async with _server(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        await writer.drain()
        answer = await _read_all(reader)  # EOF comes from the server, not from us
        assert answer.startswith(b"HTTP/1.1 408")
        writer.close()


async def test_a_silent_connection_is_closed(settings: Settings) -> None:
    async with _server(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await _read_all(reader)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
        writer.close()


async def test_a_body_that_stalls_is_cut_off(settings: Settings) -> None:
    async with _server(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /webhooks/tiktok-shop HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"type": 1,'
        )
        await writer.drain()
        answer = await _read_all(reader)
        assert b" 200 " not in answer  # never accepted as a webhook
        writer.close()


async def test_past_the_concurrency_limit_the_server_answers_503(settings: Settings) -> None:
    async with _server(settings, http_limit_concurrency=3, http_head_timeout_s=30.0) as port:
        holders = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for _, writer in holders:
            writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\n")  # never finished
            await writer.drain()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n"), GIVE_UP_WITHIN_S)
        assert head.startswith(b"HTTP/1.1 503")
        for _, holder in [*holders, (reader, writer)]:
            holder.close()


@pytest.mark.parametrize("size", [7 * 1024])
async def test_a_head_within_the_limit_is_served(settings: Settings, size: int) -> None:
    async with _server(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Ok: " + b"a" * size + b"\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n"), GIVE_UP_WITHIN_S)
        assert head.startswith(b"HTTP/1.1 200")
        writer.close()
