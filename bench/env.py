"""The benchmark's own environment: a fresh database, a Redis db, and real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
from arq import create_pool
from arq.connections import RedisSettings
from arq.jobs import JobStatus

from api.core.jobs import Job
from api.core.localdev import asyncpg_kwargs, server_urls
from api.core.localdev import fresh_database as localdev_fresh_database
from api.core.localdev import own_redis_db as localdev_own_redis_db
from api.core.queue import QUEUE_NAME

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


# Some machines set PYTHONDONTWRITEBYTECODE: every child would then compile all of our modules
# from source when it starts, seconds of CPU on a loaded two-core box that land inside the
# measured window. The children share one bytecode cache outside the tree instead.
_BYTECODE = {
    "PYTHONDONTWRITEBYTECODE": "",
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "phien-bench-pycache"),
}


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (phien api / worker / simulate), stopped with SIGTERM at the end."""
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI with fixed arguments
            [sys.executable, "-m", "workers.cli", *args],
            env={**os.environ, **_BYTECODE, **env},
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


async def wait_worker(redis_url: str, within_s: float = 60) -> None:
    """Wait until a `phien worker` has run a job (workers import and connect before polling)."""
    redis = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        # An inbox sweep: harmless at any time, and it needs the worker's database too.
        job = await redis.enqueue_job(
            Job.SWEEP_INBOX, _job_id=f"bench-ready-{time.time_ns()}", _queue_name=QUEUE_NAME
        )
        assert job is not None
        deadline = time.monotonic() + within_s
        # keep_result is 0: a finished job leaves no trace, so "not found" means "it ran".
        while await job.status() is not JobStatus.not_found:
            if time.monotonic() > deadline:
                raise TimeoutError("no worker ran a job")
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()


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
