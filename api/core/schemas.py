"""Base schemas: strict input (unknown fields refused), pagination envelope."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

T = TypeVar("T")
# PostgreSQL text cannot hold NUL: refused where it enters, as the field's own 422.
NO_NUL = r"^[^\x00]*$"


def has_nul(value: Any) -> bool:
    """Whether a value, or any string inside a list or dict of it, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(item) for item in value)
    return False


class Input(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed, NUL is refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError("must not contain NUL (\\u0000) characters")
        return value


class Output(BaseModel):
    """Response bodies, read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    """?limit=&offset= with sane bounds."""

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=10_000)
