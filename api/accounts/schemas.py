"""Request and response bodies for users and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from api.accounts.models import Role
from api.core.schemas import Input, Output

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class UserCreate(Input):
    """A new user; coop roles need a cooperative, logistics may name provinces."""

    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    full_name: str = Field(default="", max_length=200)
    role: Role
    cooperative_id: int | None = Field(default=None, ge=1)
    province_codes: list[int] | None = Field(default=None, max_length=34)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UserRead(Output):
    """A user as others see it (never any token)."""

    id: int
    email: str
    full_name: str
    role: Role
    cooperative_id: int | None
    province_codes: list[int] | None
    is_active: bool
    created_at: datetime


class TokenCreate(Input):
    """Name the token so it can be told apart later."""

    name: str = Field(default="default", min_length=1, max_length=100)


class TokenIssued(Output):
    """Shown once: the token itself is not stored and cannot be read again."""

    token: str
    prefix: str
    name: str
    user_id: int


class UserCreated(UserRead):
    """The new user with their first token (shown once)."""

    token: str
