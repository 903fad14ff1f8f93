"""Who may create their own account at ``/user/register``: a site setting.

Like the site's other stored settings (the permission version, the site secret) it lives in the
``variable`` table, under :data:`REGISTRATION_VARIABLE`, so every process reads the same answer
and a change applies to the very next request. Without a stored value only administrators
create accounts: a new site is closed to sign-ups until its administrator opens it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from psycopg.types.json import Jsonb

from trovato.db.pool import Database
from trovato.errors import ServiceError
from trovato.observability.audit import audit

REGISTRATION_VARIABLE = "user.registration"


class Registration(StrEnum):
    """Who may register."""

    ADMINS_ONLY = "admins_only"
    VISITORS = "visitors"
    APPROVAL = "visitors_approval"  # the account is created blocked until an admin unblocks it

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Registration.ADMINS_ONLY: "Administrators only",
    Registration.VISITORS: "Visitors",
    Registration.APPROVAL: "Visitors, but administrator approval is required",
}


async def registration(db: Database) -> Registration:
    """The site's current choice (:attr:`Registration.ADMINS_ONLY` when none is stored or the
    stored one is not known: closed is the safe reading)."""
    value = await db.fetchval(
        "SELECT value #>> '{}' FROM variable WHERE name = %s", (REGISTRATION_VARIABLE,))
    try:
        return Registration(value)
    except ValueError:
        return Registration.ADMINS_ONLY


async def set_registration(db: Database, choice: str, *, actor: uuid.UUID | None) -> Registration:
    """Store who may register (422 naming ``registration`` for an unknown choice)."""
    try:
        chosen = Registration(choice)
    except ValueError:
        raise ServiceError(422, "is not one of the choices", field="registration") from None
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO variable (name, value) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (REGISTRATION_VARIABLE, Jsonb(chosen.value)))
        await audit(conn, "user", "Registration set to %(choice)s.", {"choice": chosen.value},
                    user_id=actor)
    return chosen
