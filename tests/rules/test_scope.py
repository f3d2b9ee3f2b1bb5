"""Who may see what, without a database: the tenancy rules of `Actor`."""

from __future__ import annotations

import pytest

from api.accounts.models import Role
from api.accounts.scope import Actor

pytestmark = pytest.mark.pure


def _actor(
    role: Role, cooperative_id: int | None = None, provinces: tuple[int, ...] | None = None
) -> Actor:
    return Actor(user_id=1, role=role, cooperative_id=cooperative_id, province_codes=provinces)


@pytest.mark.parametrize(
    ("actor", "sees_all"),
    [
        (_actor(Role.ADMIN), True),
        (_actor(Role.PROGRAM_MANAGER), True),
        (_actor(Role.LOGISTICS), True),
        (_actor(Role.LOGISTICS, provinces=(66,)), False),
        (_actor(Role.LOGISTICS, provinces=()), False),
        (_actor(Role.COOP_ADMIN, 1), False),
        (_actor(Role.SELLER, 1), False),
    ],
)
def test_who_sees_every_cooperative(actor: Actor, sees_all: bool) -> None:
    assert actor.sees_all_cooperatives is sees_all


@pytest.mark.parametrize(
    ("role", "member"),
    [
        (Role.ADMIN, False),
        (Role.PROGRAM_MANAGER, False),
        (Role.COOP_ADMIN, True),
        (Role.SELLER, True),
        (Role.LOGISTICS, False),
    ],
)
def test_coop_members_act_for_one_cooperative(role: Role, member: bool) -> None:
    assert _actor(role, 1).is_coop_member is member


def test_only_admins_and_the_coops_own_admins_manage_its_catalogue() -> None:
    assert _actor(Role.ADMIN).can_manage_catalogue(5)
    assert _actor(Role.COOP_ADMIN, 5).can_manage_catalogue(5)
    assert not _actor(Role.COOP_ADMIN, 5).can_manage_catalogue(6)
    assert not _actor(Role.SELLER, 5).can_manage_catalogue(5)
    assert not _actor(Role.PROGRAM_MANAGER).can_manage_catalogue(5)
    assert not _actor(Role.LOGISTICS).can_manage_catalogue(5)
