"""The schema comes from the migrations, and the models agree with them."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from api.core.db import Database
from api.core.migrate import alembic_config, upgrade_to_head
from api.core.models import metadata


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_models_and_migrations_agree(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_database_is_at_the_single_head(db: Database, database_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert len(heads) == 1
    async with db.engine.connect() as conn:
        current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert current == heads[0]


async def test_upgrade_to_head_twice_is_a_no_op(database_url: str, db: Database) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []
