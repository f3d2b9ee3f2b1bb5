"""The `phien` command: serve, migrate, users, demo data, catalogue import, simulators."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvloop
from rich.console import Console
from rich.progress import Progress

from api.accounts.models import Role
from api.core.config import get_settings
from api.core.logging import configure_logging
from workers.cli.batches import batches_app
from workers.cli.simulate import simulate_app

app = typer.Typer(help="Phiên: livestream sales for farmer cooperatives.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
embedded_app = typer.Typer(
    help="The embedded PostgreSQL and Redis under ./var/.", no_args_is_help=True
)
secrets_app = typer.Typer(help="Secrets the database keeps.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(secrets_app, name="secrets")
app.add_typer(embedded_app, name="embedded")
app.add_typer(simulate_app, name="simulate")
app.add_typer(batches_app, name="batches")
err = Console(stderr=True)


def _urls() -> tuple[str, str]:
    from api.core.embedded import resolve_urls

    settings = get_settings()
    return resolve_urls(settings.database_url, settings.redis_url, settings.var_dir)


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest schema."""
    from api.core.migrate import upgrade_to_head

    upgrade_to_head(_urls()[0])
    err.print("database is at the newest migration")


@app.command()
def api() -> None:
    """Serve the HTTP API only (HOST/PORT, default 127.0.0.1:8000)."""
    from workers.cli.run import run_api

    settings = get_settings()
    configure_logging(settings.log_level)
    uvloop.run(run_api(settings))


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="exit when the queue is empty")] = False,
) -> None:
    """Run an arq worker (start as many as you like against one Redis)."""
    from workers.cli.run import run_worker

    settings = get_settings()
    configure_logging(settings.log_level)
    uvloop.run(run_worker(settings, burst=burst))


@app.command()
def serve(
    simulators: Annotated[
        bool, typer.Option(help="also serve the platform/carrier simulators")
    ] = False,
) -> None:
    """API and worker together in one process, for one machine."""
    from workers.cli.run import run_serve

    settings = get_settings()
    configure_logging(settings.log_level)
    uvloop.run(run_serve(settings, with_simulators=simulators))


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="the user's e-mail")],
    role: Annotated[
        Role, typer.Option(help="admin, program_manager, coop_admin, seller, logistics")
    ],
    cooperative: Annotated[int | None, typer.Option(help="cooperative id (coop roles)")] = None,
    name: Annotated[str, typer.Option(help="full name")] = "",
) -> None:
    """Create a user; the API token is printed as the last line (shown once)."""
    from workers.cli.commands import create_user_command

    token = asyncio.run(create_user_command(_urls()[0], email, role, cooperative, name))
    typer.echo(token)


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo cooperative and catalogue (idempotent); print a fresh admin token."""
    from workers.cli.commands import seed_demo_command

    coop_id, token = asyncio.run(seed_demo_command(_urls()[0]))
    err.print(f"demo cooperative id {coop_id}")
    typer.echo(token)


@app.command("import-products")
def import_products(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    cooperative: Annotated[int, typer.Option(help="cooperative id to import into")],
) -> None:
    """Import a catalogue CSV; nothing is imported if any row is wrong."""
    from workers.cli.commands import import_products_command

    with Progress(console=err) as progress:
        imported, errors = asyncio.run(
            import_products_command(
                _urls()[0], path.read_text(encoding="utf-8-sig"), cooperative, progress
            )
        )
    if errors:
        for line in errors:
            err.print(f"[red]{line}[/red]")
        err.print(f"[red]{len(errors)} error(s); nothing imported[/red]")
        raise typer.Exit(code=1)
    err.print(f"imported {imported} product(s)")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the first key of SECRETS_KEYS."""
    from workers.cli.commands import rotate_secrets_command

    report = asyncio.run(rotate_secrets_command(get_settings(), _urls()[0]))
    for table, count in report.rewritten.items():
        err.print(f"{table}: {count} re-encrypted, {report.current[table]} already current")
    err.print("every secret is under the newest key; older keys may now be dropped")


@embedded_app.command("stop")
def embedded_stop() -> None:
    """Stop the embedded PostgreSQL and Redis."""
    from api.core.embedded import stop_all

    stop_all(get_settings().var_dir)


@embedded_app.command("urls")
def embedded_urls() -> None:
    """Start the embedded servers if needed and print their URLs."""
    db, redis = _urls()
    typer.echo(f"DATABASE_URL={db}")
    typer.echo(f"REDIS_URL={redis}")
