"""The migration that encrypts tokens already stored in plaintext, and its way back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from alembic import command
from api.core.config import Settings
from api.core.localdev import asyncpg_kwargs
from api.core.migrate import alembic_config
from tests.stack import SECRETS_KEY

ROW = (
    "INSERT INTO cooperatives (name, phone, province_code, province_name, ward_code, ward_name,"
    " street) VALUES ('HTX Bình Lư', '0912345678', 12, 'Lai Châu', 3, 'Xã Bình Lư', 'Bản 1');"
    " INSERT INTO channel_connections (cooperative_id, platform, shop_id, shop_name, status,"
    " access_token, refresh_token) VALUES"
    " (1, 'tiktok_shop', '749554', '', 'active', 'TTP_plain_access', 'TTP_plain_refresh'),"
    " (1, 'shopee', '727720', '', 'active', 'sp_plain_access', NULL)"
)
REVISION = "0006_shops"
TOKENS = "SELECT access_token, refresh_token FROM channel_connections ORDER BY id"


@pytest.fixture
async def empty_database(settings: Settings) -> AsyncIterator[str]:
    """A database of its own with no schema yet (the run's keys are configured by `settings`)."""
    assert settings.database_url is not None
    name = f"phien_mig_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(**asyncpg_kwargs(settings.database_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(settings.database_url).set(database=name).render_as_string(False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _tokens(url: str) -> list[tuple[str | None, str | None]]:
    conn = await asyncpg.connect(**asyncpg_kwargs(url))
    try:
        return [(r["access_token"], r["refresh_token"]) for r in await conn.fetch(TOKENS)]
    finally:
        await conn.close()


async def test_existing_plaintext_tokens_are_encrypted_and_decrypted_back(
    empty_database: str,
) -> None:
    config = alembic_config(empty_database)
    # The revision before ours, whatever the merge chains it after.
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    await asyncio.to_thread(command.upgrade, config, before)
    conn = await asyncpg.connect(**asyncpg_kwargs(empty_database))
    await conn.execute(ROW)
    await conn.close()
    await asyncio.to_thread(command.upgrade, config, REVISION)
    fernet = Fernet(SECRETS_KEY.encode())
    encrypted = await _tokens(empty_database)
    assert "plain" not in str(encrypted)
    opened = [tuple(v and fernet.decrypt(v.encode()).decode() for v in row) for row in encrypted]
    assert opened == [("TTP_plain_access", "TTP_plain_refresh"), ("sp_plain_access", None)]
    await asyncio.to_thread(command.downgrade, config, before)
    assert await _tokens(empty_database) == [
        ("TTP_plain_access", "TTP_plain_refresh"),
        ("sp_plain_access", None),
    ]
