"""`phien batches …`: pickup batches from the command line (as the system, an admin actor)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from api.core.config import get_settings
from api.core.db import Database
from api.core.errors import NotFound

batches_app = typer.Typer(help="Pickup batches: print their documents.", no_args_is_help=True)
err = Console(stderr=True)


async def _print(db_url: str, batch_id: int, out: Path, progress: Progress) -> int:
    from api.batches.printing import Printed, every_document, print_batch

    task = progress.add_task(f"lô {batch_id}", total=len(every_document()))

    def advance(printed: Printed) -> None:
        progress.update(task, advance=1, description=printed.path.name)

    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        return len(await print_batch(db, batch_id, out, each=advance))
    finally:
        await db.dispose()


@batches_app.command("print")
def print_documents(
    batch_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="the pickup batch's id")],
    out: Annotated[Path, typer.Option("--out", help="folder to write into")] = Path("."),
) -> None:
    """Write every document of a batch (pick list, slips, labels, manifest; PDF, CSV, xlsx)."""
    from api.core.embedded import resolve_urls

    settings = get_settings()
    db_url = resolve_urls(settings.database_url, settings.redis_url, settings.var_dir)[0]
    try:
        with Progress(console=err) as progress:
            written = asyncio.run(_print(db_url, batch_id, out, progress))
    except NotFound as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from None
    err.print(f"wrote {written} documents of batch {batch_id} to {out.resolve()}")
