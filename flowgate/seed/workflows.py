"""Workflows: multi-agent pipelines whose nodes call agents of their organization, with the
settings and permissions a team would give them."""

from __future__ import annotations

import itertools
import random

from flowgate.seed.entities import AgentSeed, OrgSeed, UserSeed, WorkflowSeed, new_id, shift
from flowgate.seed.flowcharts import COLUMN_WIDTH, ROW_HEIGHT
from flowgate.seed.graph import EdgeSeed, NodeSeed
from flowgate.seed.timeline import Timeline
from flowgate.seed.vocabulary import (
    CATEGORY_PHRASES,
    CATEGORY_WEIGHTS,
    NOTIFICATION_CHANNELS,
    WORKFLOW_NAMES,
    WORKFLOW_TAGS,
)
from models.documents import WorkflowContent, WorkflowPermissions, WorkflowSettings
from models.documents.workflow import NotificationSettings
from models.enums import NodeType, UserRole, WorkflowStatus

DAY_MS = 24 * 3600 * 1000
STATUS_WEIGHTS = {
    WorkflowStatus.ACTIVE: 0.6,
    WorkflowStatus.DRAFT: 0.25,
    WorkflowStatus.ARCHIVED: 0.15,
}


def build_workflows(
    rng: random.Random,
    organizations: list[OrgSeed],
    users: list[UserSeed],
    agents: list[AgentSeed],
    *,
    count: int,
    timeline: Timeline,
) -> list[WorkflowSeed]:
    anchor = timeline.anchor
    workflows: list[WorkflowSeed] = []
    names: set[tuple[object, str]] = set()
    for number in range(count):
        org = organizations[number % len(organizations)]
        members = [u for u in users if u.organization_id == org.id]
        org_agents = [a for a in agents if a.organization_id == org.id]
        name = _unique_name(rng, org, names)
        status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
        # Workflows that run were created before the 30 days of executions; an archived one
        # stopped changing, and running, at some point inside them.
        created_ms = rng.randint(35 * DAY_MS, 300 * DAY_MS)
        ran_until = rng.uniform(0.15, 0.9) if status is WorkflowStatus.ARCHIVED else 1.0
        if status is WorkflowStatus.ARCHIVED:
            updated_at = timeline.moment(ran_until)
        else:
            updated_at = shift(anchor, -rng.randint(DAY_MS // 24, 30 * DAY_MS))
        creator = rng.choice([u for u in members if u.role is not UserRole.VIEWER])
        nodes, edges, used = _graph(rng, org_agents)
        category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
        workflow_id = new_id(rng)
        created_at = shift(anchor, -created_ms)
        # Drawn in this order so that a seed number keeps giving the same data.
        description = _description(rng, category, len(used))
        version = rng.randint(1, 9)
        content = WorkflowContent(
            name=name,
            description=description,
            status=status,
            nodes=[node.model() for node in nodes],
            edges=[edge.model() for edge in edges],
            tags=sorted(rng.sample(WORKFLOW_TAGS, rng.randint(1, 4))),
            category=category,
            settings=_settings(rng),
            permissions=_permissions(rng, creator, members),
        )
        workflows.append(
            WorkflowSeed(
                id=workflow_id,
                organization_id=org.id,
                status=status,
                agents=used,
                created_at=created_at,
                updated_at=updated_at,
                version=version,
                created_by=creator.id,
                content=content,
                weight=rng.lognormvariate(0.0, 0.8),
                ran_until=ran_until,
            )
        )
    return workflows


def _unique_name(rng: random.Random, org: OrgSeed, taken: set[tuple[object, str]]) -> str:
    base = rng.choice(WORKFLOW_NAMES)
    name, version = base, 1
    while (org.id, name) in taken:
        version += 1
        name = f"{base} v{version}"
    taken.add((org.id, name))
    return name


def _description(rng: random.Random, category: str, agent_count: int) -> str:
    source, audience, deliverable = CATEGORY_PHRASES[category]
    cadence = rng.choice(("on demand", "every night", "every Monday", "on each new item"))
    return (
        f"Chains {agent_count} agents over {source}, {cadence}, "
        f"and delivers {deliverable} to {audience}."
    )


def _graph(
    rng: random.Random, agents: list[AgentSeed]
) -> tuple[list[NodeSeed], list[EdgeSeed], list[AgentSeed]]:
    """A pipeline of agent calls, sometimes with a review step and a decision that either
    finishes or sends the work back through another agent."""
    used = rng.sample(agents, min(len(agents), rng.randint(2, 6)))
    nodes = [
        NodeSeed(
            id=f"step_{number + 1}",
            type=NodeType.ACTION,
            label=agent.name,
            x=number * COLUMN_WIDTH,
            y=0.0,
            data={"action": "call_agent", "agentId": str(agent.id)},
        )
        for number, agent in enumerate(used)
    ]
    edges = [EdgeSeed(a.id, b.id) for a, b in itertools.pairwise(nodes)]
    if rng.random() < 0.5:
        last = nodes[-1]
        x = len(nodes) * COLUMN_WIDTH
        first = used[0]
        publish = {"action": rng.choice(("send_email", "store_document"))}
        review = NodeSeed(
            "review", NodeType.HUMAN, "Human review", x, 0.0, {"timeout_minutes": 240}
        )
        gate = NodeSeed("gate", NodeType.DECISION, "Approved?", x + COLUMN_WIDTH, 0.0)
        done = NodeSeed("publish", NodeType.ACTION, "Publish", x + 2 * COLUMN_WIDTH, 0.0, publish)
        rework = NodeSeed(
            "rework",
            NodeType.ACTION,
            f"{first.name} (rework)",
            x + 2 * COLUMN_WIDTH,
            ROW_HEIGHT,
            {"action": "call_agent", "agentId": str(first.id)},
        )
        nodes += [review, gate, done, rework]
        edges += [
            EdgeSeed(last.id, "review"),
            EdgeSeed("review", "gate"),
            EdgeSeed("gate", "publish", "approved == true"),
            EdgeSeed("gate", "rework", "approved == false"),
        ]
    return nodes, edges, used


def _settings(rng: random.Random) -> WorkflowSettings:
    return WorkflowSettings(
        timeout_seconds=rng.choice((300, 900, 1800, 3600, 7200)),
        max_retries=rng.randint(0, 5),
        concurrency=rng.choice((1, 1, 2, 4, 8)),
        notifications=NotificationSettings(
            on_failure=rng.random() < 0.9,
            on_success=rng.random() < 0.3,
            channels=sorted(rng.sample(NOTIFICATION_CHANNELS, rng.randint(0, 3))),
        ),
    )


def _permissions(
    rng: random.Random, creator: UserSeed, members: list[UserSeed]
) -> WorkflowPermissions:
    others = [u for u in members if u.id != creator.id]
    writers = [u for u in others if u.role is not UserRole.VIEWER]
    editors = rng.sample(writers, rng.randint(0, min(3, len(writers))))
    readers = [u for u in others if u not in editors]
    viewers = rng.sample(readers, rng.randint(0, min(4, len(readers))))
    return WorkflowPermissions(
        owners=[creator.id],
        editors=[u.id for u in editors],
        viewers=[u.id for u in viewers],
        is_public=rng.random() < 0.3,
    )
