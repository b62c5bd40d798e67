"""`createAgent`, `updateAgent`, `deleteAgent`, `restoreAgent`: inputs, payloads and result
unions."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from resolvers.context import Context
from resolvers.drafts.agent import AgentChanges, AgentDraft
from resolvers.mutations import agents
from schema.agent import Agent
from schema.enums import AgentStatus
from schema.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from schema.mutations.capture import capture_errors
from schema.mutations.drafts import kept
from schema.permissions import WRITERS


@strawberry.input(description="A new agent.")
class CreateAgentInput:
    name: str = strawberry.field(description="Display name: 1 to 200 characters, trimmed.")
    category: str = strawberry.field(description="Grouping (support, research, ...): 1 to 100.")
    description: str = strawberry.field(default="", description="At most 5,000 characters.")
    status: AgentStatus = strawberry.field(
        default=AgentStatus.ACTIVE, description="Whether it can be run."
    )
    # Nullable with no default, rather than `JSON! = {}`: graphql-core cannot write an object
    # default of a custom scalar in introspection, and the standard introspection query (gql,
    # code generators) then fails on `defaultValue`.
    configuration: JSON | None = strawberry.field(
        default=None,
        description=(
            "A JSON object of at most 16 KB; `temperature`, if given, in [0, 2]. "
            "Absent or null: an empty object."
        ),
    )
    capabilities: list[str] = strawberry.field(
        default_factory=list, description="At most 50, each at most 100 characters."
    )

    def to_draft(self) -> AgentDraft:
        return AgentDraft(
            name=self.name,
            category=self.category,
            description=self.description,
            status=self.status,
            configuration={} if self.configuration is None else self.configuration,
            capabilities=self.capabilities,
        )


@strawberry.input(description="Changes to an agent: only the fields given change.")
class UpdateAgentInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Display name: 1 to 200 characters, trimmed."
    )
    category: str | None = strawberry.field(
        default=strawberry.UNSET, description="Grouping: 1 to 100 characters."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 5,000 characters."
    )
    status: AgentStatus | None = strawberry.field(
        default=strawberry.UNSET, description="Whether it can be run."
    )
    configuration: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the whole configuration: a JSON object of at most 16 KB.",
    )
    capabilities: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the list: at most 50 items."
    )

    def to_draft(self) -> AgentChanges:
        # Omitted fields stay as they are; an explicit null is reported.
        return AgentChanges(
            name=kept(self.name),
            category=kept(self.category),
            description=kept(self.description),
            status=kept(self.status),
            configuration=kept(self.configuration),
            capabilities=kept(self.capabilities),
        )


@strawberry.type(description="The agent as created.")
class CreateAgentPayload:
    agent: Agent = strawberry.field(description="The new agent.")


@strawberry.type(description="The agent as changed.")
class UpdateAgentPayload:
    agent: Agent = strawberry.field(description="The agent with its new values.")


@strawberry.type(description="The agent as deleted.")
class DeleteAgentPayload:
    agent: Agent = strawberry.field(description="The agent, with `deletedAt` set.")


@strawberry.type(description="The agent as restored.")
class RestoreAgentPayload:
    agent: Agent = strawberry.field(description="The agent, live again (`deletedAt` null).")


CreateAgentResult = Annotated[
    CreateAgentPayload | ValidationError,
    strawberry.union("CreateAgentResult", description="The new agent, or why there is none."),
]
UpdateAgentResult = Annotated[
    UpdateAgentPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("UpdateAgentResult", description="The changed agent, or why it is not."),
]
DeleteAgentResult = Annotated[
    DeleteAgentPayload | ValidationError | NotFound | Forbidden,
    strawberry.union("DeleteAgentResult", description="The deleted agent, or why it is not."),
]
RestoreAgentResult = Annotated[
    RestoreAgentPayload | ValidationError | NotFound | Forbidden | InvalidTransition,
    strawberry.union("RestoreAgentResult", description="The restored agent, or why it is not."),
]
AgentId = Annotated[strawberry.ID, strawberry.argument(description="The agent's global id.")]


@strawberry.type(description="Changes to agents.")
class AgentMutations:
    @strawberry.mutation(
        permission_classes=WRITERS, description="Create an agent in your organization."
    )
    @capture_errors
    async def create_agent(
        self,
        info: strawberry.Info[Context],
        input: Annotated[CreateAgentInput, strawberry.argument(description="The new agent.")],
    ) -> CreateAgentResult:
        model = await agents.create_agent(info, draft=input.to_draft())
        return CreateAgentPayload(agent=Agent.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS, description="Change some fields of an agent; the others stay."
    )
    @capture_errors
    async def update_agent(
        self,
        info: strawberry.Info[Context],
        id: AgentId,
        input: Annotated[UpdateAgentInput, strawberry.argument(description="What changes.")],
    ) -> UpdateAgentResult:
        model = await agents.update_agent(info, agent_id=id, changes=input.to_draft())
        return UpdateAgentPayload(agent=Agent.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Delete an agent: it leaves lists and `agent(id)`, but past executions still "
            "show it, with `deletedAt` set."
        ),
    )
    @capture_errors
    async def delete_agent(self, info: strawberry.Info[Context], id: AgentId) -> DeleteAgentResult:
        model = await agents.delete_agent(info, agent_id=id)
        return DeleteAgentPayload(agent=Agent.from_model(model))

    @strawberry.mutation(
        permission_classes=WRITERS,
        description=(
            "Restore a deleted agent: back in lists and `agent(id)`, with its flowchart. "
            "An agent that is not deleted is an `InvalidTransition`."
        ),
    )
    @capture_errors
    async def restore_agent(
        self, info: strawberry.Info[Context], id: AgentId
    ) -> RestoreAgentResult:
        model = await agents.restore_agent(info, agent_id=id)
        return RestoreAgentPayload(agent=Agent.from_model(model))
