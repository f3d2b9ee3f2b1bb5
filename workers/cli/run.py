"""Long-running modes: API, worker, or both in one process (`phien serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import uvicorn
from arq.worker import Worker
from fastapi import FastAPI

from api.core.config import Settings
from api.core.http_server import server_config
from api.main import create_app
from workers.cli.simulators import (
    describe,
    point_settings_at_simulators,
    start_simulators,
    to_simulate,
)
from workers.settings import create_worker
from workers.supervise import GaveUp, new_worker_name, run_once, supervise

log = logging.getLogger(__name__)


def _server(settings: Settings, app: FastAPI | None = None) -> uvicorn.Server:
    return uvicorn.Server(server_config(app or create_app(settings), settings))


async def run_api(settings: Settings) -> None:
    """Serve HTTP until SIGINT/SIGTERM."""
    await _server(settings).serve()


async def run_worker(settings: Settings, *, burst: bool) -> None:
    """Process jobs until stopped (or, with burst, until the queue is empty).

    A failed worker (Redis restarted) is replaced in-process; one that keeps failing for
    `worker_give_up_after_seconds` exits non-zero, so whatever supervises the process (systemd,
    compose `restart:`) starts it again. Stopping never waits on a dead Redis.
    """
    if burst:
        await run_once(create_worker(burst=True))
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def make() -> Worker:
        # Signals are ours (above): arq's handlers would be lost with each replaced worker.
        return create_worker(handle_signals=False)

    try:
        await supervise(make, stop, give_up_after_s=settings.worker_give_up_after_seconds)
    except GaveUp as exc:
        log.error("worker cannot go on; exiting", extra={"error": str(exc)})
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
