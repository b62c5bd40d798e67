"""Agents: any member reads them; a user changes the agents they own, an admin any."""

from __future__ import annotations

from flowgate.principal import Principal
from models.enums import UserRole
from models.sql import Agent
from resolvers.access.workflows import is_admin


def may_change_agent(principal: Principal, agent: Agent) -> bool:
    return is_admin(principal) or (
        principal.role is UserRole.USER and agent.owner_id == principal.user_id
    )
