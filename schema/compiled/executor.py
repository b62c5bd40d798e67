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
from typing import Any

import orjson
import structlog
from graphql import GraphQLObjectType, OperationType
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.compiled import figures
from resolvers.compiled.run import fetch_json
from resolvers.compiled.visibility import parameters
from resolvers.context import Context
from resolvers.errors import ClientError
from schema.compiled.bind import RELATIONS, ROOTS, Binder, Bound
from schema.compiled.cache import BoundedCache
from schema.compiled.plan import Planner, RootPlan
from schema.compiled.reading import NotCompilableError, strawberry_fields
from schema.compiled.stitch import stitch

log = structlog.get_logger("flowgate.compiled")

PLAN_CACHE_SIZE = 512
# An operation whose root field cannot be compiled is remembered as such: no replanning.
_NOT_COMPILABLE = "not compilable"
plans: BoundedCache[RootPlan | str] = BoundedCache(PLAN_CACHE_SIZE)
STATEMENT_CACHE_SIZE = 1024
built: BoundedCache[Bound] = BoundedCache(STATEMENT_CACHE_SIZE)


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> Any:
        if path.prev is None and self._compiles(parent_type):
            key = self._cache_key(field_details_list)
            plan = self._plan(key, parent_type, field_details_list)
            if plan is not None:
                return self._execute_compiled(
                    key, plan, parent_type, source, field_details_list, path, position_context
                )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

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
        field_def = parent_type.fields[plan.field_name]
        info = self.build_resolve_info(field_def, [d.node for d in details], parent_type, path)
        context: Context = self.context_value
        try:
            if await self._permitted(parent_type, plan.field_name, source, info):
                services, principal = context.services, context.principal
                # The same operation with the same variables, for the same organization, is
                # the same statement: built once (building costs more than running it), run
                # with fresh data and the request's readable workflows every time.
                statement_key = (key, self._variables_key(), principal.organization_id)
                bound = built.get(statement_key)
                if bound is None:
                    binder = Binder(self, info, principal, services.settings.max_page_size)
                    bound = await binder.root(plan)
                    if binder.cacheable:
                        built.put(statement_key, bound)
                # A plan that reads no executions binds no ids; if it did read them after all,
                # the missing value fails the statement (and the resolvers answer): closed.
                values = (
                    await parameters(context.loaders, principal) if bound.reads_executions else {}
                )
                if bound.figures:
                    values |= figures.parameters()
                answer = await fetch_json(services.postgres.read_engine, bound.statement, values)
                if bound.documents:
                    answer = await stitch(bound.target, answer, context.loaders)
                return answer
        except ClientError:
            pass  # the resolver raises it again, and reports it as always
        except NotCompilableError as reason:  # known once bound: `node(id)` of another type
            log.debug("not compiled", field=plan.field_name, reason=str(reason))
        except Exception:
            log.warning("compiled execution failed; answered by the resolvers", exc_info=True)
        result = super().execute_field(parent_type, source, details, path, position_context)
        return await result if self.is_awaitable(result) else result

    def _variables_key(self) -> bytes:
        return orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS, default=repr)

    @staticmethod
    async def _permitted(parent_type: GraphQLObjectType, name: str, source: Any, info: Any) -> bool:
        for permission in strawberry_fields(parent_type)[name].permission_classes:
            allowed = permission().has_permission(source, info)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                return False
        return True
