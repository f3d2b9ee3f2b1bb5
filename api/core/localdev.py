"""Where tests and benchmarks find PostgreSQL and Redis, and their throw-away databases.

In order: DATABASE_URL / REDIS_URL when set; the machine's own servers on 127.0.0.1:5432 and
127.0.0.1:6379 when they answer; otherwise the embedded ones under ./var/. Each run works in a
database of its own and a Redis database number nobody else holds, so parallel runs (two
developers' test suites, a benchmark beside the tests) never see each other's rows or jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url

from api.core.embedded import normalise_database_url, start_postgres, start_redis
from api.core.migrate import upgrade_to_head

VAR = Path(__file__).resolve().parents[2] / "var"
CLAIM_KEY = "phien:test-run"


def reachable(port: int) -> bool:
    """Whether something listens on this loopback port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def server_urls(*, embedded: bool = False) -> tuple[str, str]:
    """The PostgreSQL (asyncpg URL) and Redis servers to use; `embedded` forces ./var/."""
    db = None if embedded else os.environ.get("DATABASE_URL")
    if not db:
        local = not embedded and reachable(5432)
        db = "postgresql://postgres@127.0.0.1:5432/postgres" if local else start_postgres(VAR)
    rd = None if embedded else os.environ.get("REDIS_URL")
    if not rd:
        rd = "redis://127.0.0.1:6379/0" if not embedded and reachable(6379) else start_redis(VAR)
    return normalise_database_url(db), rd


def asyncpg_kwargs(url: str) -> dict[str, Any]:
    """asyncpg.connect() arguments for a SQLAlchemy URL (TCP or unix socket)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"user": parsed.username or "postgres", "database": parsed.database}
    if parsed.password:
        kwargs["password"] = parsed.password
    host = parsed.query.get("host") or parsed.host or "127.0.0.1"
    kwargs["host"] = host if isinstance(host, str) else host[0]
    if parsed.port:
        kwargs["port"] = parsed.port
    return kwargs


@contextlib.asynccontextmanager
async def fresh_database(base: str, prefix: str) -> AsyncIterator[str]:
    """A new database on `base`'s server, migrated from empty to head, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(**asyncpg_kwargs(base))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def with_redis_db(url: str, number: int) -> str:
    """The same Redis server, another database number."""
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={number}"
    return f"{url.rsplit('/', 1)[0]}/{number}"


@contextlib.asynccontextmanager
async def own_redis_db(base: str, owner: str) -> AsyncIterator[str]:
    """A Redis database number (1-15) claimed for this run, emptied before and after."""
    for number in range(1, 16):
        url = with_redis_db(base, number)
        client = aioredis.Redis.from_url(url)
        if await client.set(CLAIM_KEY, owner, nx=True, ex=3600):
            try:
                await empty_redis_db(client, owner)
                yield url
            finally:
                await client.flushdb()
                await client.aclose()
            return
        await client.aclose()
    raise RuntimeError("every Redis database 1-15 is claimed by another run")


async def empty_redis_db(client: aioredis.Redis, owner: str) -> None:
    """Flush a claimed Redis database, keeping the claim."""
    await client.flushdb()
    await client.set(CLAIM_KEY, owner, ex=3600)
