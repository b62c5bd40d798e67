"""The execution-context hook: graphql-core runs the operation as always (after Strawberry's
persisted queries, limits and validation; with its extensions for masking, request ids,
round trips, tracing and metrics around it), and a root query field that the planner can
compile is answered by one SQL statement instead of field by field.

A root field falls back to its resolvers, transparently, when compiled execution is off, when
its selection cannot be compiled, when the request may not read it (its permission classes
say no), or when binding raises (a bad argument: the resolver reports it as it always does;
anything else is logged, then the resolver answers). The same when a MongoDB field's
document cannot be rendered as the resolvers would (they then report the error) or MongoDB
fails (they then answer the rest of the field and report it on the paths that need it)."""

from __future__ import annotations

import inspect
import uuid
from datetime import datetime
from typing import Any

import orjson
import structlog
from graphql import FragmentDefinitionNode, GraphQLObjectType, OperationType, is_non_null_type
from graphql.execution.collect_fields import FieldDetails, collect_fields
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from models.sql import base
from resolvers.compiled import clock, figures
from resolvers.compiled.cache import BoundedCache
from resolvers.compiled.run import fetch_json, fetch_json_text
from resolvers.compiled.visibility import parameters
from resolvers.context import Context
from resolvers.errors import ClientError
from schema.compiled import prepared
from schema.compiled.bind import CONNECTION_ROOTS, RELATIONS, ROOTS, ROW_ID, Binder
from schema.compiled.bound import Bound
from schema.compiled.plan import Planner, RootPlan
from schema.compiled.reading import NotCompilableError, strawberry_fields
from schema.compiled.stitch import stitch
from schema.compiled.variables import (
    CURSOR_ARGUMENTS,
    argument_variables,
    id_variable,
    variable_reads,
)

log = structlog.get_logger("flowgate.compiled")

TYPENAME = "__typename"
# What `_compiled_answer` returns when the resolvers must answer the field instead.
FALLBACK: Any = object()
PLAN_CACHE_SIZE = 512
# An operation whose root field cannot be compiled is remembered as such: no replanning.
_NOT_COMPILABLE = "not compilable"
plans: BoundedCache[RootPlan | str] = BoundedCache(PLAN_CACHE_SIZE)
STATEMENT_CACHE_SIZE = 1024
# A marker in `built`: the statement is kept per user (see `_compiled_answer`).
_PER_USER = "per user"
built: BoundedCache[Bound | str] = BoundedCache(STATEMENT_CACHE_SIZE)
# (text, operation name, variable) -> how many times the operation reads the variable.
_variable_reads: BoundedCache[int] = BoundedCache(PLAN_CACHE_SIZE)


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # Whether every root field so far was answered compiled (or is `__typename`): an
    # operation answered so without errors is remembered for the prepared path.
    fully_compiled = True
    # The request's time, for fields computed at it: read once, on first need.
    _now: datetime | None = None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> Any:
        if path.prev is None:
            if self._compiles(parent_type):
                key = self._cache_key(field_details_list)
                plan = self._plan(key, parent_type, field_details_list)
                if plan is not None:
                    return self._execute_compiled(
                        key, plan, parent_type, source, field_details_list, path, position_context
                    )
            if field_details_list[0].node.name.value != TYPENAME:
                self.fully_compiled = False
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def build_response(self, data: dict[str, Any] | None) -> Any:
        if (
            self.fully_compiled
            and data is not None
            and not self.collected_errors.errors
            and self.schema.query_type is not None
            and self._compiles(self.schema.query_type)  # a query, signed in, compiling
        ):
            prepared.remember(self.operation, self.context_value.principal.role)
        return super().build_response(data)

    async def answer_prepared(self) -> dict[str, Any] | None:
        """The operation's data with every root field compiled, for the prepared path; None
        when one of them cannot be (the full path then answers, with its errors if any).
        Nothing is written: a query that gives up half way is only read twice."""
        root_type = self.schema.query_type
        if root_type is None or not self._compiles(root_type):
            return None
        grouped, _, _ = collect_fields(
            self.schema,
            self.fragments,
            self.variable_values,
            root_type,
            self.operation,
            self.hide_suggestions,
        )
        planned: list[tuple[str, tuple[Any, ...], RootPlan, list[FieldDetails]]] = []
        data: dict[str, Any] = {}
        for response_key, details in grouped.items():
            if details[0].node.name.value == TYPENAME:
                continue
            key = self._cache_key(details)
            plan = self._plan(key, root_type, details)
            if plan is None:
                return None
            planned.append((response_key, key, plan, details))
        answers = {}
        for response_key, key, plan, details in planned:
            path = Path(None, response_key, root_type.name)
            answer = await self._compiled_answer(key, plan, root_type, None, details, path)
            field = root_type.fields[plan.field_name]
            if answer is FALLBACK or (answer is None and is_non_null_type(field.type)):
                return None
            answers[response_key] = answer
        # The answer's keys in the document's order, as graphql-core gives them.
        for response_key in grouped:
            data[response_key] = answers.get(response_key, root_type.name)
        return data

    def _compiles(self, parent_type: GraphQLObjectType) -> bool:
        context = self.context_value
        return (
            self.operation.operation is OperationType.QUERY
            and parent_type is self.schema.query_type
            and isinstance(context, Context)
            and context.authenticated
            and context.services.settings.compiled_execution
        )

    def _plan(
        self, key: tuple[Any, ...], parent_type: GraphQLObjectType, details: list[FieldDetails]
    ) -> RootPlan | None:
        name = details[0].node.name.value
        if name not in ROOTS:
            return None
        cached = plans.get(key)
        if cached is None:
            try:
                cached = Planner(self, RELATIONS).root(parent_type.fields[name], details)
            except NotCompilableError as reason:
                log.debug("not compiled", field=name, reason=str(reason))
                cached = _NOT_COMPILABLE
            except Exception:  # a planner bug must not fail the request: the resolvers answer
                log.warning("planning failed; answered by the resolvers", exc_info=True)
                cached = _NOT_COMPILABLE
            plans.put(key, cached)
        return cached if isinstance(cached, RootPlan) else None

    def _cache_key(self, details: list[FieldDetails]) -> tuple[Any, ...]:
        operation = self.operation
        # No text to key on: key on the node itself (this request's only).
        source = operation.loc.source.body if operation.loc is not None else id(operation)
        coerced = self.variable_values.coerced
        flags = tuple(sorted((k, v) for k, v in coerced.items() if isinstance(v, bool)))
        role = self.context_value.principal.role
        response_key = details[0].node.alias or details[0].node.name
        return (
            source,
            operation.name.value if operation.name else None,
            role,
            flags,
            getattr(response_key, "value", response_key),
            len(details),
        )

    async def _execute_compiled(
        self,
        key: tuple[Any, ...],
        plan: RootPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        details: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> Any:
        answer = await self._compiled_answer(key, plan, parent_type, source, details, path)
        if answer is not FALLBACK:
            return answer
        self.fully_compiled = False
        result = super().execute_field(parent_type, source, details, path, position_context)
        return await result if self.is_awaitable(result) else result

    async def _compiled_answer(
        self,
        key: tuple[Any, ...],
        plan: RootPlan,
        parent_type: GraphQLObjectType,
        source: Any,
        details: list[FieldDetails],
        path: Path,
    ) -> Any:
        """The root field's answer from its compiled statement, or `FALLBACK` when its
        resolvers must answer it (they report what went wrong, as always)."""
        field_def = parent_type.fields[plan.field_name]
        info = self.build_resolve_info(field_def, [d.node for d in details], parent_type, path)
        context: Context = self.context_value
        try:
            if not await self._permitted(parent_type, plan.field_name, source, info):
                return FALLBACK
            services, principal = context.services, context.principal
            binder = Binder(self, info, principal, services.settings.max_page_size)
            row = binder.row(plan)  # a root field by id: its type and id (checked)
            # The same operation with the same variables, for the same organization, is
            # the same statement: built once (building costs more than running it), run
            # with fresh data and the request's readable workflows every time. A field by
            # id takes its id when it runs: every id of a type shares one statement.
            # A statement that names its user (a member's conversations) is kept under the
            # user's id as well: the organization's entry says so.
            variables = self._variables_key(plan, details, row)
            statement_key: tuple[Any, ...] = (key, variables, principal.organization_id)
            bound = built.get(statement_key)
            if bound is _PER_USER:
                statement_key += (principal.user_id,)
                bound = built.get(statement_key)
            if not isinstance(bound, Bound):
                bound = await binder.root(plan)
                if binder.cacheable and binder.per_user:
                    built.put(statement_key[:3], _PER_USER)
                    built.put((*statement_key[:3], principal.user_id), bound)
                elif binder.cacheable:
                    built.put(statement_key, bound)
            values = await self._run_values(bound, binder, plan, row)
            # JSON text, when nothing reads the answer but orjson (an HTTP or websocket
            # answer); MongoDB values are spliced into it as text.
            encoded = context.json_answers
            if not bound.documents:
                return await fetch_json(services.postgres, bound.statement, values, encoded=encoded)
            text = await fetch_json_text(services.postgres, bound.statement, values)
            if text is None:
                return None
            text = await stitch(bound.documents, text, context.loaders)
            return orjson.Fragment(text) if encoded else orjson.loads(text)
        except ClientError:
            pass  # the resolver raises it again, and reports it as always
        except NotCompilableError as reason:  # known once bound: `node(id)` of another type
            log.debug("not compiled", field=plan.field_name, reason=str(reason))
        except Exception:
            log.warning("compiled execution failed; answered by the resolvers", exc_info=True)
        return FALLBACK

    async def _run_values(
        self, bound: Bound, binder: Binder, plan: RootPlan, row: tuple[str, uuid.UUID] | None
    ) -> dict[str, Any]:
        """What this request binds to the statement's run-time parameters."""
        context: Context = self.context_value
        # A plan that reads no executions binds no ids; if it did read them after all,
        # the missing value fails the statement (and the resolvers answer): closed.
        values = (
            await parameters(context.loaders, context.principal) if bound.reads_executions else {}
        )
        if bound.figures:
            values |= figures.parameters()
        if bound.clock:
            values |= clock.parameters(self._request_time())
        if bound.row and row is not None:
            values[ROW_ID.key] = row[1]
        if bound.cursor is not None:  # this request's cursor, checked as at build
            values |= binder.cursor(plan, bound.cursor)
        return values

    def _request_time(self) -> datetime:
        """The time every field computed at the request's time is computed at, in every
        root field of the answer; read from `base.utcnow`, as the resolvers read it."""
        if self._now is None:
            self._now = base.utcnow()
        return self._now

    def _variables_key(
        self, plan: RootPlan, details: list[FieldDetails], row: tuple[str, uuid.UUID] | None
    ) -> bytes:
        """The variables a statement is kept by. Those its statement takes when it runs
        count by what shapes the statement only: the id of a field by id by its type, a
        root connection's cursor by whether there is one. Only when nothing else in the
        operation reads the variable (a statement built with its value elsewhere must not
        serve another value)."""
        variables = self.variable_values.coerced
        node = details[0].node
        shaped: dict[str, Any] = {}
        if row is not None:
            name = id_variable(node)
            if name is not None:
                shaped[name] = row[0]
        if plan.field_name in CONNECTION_ROOTS:
            for name in argument_variables(node, CURSOR_ARGUMENTS):
                shaped[name] = "a cursor" if variables.get(name) is not None else None
        kept = {name: value for name, value in shaped.items() if self._reads_once(name)}
        if kept:
            variables = {**variables, **kept}
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS, default=repr)

    def _fragment_definitions(self) -> list[FragmentDefinitionNode]:
        return [fragment.definition for fragment in self.fragments.values()]

    def _reads_once(self, name: str) -> bool:
        operation = self.operation
        if operation.loc is None:  # built in code: counted every time
            return variable_reads(operation, self._fragment_definitions(), name) == 1
        key = (operation.loc.source.body, operation.name.value if operation.name else None, name)
        reads = _variable_reads.get(key)
        if reads is None:
            reads = variable_reads(operation, self._fragment_definitions(), name)
            _variable_reads.put(key, reads)
        return reads == 1

    @staticmethod
    async def _permitted(parent_type: GraphQLObjectType, name: str, source: Any, info: Any) -> bool:
        for permission in strawberry_fields(parent_type)[name].permission_classes:
            allowed = permission().has_permission(source, info)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                return False
        return True
