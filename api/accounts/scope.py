"""Who may see what: the tenancy rules shared by every router and job."""

from __future__ import annotations

from dataclasses import dataclass

from api.accounts.models import COOP_ROLES, Role


@dataclass(frozen=True)
class Actor:
    """The authenticated user, reduced to what authorisation needs."""

    user_id: int
    role: Role
    cooperative_id: int | None
    province_codes: tuple[int, ...] | None

    @property
    def sees_all_cooperatives(self) -> bool:
        """Admins and programme managers see every cooperative (logistics: every one in scope)."""
        return self.role in (Role.ADMIN, Role.PROGRAM_MANAGER) or (
            self.role is Role.LOGISTICS and self.province_codes is None
        )

    @property
    def is_coop_member(self) -> bool:
        """Coop admins and sellers act for exactly one cooperative."""
        return self.role in COOP_ROLES

    def can_manage_catalogue(self, cooperative_id: int) -> bool:
        """Admins anywhere; coop admins in their own cooperative."""
        return self.role is Role.ADMIN or (
            self.role is Role.COOP_ADMIN and self.cooperative_id == cooperative_id
        )
