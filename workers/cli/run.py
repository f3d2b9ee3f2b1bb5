"""Long-running modes: API, worker, or both in one process (`phien serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn
from arq.worker import Worker
from fastapi import FastAPI

from api.core.config import Settings
from api.main import create_app
from workers.cli.simulators import (
    describe,
    point_settings_at_simulators,
    start_simulators,
    to_simulate,
)
from workers.settings import create_worker
from workers.supervise import new_worker_name, run_once, supervise

log = logging.getLogger(__name__)


def _server(settings: Settings, app: FastAPI | None = None) -> uvicorn.Server:
    config = uvicorn.Config(
        app or create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
    return uvicorn.Server(config)


async def run_api(settings: Settings) -> None:
    """Serve HTTP until SIGINT/SIGTERM."""
    await _server(settings).serve()


async def run_worker(*, burst: bool) -> None:
    """Process jobs until stopped (or, with burst, until the queue is empty).

    A worker that cannot go on (Redis gone) exits non-zero, so whatever supervises the
    process (systemd, compose `restart:`) starts it again; stopping never waits on a dead Redis.
    """
    worker = create_worker(burst=burst)
    try:
        await run_once(worker)
    except asyncio.CancelledError:
        return  # SIGINT/SIGTERM: arq cancelled its own loop
    except Exception as exc:
        log.error("worker cannot go on; exiting", extra={"error": type(exc).__name__})
        raise SystemExit(1) from exc


async def run_serve(settings: Settings, *, with_simulators: bool) -> None:
    """API and one worker in the same event loop; the API's signal handling stops both.

    The worker is supervised: if it fails (a Redis restart), a new one starts after a pause.
    With `with_simulators`, each outside service without credentials in the environment gets
    its simulator; the configured ones are used for real. Which is which is printed.
    """
    simulated = to_simulate(settings) if with_simulators else []
    settings = point_settings_at_simulators(settings, simulated)
    print("  Outside services:", *describe(settings, simulated), sep="\n    ", flush=True)
    app, name = create_app(settings), new_worker_name()
    app.state.worker_name = name  # /ready checks that this process's worker polled lately
    server = _server(settings, app)
    stop = asyncio.Event()

    def make() -> Worker:
        return create_worker(handle_signals=False, settings=settings, name=name)

    async with contextlib.AsyncExitStack() as stack:
        await start_simulators(stack, settings, simulated)
        supervisor = asyncio.create_task(supervise(make, stop))
        log.info("serving", extra={"url": f"http://{settings.host}:{settings.port}"})
        try:
            await server.serve()
        finally:
            stop.set()
            await supervisor
