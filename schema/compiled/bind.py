"""A plan plus one request's arguments and principal: the SQL statement of a root field.

Arguments are validated by the same functions the resolvers call (`PageRequest`, the filter
inputs' `to_filter`, `nested_args`, `parse_id`), so a bad argument raises the same
`BadInputError`; the executor then answers that root field through the resolvers, which
report it exactly as they always do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql.execution.values import get_argument_values
from sqlalchemy import ColumnElement, FromClause, Select, Text, case, cast, func, null, select
from sqlalchemy.sql.util import ClauseAdapter
from strawberry.types.arguments import convert_arguments

from flowgate.principal import Principal
from models import sql
from resolvers.access import is_admin
from resolvers.agents import agent_conditions
from resolvers.compiled import figures, statements
from resolvers.compiled.sql import (
    Expression,
    enum_name,
    float_json,
    global_id,
    iso_datetime,
    json_object,
    lit,
)
from resolvers.compiled.statements import ConnectionShape, Edges, Listing
from resolvers.compiled.visibility import execution_visible
from resolvers.conversations.access import visible_conversations, visible_projects
from resolvers.conversations.reads import (
    CONVERSATION_SORT_KEYS,
    DEFAULT_CONVERSATION_ORDER,
    PROJECT_SORT_KEY,
    ConversationFilter,
    conversation_conditions,
    project_conditions,
)
from resolvers.executions import execution_conditions
from resolvers.filters import DEFAULT_EXECUTION_ORDER, AgentFilter, AgentOrderField, Ordering
from resolvers.ids import from_global_id, parse_id
from resolvers.loaders.conversations import WindowArgs
from resolvers.pagination import PageRequest
from resolvers.sorting import AGENT_SORT_KEYS, EXECUTION_SORT_KEYS
from resolvers.sql_pages import SortKey
from schema.compiled import messages
from schema.compiled.documents import SOURCES, DocumentField
from schema.compiled.figures import FIGURES, FiguresPlan
from schema.compiled.plan import (
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
    has_documents,
    has_figures,
    reaches_executions,
)
from schema.compiled.reading import NotCompilableError, Scalar
from schema.connection import page_request
from schema.filters import ExecutionFilter, filter_of, ordering_of
from schema.nested import nested_args

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
# (`ApprovalsByExecutionLoader`: every approval of the execution, oldest request first).
_TO_MANY: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "Execution.approvals": (sql.Approval, "execution_id", ("requested_at", "id")),
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
# `Binder.relation`), MongoDB fields (`schema.compiled.documents`) and execution figures
# (`schema.compiled.figures`).
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
ROOTS = frozenset({"agents", "executions", "conversations", "projects", "node", *_BY_ID})


@dataclass(frozen=True)
class Bound:
    """A root field's statement and what running it takes: the readable workflows' ids
    (when it reads executions), the start of the last 24 hours (when it computes figures)
    and the plan of what it answers (to stitch MongoDB fields into; for `node(id)`, the plan
    of the id's type)."""

    statement: Select[Any]
    target: ObjectPlan | ConnectionPlan
    reads_executions: bool
    documents: bool
    figures: bool


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

    async def root(self, plan: RootPlan) -> Bound:
        target = plan.target
        if isinstance(target, NodePlan):
            type_name, row_id = from_global_id(self.arguments(plan.field_def, plan.details)["id"])
            chosen = dict(target.by_type).get(type_name)
            if chosen is None:  # another type, or one whose selection does not compile
                raise NotCompilableError(f"node of a {type_name}")
            statement = self._by_id(type_name, row_id, chosen)
            reads = type_name in EXECUTION_TYPES or reaches_executions(chosen)
            return Bound(statement, chosen, reads, has_documents(chosen), has_figures(chosen))
        statement = await self._statement(plan)
        reads = plan.field_name in EXECUTION_ROOTS or reaches_executions(target)
        return Bound(statement, target, reads, has_documents(target), has_figures(target))

    def _by_id(self, type_name: str, row_id: uuid.UUID, target: ObjectPlan) -> Select[Any]:
        """`agent(id)`, `execution(id)`, `conversation(id)`, `project(id)` and `node(id)` of
        those (and of a user): the one row or null."""
        organization = self.principal.organization_id
        model = _MODELS[type_name]

        def matches(table: FromClause) -> list[ColumnElement[bool]]:
            terms = [table.c.id == row_id, table.c.organization_id == organization]
            if model is sql.Agent:  # a deleted agent is not found (`agent_by_id`)
                terms.append(table.c.deleted_at.is_(None))
            return terms + self.visible(model, table)

        statements.new_statement()
        return select(statements.to_one(model, self._object(target), matches).label("data"))

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
            self._names_the_user()
            return [adapter.traverse(term) for term in visible_conversations(principal)]
        return []

    def _names_the_user(self) -> None:
        """A member's conversations are told apart by their user id, which the statement
        holds: it serves that user alone, and is kept for them alone."""
        if not is_admin(self.principal):
            self.per_user = True

    async def _statement(self, plan: RootPlan) -> Select[Any]:
        args = self.arguments(plan.field_def, plan.details)
        organization = self.principal.organization_id
        if plan.field_name in _BY_ID and isinstance(plan.target, ObjectPlan):
            type_name = _BY_ID[plan.field_name]
            return self._by_id(type_name, parse_id(args["id"], type_name), plan.target)
        if not isinstance(plan.target, ConnectionPlan):
            raise TypeError(f"{plan.field_name} is not a connection")
        page = PageRequest.from_arguments(
            args.get("first"),
            args.get("after"),
            args.get("last"),
            args.get("before"),
            max_size=self.max_page_size,
        )
        order = args.get("order_by")
        filter_input = args.get("filter")
        if plan.field_name == "agents":
            agent_filter = filter_input.to_filter() if filter_input else AgentFilter()
            self.cacheable = agent_filter.has_flowchart is None
            ordering = order.to_ordering() if order else None
            field = ordering.field if ordering else AgentOrderField.CREATED_AT
            listing = Listing(
                sql.Agent,
                await agent_conditions(self.info, agent_filter),
                AGENT_SORT_KEYS[field],
                ordering.descending if ordering else True,
            )
        elif plan.field_name == "projects":
            statuses = args.get("status")
            listing = Listing(
                sql.Project,
                project_conditions(self.info, tuple(statuses) if statuses is not None else None),
                PROJECT_SORT_KEY,
                True,  # `reads.list_projects`: last updated first
            )
        elif plan.field_name == "conversations":
            # As `reads.list_conversations` lists them.
            conversation_filter = filter_of(filter_input) or ConversationFilter()
            conversation_order = ordering_of(order) or DEFAULT_CONVERSATION_ORDER
            self._names_the_user()
            listing = Listing(
                sql.Conversation,
                conversation_conditions(self.info, conversation_filter),
                CONVERSATION_SORT_KEYS[conversation_order.field],
                conversation_order.descending,
            )
        else:
            execution_filter = (filter_input or ExecutionFilter()).to_filter()
            execution_order = order.to_ordering() if order else DEFAULT_EXECUTION_ORDER
            conditions = execution_conditions(organization, execution_filter)
            listing = self._executions(conditions, execution_order)
        return statements.root_connection(self._shape(plan.target), listing, page)

    def _executions(self, conditions: list[Any], ordering: Ordering[Any]) -> Listing:
        """Executions under the resolvers' terms, and only those the principal may see."""
        principal = self.principal
        return Listing(
            sql.Execution,
            conditions,
            EXECUTION_SORT_KEYS[ordering.field],
            ordering.descending,
            [lambda table: execution_visible(principal, table)],
        )

    def _shape(self, plan: ConnectionPlan) -> ConnectionShape:
        parts: list[tuple[str, Any]] = []
        for key, part in plan.parts:
            if isinstance(part, EdgesPlan):
                node = self._object(part.node) if part.node is not None else None
                parts.append((key, Edges(part.parts, node)))
            else:
                parts.append((key, part))
        return ConnectionShape(tuple(parts))

    def _object(
        self, plan: ObjectPlan | ConnectionPlan | ListPlan
    ) -> Callable[[FromClause], Expression]:
        if not isinstance(plan, ObjectPlan):
            raise TypeError("expected an object plan")

        def build(table: FromClause) -> Expression:
            return json_object([(key, self._field(f, table, plan)) for key, f in plan.fields])

        return build

    def _field(self, field: Field, table: FromClause, parent: ObjectPlan) -> Expression:
        if isinstance(field, Typename):
            return lit(field.name)
        if isinstance(field, FiguresPlan):
            return self.figures(field, table)
        if isinstance(field, DocumentField):
            return _document_key(field, table)
        if isinstance(field, Relation):
            return self.relation(field, table)
        if field.render == "id":
            return global_id(parent.type_name, table.c.id)
        return _render(table.c, field)

    def figures(self, plan: FiguresPlan, parent: FromClause) -> Expression:
        """The parent's figures over its executions that the principal may see (the
        loader's terms: `execution_visible` and the parent's key)."""
        principal = self.principal

        def render(values: dict[str, Expression]) -> Expression:
            return json_object(
                [
                    (key, lit(part) if isinstance(part, str) else _render(values, part))
                    for key, part in plan.fields
                ]
            )

        return figures.aggregate(
            render,
            lambda t: [
                execution_visible(principal, t),
                t.c[plan.parent_column] == parent.c.id,
            ],
        )

    def relation(self, relation: Relation, parent: FromClause) -> Expression:
        organization = self.principal.organization_id
        path, target = relation.path, relation.target
        if path in _TO_ONE:
            model, column = _TO_ONE[path]
            return statements.to_one(
                model,
                self._object(target),
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
                self._object(target.item),
                lambda t: [
                    t.c[column] == parent.c.id,
                    t.c.organization_id == organization,
                    *self.visible(model, t),
                ],
                lambda t: [t.c[name] for name in order],
            )
        if path in _NAMED_USERS and isinstance(target, ListPlan):
            return statements.named_rows(
                sql.User,
                self._object(target.item),
                parent.c[_NAMED_USERS[path]],
                lambda t: [t.c.organization_id == organization],
            )
        if path in messages.RELATIONS:
            return messages.relation(self, relation, parent)
        if path in _CONVERSATIONS and isinstance(target, ConnectionPlan):
            return self._conversations(relation, _CONVERSATIONS[path], target, parent)
        if path == "Agent.executions" and isinstance(target, ConnectionPlan):
            args = self.arguments(relation.field_def, relation.details)
            nested = nested_args(
                args["first"],
                args.get("filter"),
                args.get("order_by"),
                max_size=self.max_page_size,
                after=args.get("after"),
            )
            conditions = execution_conditions(organization, nested.filter)
            listing = self._executions(conditions, nested.order)
            return statements.nested_connection(
                self._shape(target),
                listing,
                nested.first,
                lambda t: t.c.agent_id == parent.c.id,
                nested.after,
            )
        raise TypeError(f"no compiled form of {path}")

    def _conversations(
        self, relation: Relation, loader_name: str, target: ConnectionPlan, parent: FromClause
    ) -> Expression:
        """A parent's conversations as `nested_conversations` pages them with its loader:
        the first `first` (checked by `page_request`) under the loader's terms and order."""
        args = self.arguments(relation.field_def, relation.details)
        limit = page_request(self.info, args["first"], None).limit
        loader = getattr(self.info.context.loaders, loader_name)
        column, descending = loader.sort(WindowArgs(limit=limit))
        self._names_the_user()
        listing = Listing(
            loader.model,
            loader.conditions(),
            SortKey(column, attrgetter(column.key)),
            descending,
        )
        return statements.nested_connection(
            self._shape(target), listing, limit, lambda t: t.c[loader.parent] == parent.c.id
        )


# How a column is rendered, by the planner's `Scalar.render`.
_RENDER: dict[str, Callable[[Any, Scalar], Expression]] = {
    "plain": lambda column, _: column,
    "datetime": lambda column, _: iso_datetime(column),
    "float": lambda column, field: float_json(column, nullable=field.nullable),
    "enum": lambda column, field: enum_name(column, dict(field.enum_names)),
}


def _document_key(field: DocumentField, table: FromClause) -> Expression:
    """The document's key (and the columns its value takes besides, in an array);
    `schema.compiled.stitch` puts the value in its place."""
    source = field.source
    key: Expression = cast(table.c[source.parent_column], Text)
    if source.needed is not None:
        key = case((source.needed(table), key), else_=null())
    if source.carried:
        return func.json_build_array(key, *(table.c[c] for c in source.carried))
    return key


def _render(values: Any, field: Scalar) -> Expression:
    """`field` rendered from its value among `values` (a table's columns, or figures)."""
    return _RENDER[field.render](values[field.column], field)
