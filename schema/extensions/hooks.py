"""The extensions' hooks, wrapped as Strawberry wraps them, but found once per class.

For every operation Strawberry builds four context managers (operation, parse, validate,
execute) and asks each extension of each whether it has that hook: `inspect` on the method,
then `contextlib.contextmanager` around a bound method, which copies the function's
metadata. With eight extensions that was 32 lookups and ten wrappers per request, about 7%
of the CPU of `{ __typename }` (issue 16: the fixed cost per request). Here the kind of each
class's hook and its wrapper are found once; each request only binds its own extension
instance. What runs, in which order, with which exceptions, is Strawberry's: a hook that is
a plain (async) function rather than a generator is left to Strawberry's own wrapping."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema import Schema
from strawberry.types import ExecutionContext

# (extension class, hook name) -> None (no hook), the wrapper and whether it is async, or
# `_STRAWBERRY` (a plain function: Strawberry wraps it per request, as before).
_Wrapper = tuple[Callable[..., Any], bool]
_STRAWBERRY = "strawberry"
_wrappers: dict[tuple[type[SchemaExtension], str], _Wrapper | str | None] = {}


def _wrapper(cls: type[SchemaExtension], name: str) -> _Wrapper | str | None:
    hook = getattr(cls, name)
    if hook is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return _STRAWBERRY


class _Cached(ExtensionContextManagerBase):
    __slots__ = ()

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        key = (type(extension), self.HOOK_NAME)
        if key not in _wrappers:
            _wrappers[key] = _wrapper(*key)
        found = _wrappers[key]
        if found is None:
            return None
        if isinstance(found, str):
            return super().get_hook(extension)
        wrap, is_async = found
        # `wrap(extension)` is what Strawberry's `contextmanager(MethodType(hook, ext))()` is.
        return WrappedHook(extension=extension, hook=partial(wrap, extension), is_async=is_async)


class _Operation(_Cached, OperationContextManager):
    pass


class _Validation(_Cached, ValidationContextManager):
    pass


class _Parsing(_Cached, ParsingContextManager):
    pass


class _Executing(_Cached, ExecutingContextManager):
    pass


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner with the hooks of each phase found once per extension class."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)


class FlowgateSchema(Schema):
    """The schema, running its extensions through `CachedHooksRunner`."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)
