"""The benchmark's own environment: a fresh database, a Redis db, and real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url

from api.core.embedded import normalise_database_url, start_postgres, start_redis
from api.core.migrate import upgrade_to_head

ROOT = Path(__file__).resolve().parents[1]


def _reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def base_urls() -> tuple[str, str]:
    """PostgreSQL and Redis to use, like the tests: env, then the machine's own, then embedded."""
    db = os.environ.get("DATABASE_URL") or (
        "postgresql://postgres@127.0.0.1:5432/postgres"
        if _reachable(5432)
        else start_postgres(ROOT / "var")
    )
    rd = os.environ.get("REDIS_URL") or (
        "redis://127.0.0.1:6379/0" if _reachable(6379) else start_redis(ROOT / "var")
    )
    return normalise_database_url(db), rd


def with_redis_db(url: str, number: int) -> str:
    """The same Redis server, another database number."""
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={number}"
    return f"{url.rsplit('/', 1)[0]}/{number}"


@contextlib.asynccontextmanager
async def own_redis_db() -> AsyncIterator[str]:
    """A Redis database no other bench or test run is using, emptied afterwards."""
    _, base = base_urls()
    for number in range(1, 16):
        url = with_redis_db(base, number)
        client = aioredis.Redis.from_url(url)
        if await client.set("phien:test-run", f"bench-{os.getpid()}", nx=True, ex=3600):
            try:
                await client.flushdb()
                await client.set("phien:test-run", f"bench-{os.getpid()}", ex=3600)
                yield url
            finally:
                await client.flushdb()
                await client.aclose()
            return
        await client.aclose()
    raise RuntimeError("every Redis database 1-15 is in use")


def _connect_kwargs(url: str) -> dict[str, object]:
    parsed = make_url(url)
    host = parsed.query.get("host") or parsed.host or "127.0.0.1"
    kwargs: dict[str, object] = {
        "user": parsed.username or "postgres",
        "database": parsed.database,
        "host": host if isinstance(host, str) else host[0],
    }
    if parsed.port:
        kwargs["port"] = parsed.port
    if parsed.password:
        kwargs["password"] = parsed.password
    return kwargs


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new database migrated to head, dropped afterwards."""
    base, _ = base_urls()
    name = f"phien_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(**_connect_kwargs(base))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


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
    conn = await asyncpg.connect(**_connect_kwargs(db_url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def count_rows(db_url: str, table: str, where: str = "true") -> int:
    """SELECT count(*) for a bench check (table and condition are ours, never input)."""
    return await scalar(db_url, f"SELECT count(*) FROM {table} WHERE {where}")  # noqa: S608
