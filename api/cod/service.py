"""COD statements for people: who may import and read them, and the per-cooperative report.

Statements span cooperatives (a carrier pays out for every shop of the account), so admins
import and read them; a cooperative's own people and programme managers read its report
(programme managers as a summary only). Nobody here sees buyers' names or phones.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.cod.models import CodStatement, CodStatementLine
from api.cod.parsing import ParsedStatement, Progress, StatementError, parse_statement
from api.cod.reconcile import Step, Upload, import_statement
from api.cod.report import report_items, report_summary
from api.cod.schemas import CodReport, LineRead, StatementRead
from api.cooperatives.models import Cooperative
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.paging import CursorPage, CursorParams, keyset_page

REPORT_READERS = frozenset({Role.ADMIN, Role.PROGRAM_MANAGER, Role.COOP_ADMIN, Role.SELLER})


def require_admin(actor: Actor) -> None:
    """Statements are the carrier's across cooperatives: admins only."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("only admins import and read COD statements")


def sha256_of(content: bytes) -> str:
    """The sha256 of a file's bytes."""
    return hashlib.sha256(content).hexdigest()


def statement_digest(parsed: ParsedStatement) -> str:
    """The statement's identity: the sha256 of its reference, date and lines as read (in order,
    without row numbers or the file's format), so CSV or xlsx, re-saved or downloaded again,
    the same payout is the same statement."""
    canonical = {
        "ref": parsed.statement_ref,
        "date": None if parsed.statement_date is None else parsed.statement_date.isoformat(),
        "lines": [
            [line.waybill, line.collected, line.fee, line.paid,
             None if line.paid_at is None else line.paid_at.isoformat(), line.problem]
            for line in parsed.lines
        ],
    }  # fmt: skip
    return sha256_of(json.dumps(canonical, ensure_ascii=False).encode("utf-8"))


async def import_file(
    session: AsyncSession,
    upload: Upload,
    content: bytes,
    *,
    on_read: Progress | None = None,
    step: Step | None = None,
) -> tuple[CodStatement, bool]:
    """Parse (in a thread: a 20 MB workbook is seconds of CPU) and reconcile; 422 if unreadable.

    The statement's identity is what it says, not its bytes: the same payout downloaded again
    from the carrier's portal (a workbook's bytes change with every export), or opened and saved,
    answers the first import and changes nothing."""
    try:
        parsed = await asyncio.to_thread(parse_statement, content, upload.carrier, on_read)
    except StatementError as exc:
        raise Unprocessable(str(exc), "file") from None
    upload = replace(upload, sha256=statement_digest(parsed))
    existing, created = await import_statement(session, upload, parsed, step)
    if created:
        return existing, True
    if existing.carrier != upload.carrier:
        raise Conflict(
            f"this file was imported as statement {existing.id} of {existing.carrier}, "
            f"not {upload.carrier}"
        )
    return existing, False


async def list_statements(
    session: AsyncSession, actor: Actor, paging: CursorParams, carrier: str | None
) -> CursorPage[StatementRead]:
    """Statements newest first."""
    require_admin(actor)
    query = select(CodStatement)
    if carrier is not None:
        query = query.where(col(CodStatement.carrier) == carrier)
    rows, total, capped, cursor = await keyset_page(session, query, col(CodStatement.id), paging)
    return CursorPage[StatementRead](
        items=[StatementRead.model_validate(r) for r in rows], total=total, limit=paging.limit,
        offset=paging.offset, next_cursor=cursor, total_capped=capped,
    )  # fmt: skip


async def get_statement(session: AsyncSession, actor: Actor, statement_id: int) -> CodStatement:
    """One statement with its counts."""
    require_admin(actor)
    statement = await session.get(CodStatement, statement_id)
    if statement is None:
        raise NotFound("statement")
    return statement


async def statement_lines(
    session: AsyncSession,
    actor: Actor,
    statement_id: int,
    paging: CursorParams,
    outcome: str | None,
) -> CursorPage[LineRead]:
    """A statement's lines, newest id first, optionally of one outcome."""
    await get_statement(session, actor, statement_id)
    query = select(CodStatementLine).where(col(CodStatementLine.statement_id) == statement_id)
    if outcome is not None:
        query = query.where(col(CodStatementLine.outcome) == outcome)
    rows, total, capped, cursor = await keyset_page(
        session, query, col(CodStatementLine.id), paging
    )
    return CursorPage[LineRead](
        items=[LineRead.model_validate(r) for r in rows], total=total, limit=paging.limit,
        offset=paging.offset, next_cursor=cursor, total_capped=capped,
    )  # fmt: skip


async def _require_report_reader(session: AsyncSession, actor: Actor, cooperative_id: int) -> None:
    if actor.is_coop_member and actor.cooperative_id != cooperative_id:
        raise NotFound("cooperative")
    if actor.role not in REPORT_READERS:
        raise Forbidden("COD reports are for the cooperative, admins and programme managers")
    if await session.get(Cooperative, cooperative_id) is None:
        raise NotFound("cooperative")


def summary_only(actor: Actor) -> bool:
    """Programme managers see aggregates, never rows about single orders."""
    return actor.role is Role.PROGRAM_MANAGER


async def cod_report(
    session: AsyncSession,
    actor: Actor,
    cooperative_id: int,
    overdue_days: int,
    *,
    limit: int,
    offset: int,
) -> CodReport:
    """The cooperative's mismatches (rows for its people and admins) with the summary."""
    await _require_report_reader(session, actor, cooperative_id)
    summary = await report_summary(session, cooperative_id, overdue_days)
    items = (
        []
        if summary_only(actor)
        else await report_items(session, cooperative_id, overdue_days, limit=limit, offset=offset)
    )
    return CodReport(
        cooperative_id=cooperative_id, overdue_days=overdue_days, summary=summary, items=items,
        total=sum(s.count for s in summary), limit=limit, offset=offset,
    )  # fmt: skip
