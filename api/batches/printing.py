"""Every document of a batch written to a folder: what `phien batches print` and the bench run.

The sheet is read once, in one short transaction, so the fifteen documents agree with each other
(the manifest lists exactly the parcels the labels were printed for); its parcels are kept once
as a tuple and each document gets a fresh iterator over them. Each document is written straight
to its file from a worker thread, with no transaction open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.batches.service import load_sheet
from api.core.db import Database
from api.documents.render import DocumentKind, TableFormat, filename, render_pdf, render_table
from api.documents.sheets import BatchSheet

SYSTEM = Actor(user_id=0, role=Role.ADMIN, cooperative_id=None, province_codes=None)
FORMATS = ("pdf", TableFormat.CSV.value, TableFormat.XLSX.value)


@dataclass(frozen=True)
class Printed:
    """One written document: pages for a PDF, data rows for a table."""

    kind: DocumentKind
    ext: str
    path: Path
    count: int
    size: int
    seconds: float


def every_document() -> list[tuple[DocumentKind, str]]:
    """(kind, extension) for all documents of a batch, PDFs first."""
    return [(kind, ext) for ext in FORMATS for kind in DocumentKind]


def _write(kind: DocumentKind, ext: str, sheet: BatchSheet, out_dir: Path) -> tuple[Path, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / filename(kind, sheet, ext)
    with path.open("wb") as out:
        if ext == "pdf":
            return path, render_pdf(kind, sheet, out)
        return path, render_table(kind, sheet, out, TableFormat(ext))


async def print_batch(
    db: Database,
    batch_id: int,
    out_dir: Path,
    *,
    actor: Actor = SYSTEM,
    each: Callable[[Printed], None] | None = None,
) -> list[Printed]:
    """Write every document of the batch under `out_dir` (BatchNotFound when there is none)."""
    async with db.session() as session:
        sheet = await load_sheet(session, actor, batch_id)
    parcels = tuple(sheet.parcels)
    done: list[Printed] = []
    for kind, ext in every_document():
        started = time.perf_counter()
        one = replace(sheet, parcels=iter(parcels))
        path, count = await asyncio.to_thread(_write, kind, ext, one, out_dir)
        size = (await asyncio.to_thread(path.stat)).st_size
        printed = Printed(kind, ext, path, count, size, time.perf_counter() - started)
        done.append(printed)
        if each is not None:
            each(printed)
    return done
