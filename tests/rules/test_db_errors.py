"""Whose fault a database error is, without a database: data 422, outage 503, bug 500."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from api.core.handlers import classify_db_error

pytestmark = pytest.mark.pure


class _Adapted(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the driver's error is its __cause__."""


def _wrapped(cause: BaseException, *, invalidated: bool = False) -> DBAPIError:
    orig = _Adapted(str(cause))
    orig.__cause__ = cause
    return DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def _pg(cls: type[asyncpg.PostgresError]) -> asyncpg.PostgresError:
    return cls.new({"M": "message", "C": cls.sqlstate})


@pytest.mark.parametrize(
    ("cause", "fault"),
    [
        (_pg(asyncpg.exceptions.CharacterNotInRepertoireError), "data"),  # NUL in text
        (_pg(asyncpg.exceptions.UntranslatableCharacterError), "data"),  # \\u0000 in jsonb
        (_pg(asyncpg.exceptions.NumericValueOutOfRangeError), "data"),  # integer out of range
        (_pg(asyncpg.exceptions.StringDataRightTruncationError), "data"),
        (ValueError("invalid input for query argument $1 (value out of int32 range)"), "data"),
        (_pg(asyncpg.exceptions.ConnectionFailureError), "outage"),
        (_pg(asyncpg.exceptions.TooManyConnectionsError), "outage"),
        (_pg(asyncpg.exceptions.AdminShutdownError), "outage"),
        (_pg(asyncpg.exceptions.CannotConnectNowError), "outage"),
        (_pg(asyncpg.exceptions.PostgresIOError), "outage"),  # SQLSTATE 58030
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), "outage"),
        (ConnectionRefusedError(111, "refused"), "outage"),
        (_pg(asyncpg.exceptions.UndefinedColumnError), "bug"),
        (_pg(asyncpg.exceptions.PostgresSyntaxError), "bug"),
        (_pg(asyncpg.exceptions.DeadlockDetectedError), "outage"),
        (_pg(asyncpg.exceptions.SerializationError), "outage"),
        (_pg(asyncpg.exceptions.QueryCanceledError), "outage"),  # statement timeout
        (_pg(asyncpg.exceptions.InsufficientPrivilegeError), "bug"),
    ],
)
def test_database_errors_are_classified(cause: BaseException, fault: str) -> None:
    assert classify_db_error(_wrapped(cause)) == fault


def test_an_invalidated_connection_is_an_outage_whatever_the_error() -> None:
    cause = _pg(asyncpg.exceptions.NumericValueOutOfRangeError)
    assert classify_db_error(_wrapped(cause, invalidated=True)) == "outage"


def test_an_error_without_a_cause_is_read_itself() -> None:
    assert classify_db_error(DBAPIError("SELECT 1", {}, ValueError("bad"))) == "data"
    assert classify_db_error(DBAPIError("SELECT 1", {}, OSError("gone"))) == "outage"
