"""Engine, sessions and the metadata naming convention.

Services never commit: the edge (a request handler or a job) owns the transaction and calls
`session.commit()`, which also sends the jobs buffered during the transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel

from api.core.queue import JobBuffer, JobQueue, PendingJob

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)
metadata = SQLModel.metadata


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class PhienSession(AsyncSession):
    """An AsyncSession that sends its buffered jobs only after a successful commit."""

    def _job_buffer(self) -> JobBuffer:
        buffer = self.info.get("jobs")
        if buffer is None:
            buffer = JobBuffer(sender=self.info.get("job_sender"))
            self.info["jobs"] = buffer
        assert isinstance(buffer, JobBuffer)
        return buffer

    def enqueue_after_commit(
        self,
        function: str,
        *args: Any,
        job_id: str | None = None,
        defer_seconds: float | None = None,
    ) -> None:
        """Record a job to send once this transaction commits (dropped if it rolls back)."""
        self._job_buffer().add(PendingJob(function, args, job_id, defer_seconds))

    async def commit(self) -> None:
        await super().commit()
        await self._job_buffer().flush()

    async def rollback(self) -> None:
        self._job_buffer().discard()
        await super().rollback()


class Database:
    """One engine and session factory per process."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int = 20, pool_timeout: float = 30
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            # Statement parameters are buyers' names and phones: never in exceptions or logs.
            hide_parameters=True,
            connect_args={
                "server_settings": {"application_name": "phien", "timezone": "UTC"},
                # Many distinct statements (IN lists of every length, ON CONFLICT forms):
                # keep them all prepared rather than re-parsing on each call.
                "prepared_statement_cache_size": 1000,
            },
        )
        self._sessions = async_sessionmaker(
            self.engine, class_=PhienSession, expire_on_commit=False, autoflush=False
        )
        self.job_sender: JobQueue | None = None

    def session(self) -> PhienSession:
        """A new session whose commits send buffered jobs through this process's queue."""
        session = self._sessions()
        session.info["job_sender"] = self.job_sender
        return session

    async def session_scope(self) -> AsyncIterator[PhienSession]:
        """Yield a session, rolling back whatever the caller left uncommitted."""
        async with self.session() as session:
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
