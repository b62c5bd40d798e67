"""The pure half of seeding: from (size, seed, anchor) to every row and document, with no
store in sight. Same inputs, same data; that is what the determinism test checks."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowgate.seed.agents import build_agents
from flowgate.seed.entities import AgentSeed, Doc, OrgSeed, Row, UserSeed, WorkflowSeed
from flowgate.seed.executions import build_executions
from flowgate.seed.flowcharts import build_flowchart
from flowgate.seed.graph import FlowchartSeed
from flowgate.seed.organizations import build_organizations, build_users
from flowgate.seed.runs import ExecutionSeed
from flowgate.seed.timeline import Timeline
from flowgate.seed.traces import event_count, event_docs, trace_doc
from flowgate.seed.versions import build_versions
from flowgate.seed.workflows import build_workflows
from models.sql import Agent, Execution, Organization, User


@dataclass(frozen=True)
class SizeSpec:
    named_users_per_org: int
    agents: int
    workflows: int
    executions: int


SIZES = {
    "small": SizeSpec(named_users_per_org=5, agents=60, workflows=20, executions=3_000),
    "large": SizeSpec(named_users_per_org=20, agents=600, workflows=200, executions=30_000),
}


def default_anchor() -> datetime:
    """Midnight UTC today: data generated twice on the same day is identical, timestamps
    included; on another day only the timestamps move."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class SeedData:
    size: str
    seed: int
    anchor: datetime
    organizations: list[OrgSeed]
    users: list[UserSeed]
    agents: list[AgentSeed]
    flowcharts: list[FlowchartSeed]
    workflows: list[WorkflowSeed]
    workflow_versions: list[Doc]
    executions: list[ExecutionSeed]

    def sql_tables(self) -> list[tuple[type[Any], list[Row]]]:
        """Rows per model, parents first."""
        return [
            (Organization, [org.row() for org in self.organizations]),
            (User, [user.row() for user in self.users]),
            (Agent, [agent.row() for agent in self.agents]),
            (Execution, [execution.row() for execution in self.executions]),
        ]

    def flowchart_docs(self) -> Iterator[Doc]:
        return (chart.doc() for chart in self.flowcharts)

    def workflow_docs(self) -> Iterator[Doc]:
        return (workflow.doc() for workflow in self.workflows)

    def workflow_version_docs(self) -> Iterator[Doc]:
        return iter(self.workflow_versions)

    def trace_docs(self) -> Iterator[Doc]:
        """Lazily: a large data set's traces and events never sit in memory all at once."""
        return (trace_doc(execution) for execution in self.executions)

    def event_docs(self) -> Iterator[Doc]:
        return (doc for execution in self.executions for doc in event_docs(execution))

    def event_count(self) -> int:
        return sum(execution.last_event_seq for execution in self.executions)


def generate(
    *,
    size: str = "small",
    seed: int = 42,
    anchor: datetime | None = None,
    password_hash: str = "",
) -> SeedData:
    """Every row and document of the data set. One generator drives everything, in a fixed
    order, so the ids and names depend on `seed` alone and timestamps on `anchor` too."""
    if size not in SIZES:
        raise ValueError(f"unknown seed size {size!r}; expected one of {', '.join(SIZES)}")
    spec = SIZES[size]
    anchor = anchor or default_anchor()
    rng = random.Random(seed)
    organizations = build_organizations(rng, anchor)
    users = build_users(
        rng,
        organizations,
        named_per_org=spec.named_users_per_org,
        password_hash=password_hash,
        anchor=anchor,
    )
    agents = build_agents(rng, organizations, users, count=spec.agents, anchor=anchor)
    colleagues: dict[uuid.UUID, list[AgentSeed]] = {}
    for agent in agents:
        colleagues.setdefault(agent.organization_id, []).append(agent)
    flowcharts = [
        build_flowchart(
            rng, agent, [a for a in colleagues[agent.organization_id] if a is not agent], anchor
        )
        for agent in agents
    ]
    timeline = Timeline(anchor)
    workflows = build_workflows(
        rng, organizations, users, agents, count=spec.workflows, timeline=timeline
    )
    executions = build_executions(
        rng,
        agents,
        {chart.agent.id: chart for chart in flowcharts},
        workflows,
        users,
        count=spec.executions,
        timeline=timeline,
    )
    for execution in executions:
        execution.last_event_seq = event_count(execution)
    versions = build_versions(rng, workflows)
    return SeedData(
        size=size,
        seed=seed,
        anchor=anchor,
        organizations=organizations,
        users=users,
        agents=agents,
        flowcharts=flowcharts,
        workflows=workflows,
        workflow_versions=versions,
        executions=executions,
    )
