"""`phien batches print BATCH_ID --out DIR`: every document of the batch, as files."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from api.core.config import Settings
from api.core.db import Database
from api.documents.render import DocumentKind
from tests.documents.readback import pdf_text
from tests.documents.test_documents_api import _batch
from tests.factories import World


async def _phien(settings: Settings, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url or "",
           "REDIS_URL": settings.redis_url or ""}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, err.decode()


async def test_print_writes_every_document(
    tmp_path: Path, settings: Settings, world: World, db: Database
) -> None:
    batch_id, waybills = await _batch(db, world)
    code, err = await _phien(settings, "batches", "print", str(batch_id), "--out", str(tmp_path))
    assert code == 0, err
    assert f"wrote 15 documents of batch {batch_id}" in err
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 15
    for kind in DocumentKind:
        for ext in ("pdf", "csv", "xlsx"):
            assert any(n.endswith(f"-{kind}.{ext}") for n in names), (kind, ext)
    manifest = await asyncio.to_thread(
        (tmp_path / next(n for n in names if n.endswith("-manifest.pdf"))).read_bytes
    )
    assert all(w in "\n".join(pdf_text(manifest)) for w in waybills)


async def test_print_of_an_unknown_batch_fails_clearly(tmp_path: Path, settings: Settings) -> None:
    code, err = await _phien(settings, "batches", "print", "999999", "--out", str(tmp_path))
    assert code == 1
    assert "pickup batch 999999 not found" in err


async def test_print_of_an_id_past_bigint_is_a_usage_error_not_a_traceback(
    tmp_path: Path, settings: Settings
) -> None:
    code, err = await _phien(settings, "batches", "print", str(2**63), "--out", str(tmp_path))
    assert code == 2, err
    assert "Traceback" not in err
    assert "9223372036854775807" in err
