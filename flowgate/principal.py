"""Who is asking. Until authentication lands, every request acts as a development principal:
an admin of one organization (`FLOWGATE_DEV_ORGANIZATION`, else the first by name)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from flowgate.settings import Settings
from flowgate.stores.postgres import Postgres
from models.enums import UserRole
from models.sql import Organization


@dataclass(frozen=True)
class Principal:
    organization_id: uuid.UUID
    user_id: uuid.UUID | None
    role: UserRole


class DevPrincipalResolver:
    """Finds the development principal once and remembers it for the process."""

    def __init__(self, settings: Settings, postgres: Postgres) -> None:
        self._settings = settings
        self._postgres = postgres
        self._principal: Principal | None = None

    async def resolve(self) -> Principal | None:
        if self._principal is None:
            query = select(Organization.id).order_by(Organization.name).limit(1)
            if self._settings.dev_organization:
                query = query.where(Organization.slug == self._settings.dev_organization)
            async with self._postgres.session() as session:
                organization_id = await session.scalar(query)
            if organization_id is not None:
                self._principal = Principal(organization_id, None, UserRole.ADMIN)
        return self._principal
