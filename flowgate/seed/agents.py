"""Agents: spread over the categories and both organizations, each with a provider and a
model, a configuration as a real platform would store it, and capabilities."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from flowgate.seed.entities import AgentSeed, OrgSeed, UserSeed, new_id, shift
from flowgate.seed.vocabulary import (
    AGENT_NAMES,
    CAPABILITIES,
    CATEGORY_PHRASES,
    CATEGORY_WEIGHTS,
    DESCRIPTION_TEMPLATES,
    GENERAL_CAPABILITIES,
    NAME_QUALIFIERS,
    PROVIDER_MODELS,
    PROVIDER_WEIGHTS,
    SYSTEM_PROMPT,
)
from models.enums import AgentStatus, UserRole

DAY_MS = 24 * 3600 * 1000
# Acme is the bigger tenant; both have enough agents for nodes that call another agent.
# The first organization (the one the development principal sees) is the demo's main
# tenant: it needs more than 50 agents for the N = 50 round-trip pin; the second one is there
# to prove tenants never see each other.
ORG_SHARES = (0.85, 0.15)
# RUNNING is not drawn: an agent is running exactly when one of its executions is.
STATUS_WEIGHTS = {AgentStatus.ACTIVE: 0.72, AgentStatus.PAUSED: 0.1, AgentStatus.INACTIVE: 0.18}
# How much an agent of each status is used, relative to its own popularity.
STATUS_ACTIVITY = {AgentStatus.ACTIVE: 1.0, AgentStatus.PAUSED: 0.5, AgentStatus.INACTIVE: 0.1}


def build_agents(
    rng: random.Random,
    organizations: list[OrgSeed],
    users: list[UserSeed],
    *,
    count: int,
    anchor: datetime,
) -> list[AgentSeed]:
    agents: list[AgentSeed] = []
    categories = list(CATEGORY_WEIGHTS)
    category_weights = list(CATEGORY_WEIGHTS.values())
    statuses = list(STATUS_WEIGHTS)
    status_weights = list(STATUS_WEIGHTS.values())
    for org, org_count in zip(organizations, _split(count, ORG_SHARES), strict=True):
        owners = [u for u in users if u.organization_id == org.id and u.role is not UserRole.VIEWER]
        names: set[str] = set()
        for _ in range(org_count):
            category = rng.choices(categories, category_weights)[0]
            name = _unique_name(rng, category, names)
            status = rng.choices(statuses, status_weights)[0]
            created_ms = rng.randint(31 * DAY_MS, 360 * DAY_MS)
            agents.append(
                AgentSeed(
                    id=new_id(rng),
                    organization_id=org.id,
                    owner_id=rng.choice(owners).id,
                    name=name,
                    description=_description(rng, category),
                    status=status,
                    category=category,
                    configuration=_configuration(rng, name, category),
                    capabilities=_capabilities(rng, category),
                    created_at=shift(anchor, -created_ms),
                    updated_at=shift(anchor, -rng.randint(DAY_MS // 2, created_ms)),
                    # A few agents do most of the work, as on real platforms.
                    popularity=rng.lognormvariate(0.0, 1.0) * STATUS_ACTIVITY[status],
                )
            )
    return agents


def _split(total: int, shares: tuple[float, ...]) -> list[int]:
    counts = [round(total * share) for share in shares[:-1]]
    return [*counts, total - sum(counts)]


def _unique_name(rng: random.Random, category: str, taken: set[str]) -> str:
    base = rng.choice(AGENT_NAMES[category])
    name = base
    attempt = 0
    while name in taken:
        attempt += 1
        if attempt <= len(NAME_QUALIFIERS):
            name = f"{base} ({rng.choice(NAME_QUALIFIERS)})"
        else:
            name = f"{base} #{attempt - len(NAME_QUALIFIERS) + 1}"
    taken.add(name)
    return name


def _description(rng: random.Random, category: str) -> str:
    source, audience, deliverable = CATEGORY_PHRASES[category]
    template = rng.choice(DESCRIPTION_TEMPLATES)
    return template.format(source=source, audience=audience, deliverable=deliverable)


def _configuration(rng: random.Random, name: str, category: str) -> dict[str, Any]:
    provider = rng.choices(list(PROVIDER_WEIGHTS), list(PROVIDER_WEIGHTS.values()))[0]
    return {
        "provider": provider,
        "model": rng.choice(PROVIDER_MODELS[provider]),
        "temperature": round(rng.uniform(0.0, 1.0), 2),
        "max_tokens": rng.choice((512, 1024, 2048, 4096, 8192)),
        "top_p": rng.choice((1.0, 0.95, 0.9)),
        "system_prompt": SYSTEM_PROMPT.format(name=name, audience=CATEGORY_PHRASES[category][1]),
        "retry": {"max_attempts": rng.randint(1, 5), "backoff_seconds": rng.choice((1, 2, 5))},
    }


def _capabilities(rng: random.Random, category: str) -> list[str]:
    own = CAPABILITIES[category]
    picked = rng.sample(own, rng.randint(2, min(4, len(own))))
    if rng.random() < 0.5:
        picked.append(rng.choice(GENERAL_CAPABILITIES))
    return sorted(picked)
