"""The extensions' hooks, run as Strawberry runs them, but planned once per list of classes.

For every operation Strawberry builds four context managers (operation, parse, validate,
execute); each asks every extension whether it has that hook (`inspect` on the method, then
`contextlib.contextmanager` around a bound method, which copies the function's metadata) and
enters the hooks found through an `AsyncExitStack`. With eight extensions that was 32 lookups,
ten wrappers and four exit stacks per request, about a fifth of the CPU of `{ __typename }`
(issue 16: the fixed cost per request). Here the hooks of each phase are found once per list
of extension classes (a plan); each request only makes its ten generator context managers
and enters them in order. When nothing raises, they are exited in reverse order directly;
once something raises, the hooks still open are unwound by an `AsyncExitStack`, exactly as
Strawberry unwinds them. At the end, only the extensions whose class has `get_results` are
asked for their results (the base class's is empty). What runs, in which order, with which
exceptions, is Strawberry's:
a hook that is a plain (async) function rather than a generator makes its class's phases
Strawberry's own, and so does the synchronous path (`execute_sync`)."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema import Schema
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.utils.await_maybe import await_maybe

from schema.extensions.masking import mask_escaped, masked

# One hook of a phase: the extension's index in the list, the context manager factory
# (`contextlib.contextmanager` of the class's generator function) and whether it is async.
_Step = tuple[int, Callable[[SchemaExtension], Any], bool]
# (extension classes, hook name) -> the hooks of that phase in order, or None when one of
# them is a plain function (then Strawberry's own context manager runs the phase).
_plans: dict[tuple[tuple[type[SchemaExtension], ...], str], tuple[_Step, ...] | None] = {}
# (extension classes, "get_results") -> the indices of those that override `get_results`.
_results: dict[tuple[tuple[type[SchemaExtension], ...], str], tuple[int, ...]] = {}


def _plan(classes: tuple[type[SchemaExtension], ...], name: str) -> tuple[_Step, ...] | None:
    steps: list[_Step] = []
    for index, cls in enumerate(classes):
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            continue
        if inspect.isgeneratorfunction(hook):
            steps.append((index, contextlib.contextmanager(hook), False))
        elif inspect.isasyncgenfunction(hook):
            steps.append((index, contextlib.asynccontextmanager(hook), True))
        else:
            return None
    return tuple(steps)


class _Planned(ExtensionContextManagerBase):
    """One phase's hooks, entered in order and exited in reverse, as Strawberry's
    `AsyncExitStack` does; Strawberry's own base class only for the synchronous path."""

    def __init__(  # Strawberry's `__init__` (finding the hooks) runs only if `__enter__` does
        self, extensions: list[SchemaExtension], steps: tuple[_Step, ...]
    ) -> None:
        self._extensions = extensions
        self._steps = steps
        self._open: list[tuple[Any, bool]] = []

    async def __aenter__(self) -> None:
        extensions, opened = self._extensions, self._open
        for index, make, is_async in self._steps:
            manager = make(extensions[index])
            if is_async:
                await manager.__aenter__()
            else:
                manager.__enter__()
            opened.append((manager, is_async))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        opened = self._open
        if exc_val is None:
            while opened:
                manager, is_async = opened[-1]
                try:
                    if is_async:
                        await manager.__aexit__(None, None, None)
                    else:
                        manager.__exit__(None, None, None)
                except BaseException as error:
                    opened.pop()
                    # The ones still open see the error, as in an exit stack; Strawberry
                    # ignores whether the stack suppressed it, and so does this.
                    if not await self._unwind(type(error), error, error.__traceback__):
                        raise
                    return
                opened.pop()
            return
        await self._unwind(exc_type, exc_val, exc_tb)

    async def _unwind(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool:
        """Exit the hooks still open through an `AsyncExitStack`, as Strawberry does."""
        stack = contextlib.AsyncExitStack()
        for manager, is_async in self._open:
            if is_async:
                stack.push_async_exit(manager)
            else:
                stack.push(manager)
        self._open = []
        return bool(await stack.__aexit__(exc_type, exc_val, exc_tb))

    def __enter__(self) -> None:
        ExtensionContextManagerBase.__init__(self, self._extensions)
        super().__enter__()


class _Operation(_Planned, OperationContextManager):
    pass


class _Validation(_Planned, ValidationContextManager):
    pass


class _Parsing(_Planned, ParsingContextManager):
    pass


class _Executing(_Planned, ExecutingContextManager):
    pass


class PlannedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner with each phase's hooks planned once per list of classes."""

    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension] | None = None
    ) -> None:
        super().__init__(execution_context, extensions)
        self._classes = tuple(type(extension) for extension in self.extensions)

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        # Strawberry awaits-maybe every extension's `get_results`; the base class's is `{}`,
        # so only the classes that override it are asked (in the same order).
        key = (self._classes, "get_results")
        if key not in _results:
            _results[key] = tuple(
                index
                for index, cls in enumerate(self._classes)
                if cls.get_results is not SchemaExtension.get_results
            )
        data: dict[str, Any] = {}
        for index in _results[key]:
            data.update(await await_maybe(self.extensions[index].get_results()))
        data.update(ctx.extensions_results)
        return data

    def _steps(self, name: str) -> tuple[_Step, ...] | None:
        key = (self._classes, name)
        if key not in _plans:
            _plans[key] = _plan(*key)
        return _plans[key]

    def operation(self) -> OperationContextManager:
        steps = self._steps(OperationContextManager.HOOK_NAME)
        if steps is None:
            return super().operation()
        return _Operation(self.extensions, steps)

    def validation(self) -> ValidationContextManager:
        steps = self._steps(ValidationContextManager.HOOK_NAME)
        if steps is None:
            return super().validation()
        return _Validation(self.extensions, steps)

    def parsing(self) -> ParsingContextManager:
        steps = self._steps(ParsingContextManager.HOOK_NAME)
        if steps is None:
            return super().parsing()
        return _Parsing(self.extensions, steps)

    def executing(self) -> ExecutingContextManager:
        steps = self._steps(ExecutingContextManager.HOOK_NAME)
        if steps is None:
            return super().executing()
        return _Executing(self.extensions, steps)


class FlowgateSchema(Schema):
    """The schema, running its extensions through `PlannedHooksRunner`. What escapes the
    masking extension (an extension failing before the operation starts, an exception out
    of a websocket operation's stream) is masked as that extension masks (`mask_escaped`)."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        if result.errors:
            result.errors = mask_escaped(result.errors)
        return result

    async def stream(self, *args: Any, **kwargs: Any) -> StreamResult:
        # What the websocket protocols run (`subscribe` too): Strawberry's handler answered
        # an exception escaping the stream with a bare `complete`, which a client takes for
        # a finished operation.
        return _masked(await super().stream(*args, **kwargs))

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return PlannedHooksRunner(execution_context=execution_context, extensions=extensions)


async def _masked(results: StreamResult) -> StreamResult:
    """`results` with their errors masked as `execute`'s are, and an exception escaping them
    (an extension failing before the operation runs, a bug) ending them as a last, masked
    result: refused before anything was sent, else one more result with the error."""
    started = False
    async with contextlib.aclosing(results):
        try:
            async for result in results:
                # Incremental delivery's patches (not served here) carry no `errors`.
                if isinstance(result, ExecutionResult) and result.errors:
                    result.errors = mask_escaped(result.errors)
                started = True
                yield result
        except Exception as error:
            failed = [masked(error)]
            yield (
                ExecutionResult(data=None, errors=failed)
                if started
                else PreExecutionError(data=None, errors=failed)
            )
