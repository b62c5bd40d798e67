"""A plan plus one request's arguments and principal: the SQL statement of a root field.

Arguments are validated by the same functions the resolvers call (`PageRequest`, the filter
inputs' `to_filter`, `nested_args`, `parse_id`), so a bad argument raises the same
`BadInputError`; the executor then answers that root field through the resolvers, which
report it exactly as they always do.

This module is the generic core: the registries that name every compiled relation and root
field, and the binder that walks a plan. What a domain's fields compile to lives beside it:
`schema.compiled.executions` (agents and executions), `schema.compiled.conversations`
(conversations and projects), `schema.compiled.approvals`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from graphql.execution.values import get_argument_values
from sqlalchemy import BindParameter, ColumnElement, FromClause, Select, Uuid, bindparam, select
from sqlalchemy.sql.util import ClauseAdapter
from strawberry.types.arguments import convert_arguments

from flowgate.principal import Principal
from models import sql
from resolvers.access import is_admin
from resolvers.compiled import statements
from resolvers.compiled.run import organization_inlined
from resolvers.compiled.sql import Expression, global_id, json_object, lit
from resolvers.compiled.statements import ConnectionShape, Edges, Listing
from resolvers.compiled.visibility import execution_visible
from resolvers.conversations.access import visible_conversations, visible_projects
from resolvers.ids import from_global_id, parse_id
from resolvers.loaders.approvals import APPROVALS_ORDER
from resolvers.pagination import PageRequest
from resolvers.sql_pages import SortKey
from schema.compiled import approvals, conversations, executions, messages
from schema.compiled.bound import Bound, bound
from schema.compiled.computed import COMPUTED, Computed, computed_value
from schema.compiled.documents import SOURCES, DocumentField
from schema.compiled.figures import FIGURES, FiguresPlan
from schema.compiled.plan import (
    CLOCK_ROOTS,
    EXECUTION_ROOTS,
    EXECUTION_TYPES,
    ConnectionPlan,
    EdgesPlan,
    Field,
    ListPlan,
    NodePlan,
    ObjectPlan,
    Relation,
    RootPlan,
    Typename,
)
from schema.compiled.reading import NotCompilableError
from schema.compiled.render import document_site, render

# Relations to one row: its class, and the parent's column holding its id. The row is looked
# up within the principal's organization and under what else its loader asks of a row
# (`Binder.visible`), as the loaders look up rows by id (`SqlRowByIdLoader`,
# `ProjectByIdLoader`); deleted agents too: an execution still shows the agent that ran.
_TO_ONE: dict[str, tuple[Any, str]] = {
    "Agent.owner": (sql.User, "owner_id"),
    "Execution.agent": (sql.Agent, "agent_id"),
    "Execution.startedBy": (sql.User, "started_by_id"),
    "Approval.decidedBy": (sql.User, "decided_by_id"),
    "Approval.execution": (sql.Execution, "execution_id"),
    "Conversation.agent": (sql.Agent, "agent_id"),
    "Conversation.user": (sql.User, "user_id"),
    "Conversation.project": (sql.Project, "project_id"),
    "Conversation.parent": (sql.Conversation, "parent_id"),
    "Project.owner": (sql.User, "owner_id"),
}
# Relations to a list of rows: its class, its column holding the parent's id, and its order
# (the names of its columns to sort by, its loader's: `ApprovalsByExecutionLoader`).
_TO_MANY: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "Execution.approvals": (
        sql.Approval,
        "execution_id",
        tuple(column.key for column in APPROVALS_ORDER),
    ),
}
# Lists of users named by an array column of the parent, in its order, those not found left
# out (`Approval.approvers`: the loader's `load_many`).
_NAMED_USERS: dict[str, str] = {"Approval.approvers": "approvers"}
# A parent's conversations: the request's loader of them, whose terms, order and parent
# column the statement takes (`_ConversationPageLoader`: one definition, two uses).
_CONVERSATIONS: dict[str, str] = {
    "Agent.conversations": "conversation_page_by_agent",
    "Project.conversations": "conversation_page_by_project",
    "User.conversations": "conversation_page_by_user",
}
# The fields with resolvers that the planner may compile: relations to other rows (see
# `Binder.relation`), MongoDB fields (`schema.compiled.documents`), execution figures
# (`schema.compiled.figures`) and values computed at the request's time
# (`schema.compiled.computed`).
RELATIONS = frozenset(
    {
        *_TO_ONE,
        *_TO_MANY,
        *_NAMED_USERS,
        *_CONVERSATIONS,
        "Agent.executions",
        *messages.RELATIONS,
        *SOURCES,
        *FIGURES,
        *COMPUTED,
    }
)
# Root fields by id: the type they answer.
_BY_ID = {
    "agent": "Agent",
    "execution": "Execution",
    "conversation": "Conversation",
    "project": "Project",
}
_MODELS: dict[str, Any] = {
    "Agent": sql.Agent,
    "Execution": sql.Execution,
    "Conversation": sql.Conversation,
    "Project": sql.Project,
    "User": sql.User,
}
# Root connections: the rows they page over, under their resolvers' terms and order.
_LISTINGS: dict[str, Callable[[Binder, dict[str, Any]], Awaitable[Listing]]] = {
    "agents": executions.agents,
    "executions": executions.executions,
    "conversations": conversations.conversations,
    "projects": conversations.projects,
    "pendingApprovals": approvals.pending,
}
ROOTS = frozenset({*_LISTINGS, "node", *_BY_ID})
# Root connections: their cursor is bound when their statement runs.
CONNECTION_ROOTS = frozenset(_LISTINGS)
# The row of a root field by id, bound when its statement runs (`Binder.row` reads it).
ROW_ID: BindParameter[uuid.UUID] = bindparam("row_id", type_=Uuid)


class Binder:
    """Builds the statement of one root field for one request."""

    def __init__(
        self,
        executor: Any,
        info: Any,
        principal: Principal,
        max_page_size: int,
    ) -> None:
        self.executor = executor
        self.info = info
        self.principal = principal
        self.max_page_size = max_page_size
        # False when the statement holds data read while building it (the ids of agents with
        # a flowchart, from MongoDB): it may then not be reused.
        self.cacheable = True
        # True when it holds the principal's own user id (a member's conversations): it may
        # be reused for that user only.
        self.per_user = False
        # The MongoDB fields the statement leaves a place for, by the number its places
        # name them by (`schema.compiled.sites`), and those numbers by the field's id.
        self.documents: list[DocumentField] = []
        self._document_numbers: dict[int, int] = {}

    def arguments(self, field_def: Any, details: Any) -> dict[str, Any]:
        """The field's arguments as its resolver receives them: Python names, input objects
        as their Strawberry classes (Strawberry's own conversion)."""
        executor = self.executor
        raw = get_argument_values(
            field_def,
            details.node,
            executor.variable_values,
            details.fragment_variable_values,
            executor.hide_suggestions,
        )
        strawberry_schema = executor.schema._strawberry_schema
        return convert_arguments(
            raw,
            field_def.extensions["strawberry-definition"].arguments,
            scalar_registry=strawberry_schema.schema_converter.scalar_registry,
            config=strawberry_schema.config,
        )

    def row(self, plan: RootPlan) -> tuple[str, uuid.UUID] | None:
        """The type and id of the row a root field by id asks for (None for another root
        field), checked as its resolver checks them (`parse_id`: a `BadInputError`)."""
        if isinstance(plan.target, NodePlan):
            return from_global_id(self.arguments(plan.field_def, plan.details)["id"])
        type_name = _BY_ID.get(plan.field_name)
        if type_name is None or not isinstance(plan.target, ObjectPlan):
            return None
        return type_name, parse_id(self.arguments(plan.field_def, plan.details)["id"], type_name)

    async def root(self, plan: RootPlan) -> Bound:
        target, row = plan.target, self.row(plan)
        if row is not None:
            type_name = row[0]
            chosen = dict(target.by_type).get(type_name) if isinstance(target, NodePlan) else target
            if not isinstance(chosen, ObjectPlan):  # another type, or one that does not compile
                raise NotCompilableError(f"node of a {type_name}")
            statement = self._inlined(self._by_id(type_name, chosen))
            return bound(
                statement,
                chosen,
                self.documents,
                executions=type_name in EXECUTION_TYPES,
                row=True,
            )
        if isinstance(target, NodePlan):  # `row` reads every `node(id)`
            raise TypeError("node(id) without an id")
        statement, sort = await self._statement(plan)
        name = plan.field_name
        return bound(
            self._inlined(statement),
            target,
            self.documents,
            executions=name in EXECUTION_ROOTS,
            clock=name in CLOCK_ROOTS,
            cursor=sort,
        )

    def _inlined(self, statement: Select[Any]) -> Select[Any]:
        return organization_inlined(statement, self.principal.organization_id)

    def _by_id(self, type_name: str, target: ObjectPlan) -> Select[Any]:
        """`agent(id)`, `execution(id)`, `conversation(id)`, `project(id)` and `node(id)` of
        those (and of a user): the one row or null. The id is a parameter (`ROW_ID`), bound
        at every run: one statement serves every id of the type."""
        organization = self.principal.organization_id
        model = _MODELS[type_name]

        def matches(table: FromClause) -> list[ColumnElement[bool]]:
            terms = [table.c.id == ROW_ID, table.c.organization_id == organization]
            if model is sql.Agent:  # a deleted agent is not found (`agent_by_id`)
                terms.append(table.c.deleted_at.is_(None))
            return terms + self.visible(model, table)

        statements.new_statement()
        return select(statements.to_one(model, self.object_json(target), matches).label("data"))

    def visible(self, model: Any, table: FromClause) -> list[ColumnElement[bool]]:
        """What else than its organization a row of `model` must satisfy for the principal
        to see it, as its loader asks: executions of readable workflows, projects that are
        not deleted, conversations of the principal's own or shared in them."""
        principal = self.principal
        if model is sql.Execution:
            return [execution_visible(principal, table)]
        adapter = ClauseAdapter(table)
        if model is sql.Project:
            return [adapter.traverse(term) for term in visible_projects(principal)]
        if model is sql.Conversation:
            self.names_the_user()
            return [adapter.traverse(term) for term in visible_conversations(principal)]
        return []

    def names_the_user(self) -> None:
        """A member's conversations are told apart by their user id, which the statement
        holds: it serves that user alone, and is kept for them alone."""
        if not is_admin(self.principal):
            self.per_user = True

    async def _statement(self, plan: RootPlan) -> tuple[Select[Any], SortKey | None]:
        """A root connection's statement, and the sort key its cursor is parsed by when it
        runs (None without a cursor)."""
        args = self.arguments(plan.field_def, plan.details)
        if not isinstance(plan.target, ConnectionPlan):
            raise TypeError(f"{plan.field_name} is not a connection")
        page = self.page(args)
        listing = await _LISTINGS[plan.field_name](self, args)
        statement = statements.root_connection(self.shape(plan.target), listing, page)
        return statement, listing.sort if page.cursor is not None else None

    def page(self, args: dict[str, Any]) -> PageRequest:
        return PageRequest.from_arguments(
            args.get("first"),
            args.get("after"),
            args.get("last"),
            args.get("before"),
            max_size=self.max_page_size,
        )

    def cursor(self, plan: RootPlan, sort: SortKey) -> dict[str, Any]:
        """This request's cursor of a root connection, as its statement takes it."""
        return statements.cursor_values(
            sort, self.page(self.arguments(plan.field_def, plan.details))
        )

    def shape(self, plan: ConnectionPlan) -> ConnectionShape:
        """What a connection's selection asks for, its nodes' JSON built by this binder."""
        parts: list[tuple[str, Any]] = []
        for key, part in plan.parts:
            if isinstance(part, EdgesPlan):
                node = self.object_json(part.node) if part.node is not None else None
                parts.append((key, Edges(part.parts, node)))
            else:
                parts.append((key, part))
        return ConnectionShape(tuple(parts))

    def object_json(
        self, plan: ObjectPlan | ConnectionPlan | ListPlan
    ) -> Callable[[FromClause], Expression]:
        """The JSON object of the plan's fields, built from a row of the given table."""
        if not isinstance(plan, ObjectPlan):
            raise TypeError("expected an object plan")

        def build(table: FromClause) -> Expression:
            return json_object([(key, self._field(f, table, plan)) for key, f in plan.fields])

        return build

    def _field(self, field: Field, table: FromClause, parent: ObjectPlan) -> Expression:
        if isinstance(field, Typename):
            return lit(field.name)
        if isinstance(field, FiguresPlan):
            return executions.figures(self.principal, field, table)
        if isinstance(field, DocumentField):
            return document_site(field, self._document_number(field), table)
        if isinstance(field, Computed):
            return computed_value(field, table)
        if isinstance(field, Relation):
            return self.relation(field, table)
        return (
            global_id(parent.type_name, table.c.id)
            if field.render == "id"
            else render(table.c, field)
        )

    def _document_number(self, field: DocumentField) -> int:
        number = self._document_numbers.get(id(field))
        if number is None:
            number = self._document_numbers[id(field)] = len(self.documents)
            self.documents.append(field)
        return number

    def relation(self, relation: Relation, parent: FromClause) -> Expression:
        organization = self.principal.organization_id
        path, target = relation.path, relation.target
        if path in _TO_ONE:
            model, column = _TO_ONE[path]
            return statements.to_one(
                model,
                self.object_json(target),
                lambda t: [
                    t.c.id == parent.c[column],
                    t.c.organization_id == organization,
                    *self.visible(model, t),
                ],
            )
        if path in _TO_MANY and isinstance(target, ListPlan):
            model, column, order = _TO_MANY[path]
            return statements.to_many(
                model,
                self.object_json(target.item),
                lambda t: [
                    t.c[column] == parent.c.id,
                    t.c.organization_id == organization,
                    *self.visible(model, t),
                ],
                lambda t: [t.c[name] for name in order],
            )
        if path in _NAMED_USERS and isinstance(target, ListPlan):
            return approvals.named_users(self, _NAMED_USERS[path], target, parent)
        if path in messages.RELATIONS:
            return messages.relation(self, relation, parent)
        if path in _CONVERSATIONS and isinstance(target, ConnectionPlan):
            loader_name = _CONVERSATIONS[path]
            return conversations.nested_conversations(self, relation, loader_name, target, parent)
        if path == "Agent.executions" and isinstance(target, ConnectionPlan):
            return executions.agent_executions(self, relation, target, parent)
        raise TypeError(f"no compiled form of {path}")
