"""Async bodies of the CLI commands, each owning its transaction."""

from __future__ import annotations

from rich.progress import Progress

from api.accounts.models import Role
from api.accounts.schemas import UserCreate
from api.accounts.service import create_user, issue_token
from api.catalogue.importer import clashing_rows, import_catalogue, parse_catalogue
from api.cooperatives.models import Cooperative
from api.core import encryption
from api.core.config import Settings
from api.core.db import Database
from api.core.rotation import RotationReport, rotate_secrets
from workers.cli.demo import seed_demo


async def create_user_command(
    db_url: str, email: str, role: Role, cooperative: int | None, name: str
) -> str:
    """Create a user and return their first token."""
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            data = UserCreate(email=email, role=role, cooperative_id=cooperative, full_name=name)
            user = await create_user(session, None, data)
            assert user.id is not None
            token = await issue_token(session, user.id)
            await session.commit()
            return token
    finally:
        await db.dispose()


async def seed_demo_command(db_url: str) -> tuple[int, str]:
    """Seed the demo data in one transaction."""
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            result = await seed_demo(session)
            await session.commit()
            return result
    finally:
        await db.dispose()


async def import_products_command(
    db_url: str, text: str, cooperative_id: int, progress: Progress
) -> tuple[int, list[str]]:
    """Validate then import a CSV; return (products imported, error lines)."""
    parsed = parse_catalogue(text, cooperative_id)
    if parsed.errors:
        return 0, [str(e) for e in parsed.errors]
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            if await session.get(Cooperative, cooperative_id) is None:
                return 0, [f"cooperative {cooperative_id} does not exist"]
            clashes = await clashing_rows(session, parsed, cooperative_id)
            if clashes:
                return 0, [str(e) for e in clashes]
            task = progress.add_task("importing", total=len(parsed.products))
            count = await import_catalogue(
                session, parsed, on_product=lambda: progress.advance(task)
            )
            await session.commit()
            return count, []
    finally:
        await db.dispose()


async def rotate_secrets_command(settings: Settings, db_url: str) -> RotationReport:
    """Re-encrypt the stored secrets under the newest key, a batch per transaction."""
    keyring = encryption.configure(settings)
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        async with db.session() as session:
            return await rotate_secrets(session, keyring)
    finally:
        await db.dispose()
