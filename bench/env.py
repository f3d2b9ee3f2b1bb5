"""The benchmark's own environment: a fresh database, a Redis db, and real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx

from api.core.localdev import asyncpg_kwargs, server_urls
from api.core.localdev import fresh_database as localdev_fresh_database
from api.core.localdev import own_redis_db as localdev_own_redis_db

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new database migrated to head on the bench's server, dropped afterwards."""
    base, _ = server_urls()
    async with localdev_fresh_database(base, "phien_bench") as url:
        yield url


@contextlib.asynccontextmanager
async def own_redis_db() -> AsyncIterator[str]:
    """A Redis database no other bench or test run is using, emptied afterwards."""
    _, base = server_urls()
    async with localdev_own_redis_db(base, f"bench-{os.getpid()}") as url:
        yield url


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (phien api / worker / simulate), stopped with SIGTERM at the end."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [sys.executable, "-m", "api.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            cwd=ROOT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def wait_http(url: str, within_s: float = 30) -> None:
    """Wait until `url` answers."""
    deadline = time.monotonic() + within_s
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up")
            await asyncio.sleep(0.2)


async def scalar(db_url: str, sql: str) -> int:
    """One integer from a bench check query (the SQL is ours, never input)."""
    conn = await asyncpg.connect(**asyncpg_kwargs(db_url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def count_rows(db_url: str, table: str, where: str = "true") -> int:
    """SELECT count(*) for a bench check (table and condition are ours, never input)."""
    return await scalar(db_url, f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
