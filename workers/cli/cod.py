"""`phien cod import FILE --carrier viettel-post`, `phien cod report --cooperative ID --out F`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cod.exports import table, to_csv, to_xlsx
from api.cod.models import CodStatement
from api.cod.reconcile import RECONCILE_STEPS, Upload
from api.cod.report import MAX_EXPORT_ROWS, report_items, report_summary
from api.cod.service import import_file, sha256_of
from api.core.config import get_settings
from api.core.db import Database
from api.core.errors import Conflict, Unprocessable

cod_app = typer.Typer(help="Cash-on-delivery payout statements.", no_args_is_help=True)
err = Console(stderr=True)
CARRIER_NAMES = {"viettel-post": "viettel_post", "viettel_post": "viettel_post", "ghn": "ghn"}
OUTCOMES = ("matched", "amount_differs", "unknown_waybill", "paid_twice", "parked")


def _db_url() -> str:
    from api.core.embedded import resolve_urls

    settings = get_settings()
    return resolve_urls(settings.database_url, settings.redis_url, settings.var_dir)[0]


async def import_command(
    db_url: str, name: str, content: bytes, carrier: str, progress: Progress
) -> tuple[CodStatement, bool]:
    """Import one file in one transaction, advancing the bars as lines are read and stored."""
    reading = progress.add_task("reading lines", total=None, visible=False)
    storing = progress.add_task("storing lines", total=None, visible=False)
    matching = progress.add_task("reconciling", total=RECONCILE_STEPS, visible=False)

    def on_read(done: int, total: int) -> None:
        progress.update(reading, visible=True, completed=done, total=total)
        progress.update(storing, total=total)

    def step(what: str, count: int) -> None:
        task = storing if what == "stored" else matching
        progress.update(task, visible=True, advance=count)

    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            upload = Upload(carrier, name, sha256_of(content), None, "cli")
            statement, created = await import_file(
                session, upload, content, on_read=on_read, step=step
            )
            await session.commit()
            return statement, created
    finally:
        await db.dispose()


@cod_app.command("import")
def import_statement(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    carrier: Annotated[str, typer.Option(help="viettel-post or ghn")],
) -> None:
    """Import a payout statement (CSV or xlsx) and reconcile it; prints the counts per outcome."""
    name = CARRIER_NAMES.get(carrier.lower())
    if name is None:
        err.print(f"[red]unknown carrier {carrier!r}: use viettel-post or ghn[/red]")
        raise typer.Exit(code=2)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err) as progress:
            statement, created = asyncio.run(
                import_command(_db_url(), path.name, path.read_bytes(), name, progress)
            )
    except (Unprocessable, Conflict) as exc:
        err.print(f"[red]{path.name}: {exc.reason}[/red]")
        raise typer.Exit(code=1) from None
    if not created:
        err.print(f"already imported as statement {statement.id}: nothing changed")
    else:
        err.print(f"statement {statement.id}: {statement.lines_total} lines")
    for outcome in OUTCOMES:
        typer.echo(f"{outcome}\t{getattr(statement, outcome)}")


async def report_command(db_url: str, cooperative_id: int, xlsx: bool) -> tuple[bytes, int]:
    """The cooperative's COD report (every row) as .csv or .xlsx bytes, and its row count."""
    days = get_settings().cod_overdue_days
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            summary = await report_summary(session, cooperative_id, days)
            items = await report_items(
                session, cooperative_id, days, limit=MAX_EXPORT_ROWS, offset=0
            )
    finally:
        await db.dispose()
    rows = table(items, summary)
    return (to_xlsx(rows) if xlsx else to_csv(rows)), len(items)


@cod_app.command("report")
def report(
    cooperative: Annotated[int, typer.Option(help="cooperative id")],
    out: Annotated[Path, typer.Option(help="FILE.csv or FILE.xlsx")],
) -> None:
    """Write a cooperative's COD mismatches (amount differs, paid twice, overdue) to a file."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        err.print("[red]--out must end in .csv or .xlsx[/red]")
        raise typer.Exit(code=2)
    body, rows = asyncio.run(report_command(_db_url(), cooperative, out.suffix.lower() == ".xlsx"))
    out.write_bytes(body)
    err.print(f"{rows} row(s) written to {out}")
