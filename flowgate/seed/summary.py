"""What a seed run reports, and the one error it raises on purpose."""

from __future__ import annotations

from dataclasses import dataclass


class SeedError(Exception):
    """Seeding cannot go ahead (the stores already hold data, an unknown size, ...)."""


@dataclass(frozen=True)
class SeedSummary:
    organizations: int
    users: int
    agents: int
    flowcharts: int
    workflows: int
    executions: int
    traces: int
    events: int
    seconds: float
    size: str = "small"
    seed: int = 42
    workflow_versions: int = 0  # earlier versions of the workflows
    conversations: int = 0  # demo chats (branches not counted)

    def describe(self) -> str:
        counts = ", ".join(
            f"{count:,} {kind}"
            for kind, count in (
                ("organizations", self.organizations),
                ("users", self.users),
                ("agents", self.agents),
                ("flowcharts", self.flowcharts),
                ("workflows", self.workflows),
                ("earlier workflow versions", self.workflow_versions),
                ("executions", self.executions),
                ("traces", self.traces),
                ("events", self.events),
                ("conversations", self.conversations),
            )
        )
        return f"Seeded {self.size} data (seed {self.seed}) in {self.seconds:.1f}s: {counts}"
