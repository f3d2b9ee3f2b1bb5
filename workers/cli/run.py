"""Long-running modes: API, worker, or both in one process (`phien serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn

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

log = logging.getLogger(__name__)


def _server(settings: Settings) -> uvicorn.Server:
    return uvicorn.Server(server_config(create_app(settings), settings))


async def run_api(settings: Settings) -> None:
    """Serve HTTP until SIGINT/SIGTERM."""
    await _server(settings).serve()


async def run_worker(*, burst: bool) -> None:
    """Process jobs until stopped (or, with burst, until the queue is empty)."""
    worker = create_worker(burst=burst)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def run_serve(settings: Settings, *, with_simulators: bool) -> None:
    """API and one worker in the same event loop; the API's signal handling stops both.

    With `with_simulators`, each outside service without credentials in the environment gets
    its simulator; the configured ones are used for real. Which is which is printed.
    """
    simulated = to_simulate(settings) if with_simulators else []
    settings = point_settings_at_simulators(settings, simulated)
    print("  Outside services:", *describe(settings, simulated), sep="\n    ", flush=True)
    server = _server(settings)
    worker = create_worker(handle_signals=False, settings=settings)
    async with contextlib.AsyncExitStack() as stack:
        await start_simulators(stack, settings, simulated)
        worker_task = asyncio.create_task(worker.async_run())
        log.info("serving", extra={"url": f"http://{settings.host}:{settings.port}"})
        try:
            await server.serve()
        finally:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            await worker.close()
